package python

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/dpkg"
	"github.com/distill-build/distill/internal/testenv"
)

func TestPlatformTags(t *testing.T) {
	for _, tc := range []struct {
		arch      string
		first     string
		last      []string
		n         int
		wantError bool
	}{
		{arch: "arm64", first: "manylinux_2_41_aarch64", last: []string{"manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64"}, n: 41 - 17 + 1 + 2},
		{arch: "riscv64", wantError: true},
		{arch: "amd64", wantError: true}, // the build image's own: never a foreign target here
	} {
		t.Run(tc.arch, func(t *testing.T) {
			tags, err := platformTags(tc.arch)
			if tc.wantError {
				if err == nil {
					t.Fatalf("platformTags(%q) = %v, want an error", tc.arch, tags)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tags) != tc.n || tags[0] != tc.first || !slices.Equal(tags[len(tags)-3:], tc.last) {
				t.Errorf("platformTags(%q) = %v", tc.arch, tags)
			}
		})
	}
}

func TestTargetOf(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct {
		name, os, arch, root string
		native               bool
		wantErr              string
	}{
		{name: "native", os: "linux", arch: "amd64", native: true},
		{name: "no target given", native: true},
		{name: "arm64 with a root", os: "linux", arch: "arm64", root: root},
		{name: "arm64 without a root", os: "linux", arch: "arm64", wantErr: "needs the target's Debian packages (DISTILL_TARGET_ROOT)"},
		{name: "riscv64", os: "linux", arch: "riscv64", root: root, wantErr: "linux/riscv64 is not supported yet for Python apps: build with --platform linux/amd64"},
		{name: "windows", os: "windows", arch: "arm64", root: root, wantErr: "windows/arm64 is not supported yet for Python apps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DISTILL_TARGET_ROOT", tc.root)
			ft, err := targetOf(tc.os, tc.arch)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("targetOf = %v, %v; want an error saying %q", ft, err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tc.native != (ft == nil):
				t.Fatalf("targetOf = %+v, native %v", ft, tc.native)
			case ft != nil && (ft.Root != tc.root || ft.platform() != "linux/arm64" || ft.Tags[0] != "manylinux_2_41_aarch64"):
				t.Errorf("targetOf = %+v", ft)
			}
		})
	}
}

func TestTargetInstallArgs(t *testing.T) {
	ft := &foreignTarget{OS: "linux", Arch: "arm64", Tags: []string{"manylinux_2_17_aarch64", "linux_aarch64"}}
	got := strings.Join(targetInstallArgs(ft, "3.13", "/layers/v/lib/python3.13/site-packages"), " ")
	want := "install --no-compile --no-warn-script-location --target /layers/v/lib/python3.13/site-packages --only-binary=:all: " +
		"--python-version 3.13 --implementation cp --abi cp313 --abi abi3 --abi none --platform manylinux_2_17_aarch64 --platform linux_aarch64"
	if got != want {
		t.Errorf("targetInstallArgs =\n%s\nwant\n%s", got, want)
	}
}

