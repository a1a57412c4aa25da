package dpkg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

func TestStatusRecord(t *testing.T) {
	desc := "Description: time zone and daylight-saving time data\n This package contains data.\n .\n More.\n"
	for _, tt := range []struct {
		name, in string
		drop     []string
		want     string
	}{
		{"control file", "Package: tzdata\nVersion: 2025b-4\nArchitecture: all\nDepends: debconf (>= 0.5) | debconf-2.0\n" + desc, nil,
			"Package: tzdata\nStatus: install ok installed\nVersion: 2025b-4\nArchitecture: all\nDepends: debconf (>= 0.5) | debconf-2.0\n" + desc},
		{"status paragraph, Conffiles dropped", "Package: libssl3t64\nStatus: install ok unpacked\nVersion: 3.5.1-1\n" +
			"Conffiles:\n /etc/ssl/openssl.cnf 0123 obsolete\nArchitecture: amd64\n" + desc, []string{"Conffiles"},
			"Package: libssl3t64\nStatus: install ok installed\nVersion: 3.5.1-1\nArchitecture: amd64\n" + desc},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := StatusRecord([]byte(tt.in), tt.drop...)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			// What a scanner does with it: parse it back as a status file.
			if pkgs := ParseStatus(got); len(pkgs) != 1 || !strings.HasPrefix(tt.in, "Package: "+pkgs[0].Name+"\n") {
				t.Errorf("re-read: %+v", pkgs)
			}
		})
	}
	for _, bad := range []string{"Version: 1\n", "Package: a\n\nPackage: b\n"} {
		if _, err := StatusRecord([]byte(bad)); err == nil {
			t.Errorf("StatusRecord(%q): no error", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	status := "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.3\nArchitecture: amd64\nDescription: x\n y: z\n\n" +
		"Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n" +
		"Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2-1\n"
	got := ParseStatus([]byte(status))
	want := []Package{{Name: "zlib1g", Version: "1:1.3", Arch: "amd64"}, {Name: "bash", Version: "5.2-1", Arch: "amd64"}}
	if len(got) != len(want) {
		t.Fatalf("got %d packages, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Name != w.Name || got[i].Version != w.Version || got[i].Arch != w.Arch {
			t.Errorf("package %d: got %+v, want %+v", i, got[i], w)
		}
	}
}

// fakeRoot writes a Debian system's dpkg database: two packages, one of them
// recorded on the /lib side of merged /usr.
func fakeRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"var/lib/dpkg/status": "Package: libpython3.13-minimal\nStatus: install ok installed\nVersion: 3.13.5-2\nArchitecture: amd64\n" +
			"Conffiles:\n /etc/python3.13/sitecustomize.py 0a obsolete\nDescription: x\n\n" +
			"Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.3.dfsg+really1.3.1-1+b1\nArchitecture: amd64\nDescription: z\n",
		"var/lib/dpkg/info/libpython3.13-minimal:amd64.list": "/.\n/usr\n/usr/lib/python3.13\n/usr/lib/python3.13/os.py\n",
		"var/lib/dpkg/info/zlib1g:amd64.list":                "/.\n/lib/x86_64-linux-gnu/libz.so.1.3.1\n",
		"etc/os-release":                                     "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nVERSION_ID=\"13\"\n",
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestOwner(t *testing.T) {
	db, err := Open(fakeRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ file, want string }{
		{"/usr/lib/python3.13/os.py", "libpython3.13-minimal"},
		{"/usr/lib/x86_64-linux-gnu/libz.so.1.3.1", "zlib1g"}, // recorded as /lib/...
		{"/usr/lib/x86_64-linux-gnu/../x86_64-linux-gnu/libz.so.1.3.1", "zlib1g"},
		{"/usr/lib/python3.13/new.py", ""},
	} {
		got := ""
		if p, ok := db.Owner(tt.file); ok {
			got = p.Name
		}
		if got != tt.want {
			t.Errorf("Owner(%s) = %q, want %q", tt.file, got, tt.want)
		}
	}
}

func TestLayerRecords(t *testing.T) {
	root := fakeRoot(t)
	db, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	layer := t.TempDir()
	dest := map[string]string{"lib/python3.13/os.py": "import sys\n", "lib/libz.so.1": "ELF", "lib/python3.13/mine.py": "x"}
	for name, data := range dest {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(layer, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(layer, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files := []File{
		{Src: "/usr/lib/python3.13/os.py", Dest: filepath.Join(layer, "lib/python3.13/os.py")},
		{Src: "/usr/lib/x86_64-linux-gnu/libz.so.1.3.1", Dest: filepath.Join(layer, "lib/libz.so.1")},
		{Src: "/usr/lib/python3.13/mine.py", Dest: filepath.Join(layer, "lib/python3.13/mine.py")}, // no package: left out
	}
	pkgs, err := db.WriteLayerRecords(layer, files)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadLayerRecords(layer)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range [][]*Package{pkgs, back} {
		if len(got) != 2 || got[0].Name != "libpython3.13-minimal" || got[1].Name != "zlib1g" || got[1].Version != "1:1.3.dfsg+really1.3.1-1+b1" {
			t.Errorf("recorded %+v", got)
		}
	}
	dir := filepath.Join(layer, StatusDir)
	for _, tt := range []struct{ file, want, not string }{
		{"libpython3.13-minimal", "Status: install ok installed\n", "Conffiles"},
		{"libpython3.13-minimal.md5sums", "  " + strings.TrimPrefix(layer, "/") + "/lib/python3.13/os.py\n", "mine.py"},
		{"zlib1g.md5sums", "  " + strings.TrimPrefix(layer, "/") + "/lib/libz.so.1\n", "os.py"},
	} {
		data, err := os.ReadFile(filepath.Join(dir, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), tt.want) || strings.Contains(string(data), tt.not) {
			t.Errorf("%s:\n%s\nwant %q, not %q", tt.file, data, tt.want, tt.not)
		}
	}
	comps := Components(back, DistroVersion(root))
	if want := "pkg:deb/debian/zlib1g@1:1.3.dfsg%2Breally1.3.1-1%2Bb1?arch=amd64&distro=debian-13"; comps[1].PackageURL != want {
		t.Errorf("purl %s, want %s", comps[1].PackageURL, want)
	}
	// Nothing owned: no records, and the old ones are gone.
	if pkgs, err := db.WriteLayerRecords(layer, files[2:]); err != nil || len(pkgs) != 0 {
		t.Errorf("WriteLayerRecords(unowned) = %v, %v", pkgs, err)
	}
	if back, _ := ReadLayerRecords(layer); len(back) != 0 {
		t.Errorf("stale records: %+v", back)
	}
}

// TestOpenHost reads this machine's own dpkg database, as the buildpacks read the build image's.
func TestOpenHost(t *testing.T) {
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		testenv.Unavailable(t, "not a Debian machine: %v", err)
	}
	zlib, err := filepath.EvalSymlinks("/usr/lib/x86_64-linux-gnu/libz.so.1")
	if err != nil {
		testenv.Unavailable(t, "zlib: %v", err)
	}
	db, err := Open("/")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := db.Owner(zlib)
	if !ok || p.Name != "zlib1g" || p.Version == "" || p.Arch != "amd64" {
		t.Errorf("Owner(%s) = %+v, %v; want zlib1g with its version", zlib, p, ok)
	}
}

// A root with status.d records and no status file (a target root, a run
// image) is read through the records and their md5sums; Owner takes a path
// under the root, and follows a symbolic link no md5sums lists.
func TestOpenStatusD(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, filepath.FromSlash(StatusDir))
	lib := filepath.Join(root, "usr", "lib", "aarch64-linux-gnu")
	for _, d := range []string{dir, lib} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(dir, "libstdc++6"):          "Package: libstdc++6\nStatus: install ok installed\nArchitecture: arm64\nVersion: 14.2.0-19\n",
		filepath.Join(dir, "libstdc++6.md5sums"):  "0123456789abcdef0123456789abcdef  usr/lib/aarch64-linux-gnu/libstdc++.so.6.0.33\n",
		filepath.Join(lib, "libstdc++.so.6.0.33"): "ELF",
	}
	for p, data := range files {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("libstdc++.so.6.0.33", filepath.Join(lib, "libstdc++.so.6")); err != nil {
		t.Fatal(err)
	}
	db, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ file, want string }{
		{"/usr/lib/aarch64-linux-gnu/libstdc++.so.6.0.33", "libstdc++6"},
		{filepath.Join(lib, "libstdc++.so.6.0.33"), "libstdc++6"},
		{filepath.Join(lib, "libstdc++.so.6"), "libstdc++6"},
		{"/lib/aarch64-linux-gnu/libstdc++.so.6.0.33", "libstdc++6"},
		{filepath.Join(lib, "libother.so.1"), ""},
	} {
		got := ""
		if p, ok := db.Owner(tt.file); ok {
			got = p.Name + " " + p.Arch
			tt.want += " arm64"
		}
		if got != tt.want {
			t.Errorf("Owner(%s) = %q, want %q", tt.file, got, tt.want)
		}
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("a root with neither a status file nor status.d: no error")
	}
}
