package golang

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

func TestCrossEnv(t *testing.T) {
	amd := crossTarget{OS: "linux", Arch: "amd64", HostOS: "linux", HostArch: "amd64"}
	arm := crossTarget{OS: "linux", Arch: "arm64", HostOS: "linux", HostArch: "amd64"}
	none := crossTarget{HostOS: "linux", HostArch: "amd64"}
	for _, tc := range []struct {
		name    string
		target  crossTarget
		cgo     string
		set     bool
		want    map[string]string
		wantErr string
	}{
		{"native: nothing added", amd, "", false, map[string]string{}, ""},
		{"native with cgo", amd, "1", true, map[string]string{}, ""},
		{"no target given", none, "", false, map[string]string{}, ""},
		{"foreign", arm, "", false, map[string]string{"GOOS": "linux", "GOARCH": "arm64"}, ""},
		{"foreign, cgo off asked for", arm, "0", true, map[string]string{"GOOS": "linux", "GOARCH": "arm64"}, ""},
		{"foreign with cgo", arm, "1", true, nil, "CGO_ENABLED=1 is set, but cgo cannot cross-compile for linux/arm64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := crossEnv(tc.target, tc.cgo, tc.set)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
					t.Fatalf("crossEnv error = %v, want %q and how to disable cgo", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("crossEnv = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCgoError(t *testing.T) {
	arm := crossTarget{OS: "linux", Arch: "arm64", HostOS: "linux", HostArch: "amd64"}
	if err := cgoError(arm, nil); err != nil {
		t.Errorf("no cgo packages: %v", err)
	}
	err := cgoError(arm, []string{"example.com/app/sqlite"})
	if err == nil {
		t.Fatal("cgo package for arm64: no error")
	}
	for _, want := range []string{"example.com/app/sqlite", "cgo", "linux/arm64", "CGO_ENABLED=0", "--platform linux/amd64"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// TestCgoPackages runs go list on a module with one cgo package and one pure
// package: only the cgo one is listed, whichever GOARCH is asked for.
func TestCgoPackages(t *testing.T) {
	goBin := testenv.NeedCommand(t, "go", "go list finds the cgo packages")
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":       "module example.com/app\n\ngo 1.21\n",
		"main.go":      "package main\n\nimport _ \"example.com/app/native\"\n\nfunc main() {}\n",
		"native/c.go":  "package native\n\n// int one(void) { return 1; }\nimport \"C\"\n\nfunc One() int { return int(C.one()) }\n",
		"pure/main.go": "package main\n\nimport _ \"net\"\n\nfunc main() {}\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "GOFLAGS=", "GOTOOLCHAIN=local", "GOWORK=off")
	for _, tc := range []struct {
		pkg  string
		want []string
	}{
		{".", []string{"example.com/app/native"}},
		{"./pure", nil}, // net has cgo files, but it is the standard library's
	} {
		got, err := cgoPackages(goBin, dir, env, []target{{Package: tc.pkg, Name: "app"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("cgoPackages(%s) = %q, want %q", tc.pkg, got, tc.want)
		}
	}
}