func TestNoTargetWheel(t *testing.T) {
	ft := &foreignTarget{OS: "linux", Arch: "arm64"}
	pipErr := errors.New("pip install failed (exit status 1)")
	for _, tc := range []struct {
		name, out, want string
	}{
		{"no matching distribution", "Looking in indexes: http://127.0.0.1:1/simple\nERROR: Could not find a version that satisfies the requirement MarkupSafe==3.0.2 (from versions: none)\nERROR: No matching distribution found for MarkupSafe==3.0.2\n",
			"MarkupSafe has no wheel for linux/arm64 on the package index"},
		{"satisfies only", "ERROR: Could not find a version that satisfies the requirement psutil (from versions: 5.9.0)\n", "psutil has no wheel for linux/arm64"},
		{"index unreachable", "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError(...)': /simple/flask/\nERROR: Could not find a version that satisfies the requirement flask (from versions: none)\nERROR: No matching distribution found for flask\n", ""},
		{"other failure", "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := noTargetWheel(pipErr, []byte(tc.out), ft)
			if !errors.Is(err, pipErr) {
				t.Errorf("the error does not wrap pip's: %v", err)
			}
			if tc.want == "" {
				if err != pipErr {
					t.Errorf("noTargetWheel = %v, want pip's error as it is", err)
				}
				return
			}
			for _, w := range []string{tc.want, "manylinux aarch64 wheels", "--platform linux/amd64"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestReshebang(t *testing.T) {
	const venv = "/layers/distill_python/venv/bin/python"
	body := "# -*- coding: utf-8 -*-\nimport sys\nfrom flask.cli import main\n"
	for _, tc := range []struct {
		name, in, want string
	}{
		{"host python", "#!/usr/bin/python3\n" + body, "#!" + venv + "\n" + body},
		{"host python with options", "#!/usr/bin/python3.13 -I\n" + body, "#!" + venv + "\n" + body},
		{"sh trampoline", "#!/bin/sh\n'''exec' /very/long/usr/bin/python3 \"$0\" \"$@\"\n' '''\n" + body, "#!" + venv + "\n" + body},
		{"shell script", "#!/bin/sh\necho hi\n", "#!/bin/sh\necho hi\n"},
		{"empty shebang", "#!\nx\n", "#!\nx\n"},
		{"not a script", "\x7fELF\x02\x01", "\x7fELF\x02\x01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(reshebang([]byte(tc.in), venv)); got != tc.want {
				t.Errorf("reshebang =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestMoveScripts(t *testing.T) {
	site := filepath.Join(t.TempDir(), "site-packages")
	bin := filepath.Join(t.TempDir(), "bin")
	testenv.WriteFile(t, filepath.Join(site, "bin", "flask"), "#!/usr/bin/python3\nimport flask\n")
	testenv.WriteFile(t, filepath.Join(site, "flask", "__init__.py"), "")
	names, err := moveScripts(site, bin, "/venv/bin/python")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"flask"}) {
		t.Errorf("moved %v", names)
	}
	data, err := os.ReadFile(filepath.Join(bin, "flask"))
	if err != nil || string(data) != "#!/venv/bin/python\nimport flask\n" {
		t.Errorf("bin/flask = %q, %v", data, err)
	}
	if st, err := os.Stat(filepath.Join(bin, "flask")); err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("bin/flask is not executable: %v %v", st, err)
	}
	if fileExists(filepath.Join(site, "bin")) {
		t.Error("site-packages/bin is left")
	}
}

func TestUninstallRecorded(t *testing.T) {
	root := t.TempDir()
	site := filepath.Join(root, "lib", "python3.13", "site-packages")
	testenv.WriteFile(t, filepath.Join(site, "setuptools", "__init__.py"), "")
	testenv.WriteFile(t, filepath.Join(site, "setuptools", "_vendor", "x.py"), "")
	testenv.WriteFile(t, filepath.Join(site, "setuptools-80.9.0.dist-info", "RECORD"),
		"setuptools/__init__.py,sha256=x,0\nsetuptools/_vendor/x.py,sha256=x,0\nsetuptools-80.9.0.dist-info/RECORD,,\n../../../bin/setup,sha256=x,0\n")
	testenv.WriteFile(t, filepath.Join(root, "bin", "setup"), "")
	testenv.WriteFile(t, filepath.Join(site, "flask", "__init__.py"), "")
	testenv.WriteFile(t, filepath.Join(site, "flask-3.1.1.dist-info", "RECORD"), "flask/__init__.py,,\n")
	if err := uninstallRecorded(root, []string{"setuptools"}); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"setuptools", "setuptools-80.9.0.dist-info", "../../../bin/setup"} {
		if fileExists(filepath.Join(site, gone)) {
			t.Errorf("%s is left", gone)
		}
	}
	for _, kept := range []string{"flask/__init__.py", "flask-3.1.1.dist-info/RECORD"} {
		if !fileExists(filepath.Join(site, kept)) {
			t.Errorf("%s is gone", kept)
		}
	}
}

func TestMakeVenvForeign(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "venv")
	py := pythonInfo{Version: pyVersion{N: []int{3, 13, 5}}, MajorMinor: "3.13"}
	if err := makeVenv(py, "/layers/distill_python/cpython/bin/python3.13", &foreignTarget{}, dir); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "pyvenv.cfg"))
	if err != nil || !strings.Contains(string(cfg), "home = /layers/distill_python/cpython/bin\n") || !strings.Contains(string(cfg), "version = 3.13.5\n") {
		t.Errorf("pyvenv.cfg = %q, %v", cfg, err)
	}
	for link, want := range map[string]string{"bin/python": "/layers/distill_python/cpython/bin/python3.13", "bin/python3": "python", "bin/python3.13": "python", "lib64": "lib"} {
		if got, err := os.Readlink(filepath.Join(dir, link)); err != nil || got != want {
			t.Errorf("%s -> %q, %v; want %q", link, got, err, want)
		}
	}
	if !fileExists(filepath.Join(dir, "lib", "python3.13", "site-packages")) {
		t.Error("no lib/python3.13/site-packages")
	}
}

