package golang

import (
	"strings"
	"testing"
)

func TestParseGoVersion(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		exact bool
		ok    bool
	}{
		{"1.25.4", "1.25.4", true, true},
		{"go1.25.4", "1.25.4", true, true},
		{"1.25", "1.25", false, true},
		{"1.26rc1", "1.26rc1", true, true},
		{" 1.22.0 ", "1.22.0", true, true},
		{"latest", "", false, false},
		{"1", "", false, false},
		{"1.x", "", false, false},
		{"1.2.3rc1", "", false, false},
		{"v1.25.4", "", false, false},
		{"1.025.0", "", false, false},
		{"1.99999999999999999999", "", false, false},
		{"1.0.0", "1.0.0", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, ok := parseGoVersion(tt.in)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if v.String() != tt.want || v.exact() != tt.exact {
				t.Errorf("got %s exact=%v, want %s exact=%v", v, v.exact(), tt.want, tt.exact)
			}
		})
	}
}

func TestCompareGoVersion(t *testing.T) {
	order := []string{"1.21", "1.21rc1", "1.21rc2", "1.21.0", "1.21.1", "1.21.10", "1.22beta1", "1.22rc1", "1.22.0", "2.0.0"}
	for i := range order {
		for j := range order {
			a, _ := parseGoVersion(order[i])
			b, _ := parseGoVersion(order[j])
			want := cmpInt(i, j)
			if got := a.compare(b); got != want {
				t.Errorf("compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
}

func TestSelectVersion(t *testing.T) {
	tests := []struct {
		name        string
		gomod       string
		env         string // BP_GO_VERSION
		gotoolchain string
		want        string // request String()
		wantErr     string
	}{
		{name: "go directive minor", gomod: "module m\ngo 1.22\n", want: ">= 1.22.0 (go.mod go directive)"},
		{name: "go directive patch is a minimum too", gomod: "module m\ngo 1.22.3\n", want: ">= 1.22.3 (go.mod go directive)"},
		{name: "old go directive", gomod: "module m\ngo 1.15\n", want: ">= 1.15.0 (go.mod go directive)"},
		{name: "GOTOOLCHAIN pins", gomod: "module m\ngo 1.22\ntoolchain go1.25.4\n", gotoolchain: "go1.24.2+auto", want: "1.24.2 (GOTOOLCHAIN=go1.24.2+auto)"},
		{name: "GOTOOLCHAIN auto does not", gomod: "module m\ngo 1.22\n", gotoolchain: "auto", want: ">= 1.22.0 (go.mod go directive)"},
		{name: "BP_GO_VERSION wins over GOTOOLCHAIN", gomod: "module m\n", env: "1.25", gotoolchain: "go1.24.2", want: "latest 1.25.x (BP_GO_VERSION=1.25)"},
		{name: "bad GOTOOLCHAIN", gomod: "module m\n", gotoolchain: "go1.25", wantErr: `GOTOOLCHAIN="go1.25"`},
		{name: "toolchain wins over go", gomod: "module m\ngo 1.22\ntoolchain go1.25.4\n", want: "1.25.4 (go.mod toolchain directive)"},
		{name: "toolchain default ignored", gomod: "module m\ngo 1.23.1\ntoolchain default\n", want: ">= 1.23.1 (go.mod go directive)"},
		{name: "BP_GO_VERSION exact wins", gomod: "module m\ngo 1.22\ntoolchain go1.25.4\n", env: "1.24.2", want: "1.24.2 (BP_GO_VERSION=1.24.2)"},
		{name: "BP_GO_VERSION line", gomod: "module m\ngo 1.22\n", env: "1.25", want: "latest 1.25.x (BP_GO_VERSION=1.25)"},
		{name: "no directive", gomod: "module m\n", want: ">= 1.0.0 (no go directive)"},
		{name: "bad BP_GO_VERSION", gomod: "module m\ngo 1.22\n", env: "latest", wantErr: `BP_GO_VERSION="latest"`},
		{name: "bad toolchain", gomod: "module m\ngo 1.22\ntoolchain go1.25\n", wantErr: "/app/go.mod: toolchain directive"},
		{name: "unparsable go.mod", gomod: "module m\ngo 1.22\nbogus line here(\n", wantErr: "/app/go.mod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := parseGoMod("/app/go.mod", []byte(tt.gomod))
			var req versionRequest
			if err == nil {
				req, err = selectVersion("/app/go.mod", info, versionEnv{BPGoVersion: tt.env, GoToolchain: tt.gotoolchain})
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
			if got := req.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSatisfiedBy(t *testing.T) {
	req := func(s string, k matchKind) versionRequest {
		v, _ := parseGoVersion(s)
		return versionRequest{Version: v, Kind: k}
	}
	tests := []struct {
		req  versionRequest
		have string
		want bool
	}{
		{req("1.25.4", matchExact), "1.25.4", true},
		{req("1.25.4", matchExact), "1.25.5", false},
		{req("1.25", matchLine), "1.25.7", true},
		{req("1.25", matchLine), "1.26.0", false},
		{req("1.25", matchLine), "1.25rc1", false},
		{req("1.22", matchAtLeast), "1.24.4", true},
		{req("1.22", matchAtLeast), "1.22.0", true},
		{req("1.25", matchAtLeast), "1.24.4", false},
		{req("1.22.3", matchAtLeast), "1.22.2", false},
		{req("1.22.3", matchAtLeast), "1.22.3", true},
		{req("1.22.3", matchAtLeast), "1.27.0", true},
		{anyGo, "1.0.0", true},
	}
	for _, tt := range tests {
		have, _ := parseGoVersion(tt.have)
		if got := tt.req.satisfiedBy(have); got != tt.want {
			t.Errorf("%v satisfiedBy(%s) = %v, want %v", tt.req, tt.have, got, tt.want)
		}
	}
}

func TestPickToolchain(t *testing.T) {
	listed := []string{
		"v0.0.1-go1.25.0.linux-amd64", "v0.0.1-go1.25.4.linux-amd64", "v0.0.1-go1.25.10.linux-amd64",
		"v0.0.1-go1.25.11.linux-arm64", "v0.0.1-go1.26rc1.linux-amd64", "v0.0.1-go1.26.0.linux-amd64",
		"v0.0.1-go1.26.2.linux-amd64", "v0.0.1-go1.26.2.darwin-amd64",
	}
	tests := []struct {
		v    string
		kind matchKind
		want string
	}{
		{"1.25", matchLine, "1.25.10"},
		{"1.26", matchLine, "1.26.2"},
		{"1.25", matchAtLeast, "1.26.2"},
		{"1.15", matchAtLeast, "1.26.2"},
		{"1.26.3", matchAtLeast, ""},
		{"1.27", matchLine, ""},
		{"1.25.4", matchExact, "1.25.4"},
	}
	for _, tt := range tests {
		v, _ := parseGoVersion(tt.v)
		got, ok := pickToolchain(versionRequest{Version: v, Kind: tt.kind}, listed, "linux", "amd64")
		gs := ""
		if ok {
			gs = got.String()
		}
		if gs != tt.want {
			t.Errorf("pick(%s, %d) = %q, want %q", tt.v, tt.kind, gs, tt.want)
		}
	}
}

// FuzzParseGoMod: parseGoMod never panics; an error names go.mod; from an
// accepted go.mod, the Go version is chosen or refused naming go.mod.
// Seeds: testdata/fuzz/FuzzParseGoMod.
func FuzzParseGoMod(f *testing.F) {
	for _, s := range []string{"module example.com/app\n\ngo 1.22\n\ntoolchain go1.25.4\n\nrequire golang.org/x/mod v0.20.0\n",
		"module m\ngo 1.26rc1\n", "module m\ntoolchain default\n", "module m\ngo 1.21.0\ntoolchain go1.21\n", "go 1\n", "module m\nreplace a => ../a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		const path = "/app/go.mod"
		mod, err := parseGoMod(path, []byte(data))
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name %s", err, path)
			}
			return
		}
		checkVersionChoice(t, path, mod)
	})
}

// checkVersionChoice: the go and toolchain lines of a parsed go.mod or
// go.work give a request or an error naming the file; a request is
// satisfied by its own minimum when it is not exact.
func checkVersionChoice(t *testing.T, path string, mod goModInfo) {
	t.Helper()
	req, err := selectVersion(path, mod, versionEnv{})
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("version error %q does not name %s", err, path)
		}
		return
	}
	if req.Kind == matchAtLeast && !req.satisfiedBy(req.minimum()) {
		t.Fatalf("%+v is not satisfied by its own minimum %s", req, req.minimum())
	}
	if req.Kind == matchExact && !req.satisfiedBy(req.Version) {
		t.Fatalf("%+v is not satisfied by its own version", req)
	}
}

// FuzzParseGoVersion: a version that parses renders back to what was
// written (less "go" and spaces) and parses to the same value. Seeds:
// testdata/fuzz/FuzzParseGoVersion.
func FuzzParseGoVersion(f *testing.F) {
	for _, s := range []string{"1.25.4", "go1.26rc1", "1.22", " 1.21.0 ", "1.2.3rc1", "1.99999999999999999999.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseGoVersion(s)
		if !ok {
			return
		}
		if written := strings.TrimPrefix(strings.TrimSpace(s), "go"); v.String() != written {
			t.Fatalf("%q renders as %q", s, v.String())
		}
		again, ok := parseGoVersion(v.String())
		if !ok || again != v {
			t.Fatalf("%q → %+v → %q → %+v (%v)", s, v, v.String(), again, ok)
		}
	})
}
