package node

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

var listed = []string{
	"0.12.18", "7.0.0-test2016100609987d242b", "18.20.8", "20.0.0", "20.11.1", "20.20.2", "21.7.3",
	"22.0.0", "22.11.0", "22.23.3", "23.11.1", "24.0.0", "24.21.0", "25.9.0", "26.0.0-rc.1", "26.10.0",
}

func TestNodeVersionRequest(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		env     string
		want    string // picked version from listed
		source  string
		wantErr string
	}{
		{name: "default is the newest LTS line", want: "24.21.0"},
		{name: "engines range prefers LTS", files: map[string]string{"package.json": `{"engines":{"node":">=18"}}`}, want: "24.21.0", source: "package.json engines.node"},
		{name: "engines caret", files: map[string]string{"package.json": `{"engines":{"node":"^20.11.0"}}`}, want: "20.20.2"},
		{name: "engines major only", files: map[string]string{"package.json": `{"engines":{"node":"22"}}`}, want: "22.23.3"},
		{name: "engines x-range or", files: map[string]string{"package.json": `{"engines":{"node":"18.x || 20.x"}}`}, want: "20.20.2"},
		{name: "engines current line", files: map[string]string{"package.json": `{"engines":{"node":"26"}}`}, want: "26.10.0"},
		{name: "engines odd line", files: map[string]string{"package.json": `{"engines":{"node":"^21"}}`}, want: "21.7.3"},
		{name: "engines exact with v", files: map[string]string{"package.json": `{"engines":{"node":"v22.11.0"}}`}, want: "22.11.0"},
		{name: "engines wins over .nvmrc", files: map[string]string{"package.json": `{"engines":{"node":"20"}}`, ".nvmrc": "22\n"}, want: "20.20.2"},
		{name: ".nvmrc", files: map[string]string{"package.json": `{}`, ".nvmrc": "v22\n"}, want: "22.23.3", source: ".nvmrc"},
		{name: ".nvmrc lts/*", files: map[string]string{".nvmrc": "lts/*"}, want: "24.21.0"},
		{name: ".nvmrc lts codename", files: map[string]string{".nvmrc": "lts/iron"}, want: "20.20.2"},
		{name: ".nvmrc node means newest", files: map[string]string{".nvmrc": "node"}, want: "26.10.0"},
		{name: ".nvmrc comment lines", files: map[string]string{".nvmrc": "# pinned\n\n20.11.1 # prod\n"}, want: "20.11.1"},
		{name: ".node-version", files: map[string]string{".node-version": "22.0.0"}, want: "22.0.0", source: ".node-version"},
		{name: ".nvmrc wins over .node-version", files: map[string]string{".nvmrc": "20", ".node-version": "22"}, want: "20.20.2"},
		{name: "BP_NODE_VERSION wins", files: map[string]string{"package.json": `{"engines":{"node":"20"}}`}, env: "22", want: "22.23.3", source: "BP_NODE_VERSION"},
		{name: "unsatisfiable range names the file", files: map[string]string{"package.json": `{"engines":{"node":">=30"}}`}, wantErr: `">=30" (/app/package.json engines.node)`},
		{name: "unsatisfiable exact", env: "19.0.0", wantErr: `no Node.js release satisfies "19.0.0" (BP_NODE_VERSION)`},
		{name: "not a range", files: map[string]string{".nvmrc": "banana"}, wantErr: `/app/.nvmrc: "banana" is not a Node.js version`},
		{name: "unknown codename", files: map[string]string{".nvmrc": "lts/zebra"}, wantErr: "unknown LTS alias"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				testenv.WriteFile(t, filepath.Join(dir, name), content)
			}
			var pkg packageJSON
			if s, ok := tt.files["package.json"]; ok {
				var err error
				if pkg, err = parsePackageJSON("/app/package.json", []byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			req, err := nodeVersionRequest(dir, pkg, tt.env)
			if err == nil {
				if tt.source != "" && !strings.Contains(req.Source, tt.source) {
					t.Errorf("source = %q, want %q", req.Source, tt.source)
				}
				req.Source = strings.ReplaceAll(req.Source, dir, "/app")
				var v interface{ String() string }
				v, err = pickNodeVersion(req, listed)
				if err == nil && v.String() != tt.want {
					t.Errorf("picked %s, want %s", v, tt.want)
				}
			} else {
				err = errorsReplace(err, dir, "/app")
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

type stringError string

func (s stringError) Error() string { return string(s) }

func errorsReplace(err error, old, new string) error {
	return stringError(strings.ReplaceAll(err.Error(), old, new))
}

func TestLTSLines(t *testing.T) {
	lts := ltsLines(releases(listed))
	for major, want := range map[uint64]bool{18: true, 20: true, 21: false, 22: true, 24: true, 25: false, 26: false} {
		if lts[major] != want {
			t.Errorf("LTS(%d) = %v, want %v", major, lts[major], want)
		}
	}
}

// FuzzParseVersionRequest: a Node.js version request (engines.node,
// .nvmrc, .node-version, BP_NODE_VERSION) never panics; an error names its
// source; an accepted request is exactly one of an LTS line, the newest
// release or a range, and the version picked from the listed releases
// satisfies the range. Seeds: testdata/fuzz/FuzzParseVersionRequest.
func FuzzParseVersionRequest(f *testing.F) {
	for _, s := range []string{">=18 <23", "v20.11.1", "lts/iron", "lts/*", "node", "^22 || ^24", "20.x", ">=v18", "lts/nope", "~> 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		const source = "/app/package.json engines.node"
		req, err := parseVersionRequest(s, source)
		if err != nil {
			if !strings.HasPrefix(err.Error(), source+": ") {
				t.Fatalf("error %q does not name %s", err, source)
			}
			return
		}
		kinds := 0
		for _, is := range []bool{req.LTSOnly, req.Newest, req.Constraint != nil} {
			if is {
				kinds++
			}
		}
		if kinds != 1 {
			t.Fatalf("%q: %+v is not one kind of request", s, req)
		}
		v, err := pickNodeVersion(req, listed)
		if err == nil && req.Constraint != nil && !req.Constraint.Check(v) {
			t.Fatalf("%q: picked %s, which the range refuses", s, v)
		}
	})
}