func TestDebianUpstream(t *testing.T) {
	for in, want := range map[string]string{"3.13.5-2": "3.13.5", "3.13.5-2+b1": "3.13.5", "1:3.13.5-2": "3.13.5", "3.13.5": "3.13.5", "2.0-rc1-3": "2.0-rc1"} {
		if got := debianUpstream(in); got != want {
			t.Errorf("debianUpstream(%q) = %q, want %q", in, got, want)
		}
	}
}

// targetRoot writes a target root as the platform provides it: files, and the dpkg record of
// python3.13-minimal (version) owning usr/bin/python3.13.
func targetRoot(t *testing.T, version string, files ...string) string {
	root := t.TempDir()
	for _, f := range files {
		testenv.WriteFile(t, filepath.Join(root, f), "")
	}
	testenv.WriteFiles(t, filepath.Join(root, "var", "lib", "dpkg", "status.d"), map[string]string{
		"python3.13-minimal":         "Package: python3.13-minimal\nStatus: install ok installed\nArchitecture: arm64\nVersion: " + version + "\n",
		"python3.13-minimal.md5sums": "d41d8cd98f00b204e9800998ecf8427e  usr/bin/python3.13\n",
	})
	return root
}

func TestTargetPython(t *testing.T) {
	host := pythonInfo{Bin: "/usr/bin/python3.13", Version: pyVersion{N: []int{3, 13, 5}}, MajorMinor: "3.13"}
	hostDeb := &dpkg.Package{Name: "python3.13-minimal", Version: "3.13.5-2"}
	full := []string{"usr/bin/python3.13", "usr/lib/python3.13/os.py"}
	for _, tc := range []struct {
		name, version string
		files         []string
		wantVersion   string
		wantNote      bool
		wantErr       string
	}{
		{name: "same package", version: "3.13.5-2", files: full, wantVersion: "3.13.5"},
		{name: "another revision", version: "3.13.5-2+b1", files: full, wantVersion: "3.13.5", wantNote: true},
		{name: "another patch release", version: "3.13.6-1", files: full, wantVersion: "3.13.6", wantNote: true},
		{name: "another minor version", version: "3.14.0-1", files: full, wantErr: "is python3.13-minimal 3.14.0-1, not CPython 3.13"},
		{name: "no python3.13", version: "3.13.5-2", files: []string{"usr/lib/python3.13/os.py"}, wantErr: "lack /usr/bin/python3.13"},
		{name: "no stdlib", version: "3.13.5-2", files: []string{"usr/bin/python3.13"}, wantErr: "lack /usr/lib/python3.13/os.py"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := targetRoot(t, tc.version, tc.files...)
			ft := &foreignTarget{OS: "linux", Arch: "arm64", Root: root}
			py, note, err := targetPython(ft, host, hostDeb)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("targetPython = %+v, %v; want an error saying %q", py, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if py.Version.String() != tc.wantVersion || py.Bin != filepath.Join(root, "usr/bin/python3.13") ||
				py.Dynload != filepath.Join(root, "usr/lib/python3.13/lib-dynload") || (note != "") != tc.wantNote {
				t.Errorf("targetPython = %+v, note %q", py, note)
			}
		})
	}
}

func TestShortArgs(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"install", "-r", "req.txt"}, []string{"install", "-r", "req.txt"}},
		{[]string{"install", "--platform", "a", "--platform", "b", "x"}, []string{"install", "--platform", "a", "--platform", "b", "x"}},
		{[]string{"install", "--platform", "a", "--platform", "b", "--platform", "c", "--only-binary=:all:"},
			[]string{"install", "--platform", "a…c (3 tags)", "--only-binary=:all:"}},
	} {
		if got := shortArgs(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("shortArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
