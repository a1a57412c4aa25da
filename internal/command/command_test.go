package command

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// expandAll runs a script's words through Expand with env, as a runner would, rendering each
// command as "op ENV=v argv|argv" for comparison.
func expandAll(s Script, env map[string]string) []string {
	lookup := func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	var out []string
	for _, c := range s.Commands {
		var f []string
		if c.Op != "" {
			f = append(f, string(c.Op))
		}
		for _, a := range c.Env {
			v, _ := a.Value.Expand(lookup)
			f = append(f, a.Name+"="+v)
		}
		var argv []string
		for _, w := range c.Args {
			if v, ok := w.Expand(lookup); ok {
				argv = append(argv, v)
			}
		}
		out = append(out, strings.Join(append(f, strings.Join(argv, "|")), " "))
	}
	return out
}

// TestParse: what each accepted form runs, after expansion with PORT=9000, EMPTY="" and NAME unset.
func TestParse(t *testing.T) {
	env := map[string]string{"PORT": "9000", "EMPTY": "", "HOME": "/home/cnb"}
	tests := []struct {
		src  string
		want []string
	}{
		{"gunicorn --bind :$PORT app:app", []string{"gunicorn|--bind|:9000|app:app"}},
		{"gunicorn --bind=0.0.0.0:${PORT}", []string{"gunicorn|--bind=0.0.0.0:9000"}},
		{`python -c 'print("a b")'`, []string{`python|-c|print("a b")`}},
		{`echo "port $PORT" '$PORT' \$PORT`, []string{"echo|port 9000|$PORT|$PORT"}},
		{`echo "${NAME:-anon} x" ${NAME-d} ${EMPTY:-e} ${EMPTY-f}`, []string{"echo|anon x|d|e"}},
		{`echo ${NAME:-${PORT}} "${NAME:-a b}"`, []string{"echo|9000|a b"}},
		{`cmd $NAME "$NAME" ''`, []string{"cmd||"}},
		{`cmd $NAME end`, []string{"cmd|end"}},
		{"a; b", []string{"a", "; b"}},
		{"a && b || c", []string{"a", "&& b", "|| c"}},
		{"a &&\n  b", []string{"a", "&& b"}},
		{"\n# setup\nmigrate\n\nserve # trailing comment\n", []string{"migrate", "; serve"}},
		{"FLASK_ENV=prod A=\"x y\" flask run", []string{"FLASK_ENV=prod A=x y flask|run"}},
		{"A=1; echo $A", []string{"A=1 ", "; echo"}},
		{`"A=1" cmd`, []string{"A=1|cmd"}},
		{`A\=1 cmd`, []string{"A=1|cmd"}},
		{"cmd A=1", []string{"cmd|A=1"}},
		{"cd sub && exec python -m app", []string{"cd|sub", "&& exec|python|-m|app"}},
		{`echo a\ b "c\"d" "e\f" price$`, []string{`echo|a b|c"d|e\f|price$`}},
		{"echo x#y", []string{"echo|x#y"}},
		{"line \\\ncontinued", []string{"line|continued"}},
		{"export PATH=$HOME/bin:$PATH", []string{"export|PATH=/home/cnb/bin:"}},
		{"a;;b", []string{"a", "; b"}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			s, err := Parse(tt.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := expandAll(s, env); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			checkRoundTrip(t, s)
		})
	}
}

// TestParseErrors: what needs a shell is refused with the same words the Node launcher uses.
func TestParseErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"python a.py | tee log", "pipes (|) need a shell"},
		{"server &", "background jobs (&) need a shell"},
		{"run > out.log", "redirections (< >) need a shell"},
		{"run < in", "redirections (< >) need a shell"},
		{"(cd x; run)", "subshells ( ) need a shell"},
		{"echo `date`", "command substitution (`…`) needs a shell"},
		{`echo "$(date)"`, "command substitution $(…) needs a shell"},
		{"echo $(date)", "command substitution $(…) needs a shell"},
		{"rm *.pyc", "glob patterns (*) need a shell; quote the word if it is literal"},
		{"ls ~/x", "~ expansion needs a shell; use $HOME"},
		{"echo $1", "special parameter $1 needs a shell"},
		{"echo $?", "special parameter $? needs a shell"},
		{"echo ${PORT:=8080}", "unsupported parameter expansion ${PORT:=8080}"},
		{"echo ${#PORT}", "unsupported parameter expansion ${#PORT}"},
		{"echo ${PORT", "unterminated ${"},
		{"echo 'abc", "unterminated single quote"},
		{`echo "abc`, "unterminated double quote"},
		{`echo ${A:-"x"}`, "quotes inside ${NAME:-…} need a shell"},
		{"echo ${A:-*}", "glob patterns (*) need a shell"},
		{"&& b", "syntax error near &&"},
		{"a && || b", "syntax error near ||"},
		{"a &&", "syntax error: the command ends with &&"},
		{"", "empty command"},
		{"echo \xff", "not valid UTF-8"},
		{"echo \x00", "NUL byte"},
		{" # only a comment", "empty command"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := Parse(tt.src)
			e, ok := err.(*Error)
			if !ok || !strings.Contains(e.Msg, tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if e.Offset < 0 || e.Offset > len(tt.src) {
				t.Errorf("offset %d outside the command", e.Offset)
			}
		})
	}
}

// TestArgv: only a single plain command runs without the runner.
func TestArgv(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"gunicorn -w 2 'app:create_app()'", []string{"gunicorn", "-w", "2", "app:create_app()"}},
		{"python server.py", []string{"python", "server.py"}},
		{"gunicorn --bind :$PORT app:app", nil},
		{"A=1 python server.py", nil},
		{"a && b", nil},
		{"echo hi", nil},
		{"exec server", nil},
	}
	for _, tt := range tests {
		s, err := Parse(tt.src)
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		got, ok := s.Argv()
		if ok != (tt.want != nil) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: Argv() = %q %v, want %q", tt.src, got, ok, tt.want)
		}
	}
}

// checkRoundTrip: String renders a command line that parses to the same Script, and the JSON
// plan decodes to it too.
func checkRoundTrip(t *testing.T, s Script) {
	t.Helper()
	back, err := Parse(s.String())
	if err != nil {
		t.Fatalf("Parse(String() = %q): %v", s.String(), err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("Parse(String()) differs:\n%q\n%#v\n%#v", s.String(), s, back)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var decoded Script
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(decoded, s) {
		t.Fatalf("JSON round trip differs: %s", data)
	}
}

// FuzzParse: Parse never panics, errors are *Error inside the input, and what parses renders
// back to itself and survives the JSON plan. The seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"gunicorn --bind :$PORT app:app", "a && b || c; d", `A="x $Y" cmd '${Z}'`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Parse(src)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.Offset < 0 || e.Offset > len(src) || e.Msg == "" {
				t.Fatalf("Parse(%q): bad error %#v", src, err)
			}
			return
		}
		checkRoundTrip(t, s)
	})
}
