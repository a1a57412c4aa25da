package procfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []Entry
		wantErr       string
	}{
		{name: "processes", content: "web: gunicorn app:app --bind :$PORT\nworker:python worker.py\n",
			want: []Entry{{"web", "gunicorn app:app --bind :$PORT", 1}, {"worker", "python worker.py", 2}}},
		{name: "comments, blanks and CRLF", content: "# the app\r\n\r\n  web:   node server.js  \r\n",
			want: []Entry{{"web", "node server.js", 3}}},
		{name: "comments only", content: "# nothing yet\n"},
		{name: "a long line", content: "web: echo " + strings.Repeat("x", 100_000),
			want: []Entry{{"web", "echo " + strings.Repeat("x", 100_000), 1}}},
		{name: "no command", content: "web:\n", wantErr: "/app/Procfile:1: \"web:\" is not a `<type>: <command>` line"},
		{name: "no type", content: "\n: node x\n", wantErr: "/app/Procfile:2: "},
		{name: "a space in the type", content: "web app: node x\n", wantErr: "/app/Procfile:1: "},
		{name: "a type twice", content: "web: a\nworker: b\nweb: c\n",
			wantErr: "/app/Procfile:3: process type \"web\" is defined twice (first on line 1): keep one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("/app/Procfile", []byte(tc.content))
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("entry %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := Read(dir); ok || err != nil {
		t.Fatalf("no Procfile: ok %v err %v, want neither", ok, err)
	}
	if err := os.WriteFile(filepath.Join(dir, Name), []byte("web: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if e, ok, err := Read(dir); !ok || err != nil || len(e) != 1 {
		t.Fatalf("Read = %v %v %v", e, ok, err)
	}
	unreadable := t.TempDir()
	if err := os.Mkdir(filepath.Join(unreadable, Name), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Read(unreadable); err == nil || !strings.Contains(err.Error(), filepath.Join(unreadable, Name)) {
		t.Fatalf("a Procfile directory: err = %v, want one naming it", err)
	}
}

// FuzzParse: Parse never panics; an error names the file and a line of it;
// what parses has unique types, trimmed non-empty commands on the lines it
// names, and renders back to a Procfile that parses to the same entries.
// Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"web: gunicorn app:app\nworker: celery -A x worker\n", "# c\r\nweb:node s.js\r\n", "web: a\nweb: b\n", ":\n", "web:\t\v x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		const path = "/app/Procfile"
		entries, err := Parse(path, []byte(src))
		if err != nil {
			if !strings.HasPrefix(err.Error(), path+":") {
				t.Fatalf("error %q does not name %s and the line", err, path)
			}
			return
		}
		lines := strings.Split(src, "\n")
		seen := map[string]bool{}
		var b strings.Builder
		for _, e := range entries {
			if seen[e.Type] || !lineRE.MatchString(e.Type+": "+e.Command) || e.Command != strings.TrimSpace(e.Command) {
				t.Fatalf("bad entry %+v from %q", e, src)
			}
			seen[e.Type] = true
			if e.Line < 1 || e.Line > len(lines) || !strings.Contains(lines[e.Line-1], e.Command) {
				t.Fatalf("entry %+v: line %d does not hold its command", e, e.Line)
			}
			b.WriteString(e.Type + ": " + e.Command + "\n")
		}
		again, err := Parse(path, []byte(b.String()))
		if err != nil || len(again) != len(entries) {
			t.Fatalf("rendered %q parses to %+v, %v; want %+v", b.String(), again, err, entries)
		}
		for i := range again {
			if again[i].Type != entries[i].Type || again[i].Command != entries[i].Command {
				t.Fatalf("round trip: %+v, want %+v", again[i], entries[i])
			}
		}
	})
}
