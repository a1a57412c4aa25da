package stack

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const validStatic = `
ref = "distill/run:static"
title = "t"
suite = "trixie"
variant = "extract"
stack_id = "io.distill.stacks.trixie"
status_d = true
exclude = ["usr/share/doc/**"]

[distro]
name = "debian"
version = "13"

[user]
name = "cnb"
uid = 1000
gid = 1000
home = "/home/cnb"

[env]
CNB_USER_ID = "1000"

[[packages]]
name = "base-files"
keep = ["etc/os-release"]

[[packages]]
name = "ca-certificates"
keep = []

[[packages]]
name = "tzdata"

[ca_bundle]
path = "etc/ssl/certs/ca-certificates.crt"
certs = "usr/share/ca-certificates/mozilla/*.crt"

[[dirs]]
path = "tmp"
mode = "1777"
`

func writeDef(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadValid(t *testing.T) {
	p := writeDef(t, t.TempDir(), "run-static.toml", validStatic)
	d, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if d.Ref() != "distill/run:static" || d.File() != p || !d.Extract() {
		t.Errorf("ref=%q file=%q extract=%v", d.Ref(), d.File(), d.Extract())
	}
	if !strings.HasPrefix(d.Digest(), "sha256:") || len(d.Digest()) != 71 {
		t.Errorf("digest %q", d.Digest())
	}
	if d.Packages[0].keepAll || d.Packages[1].keepAll || !d.Packages[2].keepAll {
		t.Errorf("keepAll: %v %v %v (want false false true)", d.Packages[0].keepAll, d.Packages[1].keepAll, d.Packages[2].keepAll)
	}
	if d.Dirs[0].mode != 0o1777 {
		t.Errorf("dir mode %o", d.Dirs[0].mode)
	}
	// The digest follows the content.
	p2 := writeDef(t, t.TempDir(), "x.toml", validStatic+"\n# comment\n")
	d2, err := Load(p2)
	if err != nil {
		t.Fatal(err)
	}
	if d2.Digest() == d.Digest() {
		t.Error("different content, same digest")
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		wantErr string // besides the file name
	}{
		{"syntax", func(s string) string { return s + "\n[[packages]\n" }, ":"},
		{"unknown field", func(s string) string { return strings.Replace(s, `title = "t"`, `title = "t"`+"\nbogus = 1", 1) }, "bogus: unknown field"},
		{"unknown nested field", func(s string) string {
			return strings.Replace(s, `name = "tzdata"`, `name = "tzdata"`+"\nkepp = []", 1)
		}, "packages.kepp: unknown field"},
		{"missing ref", func(s string) string { return strings.Replace(s, `ref = "distill/run:static"`, "", 1) }, "ref: required"},
		{"bad ref", func(s string) string { return strings.Replace(s, `distill/run:static`, `Distill//x`, 1) }, "ref: "},
		{"missing suite", func(s string) string { return strings.Replace(s, `suite = "trixie"`, "", 1) }, "suite: required"},
		{"bad variant", func(s string) string { return strings.Replace(s, `variant = "extract"`, `variant = "fat"`, 1) }, `variant: unknown variant "fat"`},
		{"missing stack id", func(s string) string { return strings.Replace(s, `stack_id = "io.distill.stacks.trixie"`, "", 1) }, "stack_id: required"},
		{"missing distro version", func(s string) string { return strings.Replace(s, `version = "13"`, "", 1) }, "distro.version: required"},
		{"bad target_of", func(s string) string {
			return strings.Replace(s, `title = "t"`, `title = "t"`+"\ntarget_of = \"Build//x\"", 1)
		}, "target_of: "},
		{"target_of needs extract", func(s string) string {
			s = strings.Replace(s, `title = "t"`, `title = "t"`+"\ntarget_of = \"distill/build:latest\"", 1)
			return strings.Replace(strings.Replace(s, `variant = "extract"`, `variant = "minbase"`, 1), "status_d = true", "", 1)
		}, "target_of: needs variant"},
		{"status_d needs extract", func(s string) string {
			s = strings.Replace(s, `variant = "extract"`, `variant = "minbase"`, 1)
			return s
		}, "status_d: only for variant"},
		{"keep needs extract", func(s string) string {
			s = strings.Replace(s, `variant = "extract"`, `variant = "minbase"`, 1)
			return strings.Replace(s, "status_d = true", "", 1)
		}, "packages[0].keep: per-package selection"},
		{"bad global glob", func(s string) string { return strings.Replace(s, `"usr/share/doc/**"`, `"usr/[doc"`, 1) }, `exclude[0]: "usr/[doc" is not a valid glob`},
		{"absolute glob", func(s string) string { return strings.Replace(s, `"usr/share/doc/**"`, `"/usr/share/doc/**"`, 1) }, `exclude[0]: "/usr/share/doc/**": globs are relative to /`},
		{"bad package glob", func(s string) string { return strings.Replace(s, `keep = ["etc/os-release"]`, `keep = ["etc/[x"]`, 1) }, "packages[0].keep[0]"},
		{"bad package name", func(s string) string { return strings.Replace(s, `name = "tzdata"`, `name = "TZ data"`, 1) }, `packages[2].name: "TZ data" is not a Debian package name`},
		{"duplicate package", func(s string) string { return strings.Replace(s, `name = "tzdata"`, `name = "base-files"`, 1) }, `packages[2].name: "base-files" listed twice`},
		{"no packages", func(s string) string { return s[:strings.Index(s, "[[packages]]")] }, "packages: at least one"},
		{"root user", func(s string) string { return strings.Replace(s, `name = "cnb"`, `name = "root"`, 1) }, "user.name:"},
		{"uid 0", func(s string) string { return strings.Replace(s, `uid = 1000`, `uid = 0`, 1) }, "user.uid: 0"},
		{"relative home", func(s string) string { return strings.Replace(s, `home = "/home/cnb"`, `home = "home/cnb"`, 1) }, "user.home:"},
		{"env mismatch", func(s string) string { return strings.Replace(s, `CNB_USER_ID = "1000"`, `CNB_USER_ID = "1001"`, 1) }, `env.CNB_USER_ID: "1001" does not match the user (1000)`},
		{"bad env name", func(s string) string { return strings.Replace(s, `CNB_USER_ID = "1000"`, `"1X" = "a"`, 1) }, "env.1X: not a valid variable name"},
		{"bundle path absolute", func(s string) string {
			return strings.Replace(s, `path = "etc/ssl/certs/ca-certificates.crt"`, `path = "/etc/x.crt"`, 1)
		}, "ca_bundle.path:"},
		{"bundle without package", func(s string) string { return strings.Replace(s, `name = "ca-certificates"`, `name = "ca-certs"`, 1) }, "ca_bundle: needs the ca-certificates package"},
		{"bad dir mode", func(s string) string { return strings.Replace(s, `mode = "1777"`, `mode = "rwx"`, 1) }, `dirs[0].mode: "rwx" is not an octal mode`},
		{"dir with dotdot", func(s string) string { return strings.Replace(s, `path = "tmp"`, `path = "../tmp"`, 1) }, "dirs[0].path:"},
		{"bad drop_depends", func(s string) string {
			return strings.Replace(s, `name = "tzdata"`, `name = "tzdata"`+"\ndrop_depends = [\"Deb Conf\"]", 1)
		}, `packages[2].drop_depends[0]: "Deb Conf"`},
		{"wrong type", func(s string) string { return strings.Replace(s, `uid = 1000`, `uid = "1000"`, 1) }, "uid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeDef(t, t.TempDir(), "bad.toml", tt.edit(validStatic))
			_, err := Load(p)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), p) {
				t.Errorf("error does not start with the file name: %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	writeDef(t, dir, "b.toml", validStatic)
	writeDef(t, dir, "a.toml", strings.Replace(validStatic, "distill/run:static", "distill/run:other", 1))
	defs, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 2 || defs[0].Ref() != "distill/run:other" || defs[1].Ref() != "distill/run:static" {
		t.Fatalf("got %d definitions", len(defs))
	}
	writeDef(t, dir, "c.toml", validStatic)
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "c.toml: ref:") {
		t.Errorf("duplicate ref: %v", err)
	}
	if _, err := LoadDir(t.TempDir()); err == nil {
		t.Error("empty dir: no error")
	}
}

// A target root (target_of) names a build image of its directory, and is
// left out of StackRefs: only a build for a foreign architecture uses it.
func TestLoadDirTargetOf(t *testing.T) {
	dir := t.TempDir()
	writeDef(t, dir, "a.toml", validStatic)
	writeDef(t, dir, "b.toml", strings.Replace(validStatic, `ref = "distill/run:static"`, `ref = "distill/build:target"`+"\ntarget_of = \"distill/run:static\"", 1))
	images := &Images{StacksDir: dir}
	refs, err := images.StackRefs()
	if err != nil || !slices.Equal(refs, []string{"distill/run:static"}) {
		t.Errorf("StackRefs = %v, %v; want only distill/run:static", refs, err)
	}
	if img, err := images.TargetRoot(t.Context(), "distill/run:static"); img != nil || err != nil {
		t.Errorf("TargetRoot for the running architecture = %v, %v; want nothing", img, err)
	}
	writeDef(t, dir, "b.toml", strings.Replace(validStatic, `ref = "distill/run:static"`, `ref = "distill/build:target"`+"\ntarget_of = \"distill/build:latest\"", 1))
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), `b.toml: target_of: "distill/build:latest" is not defined in`) {
		t.Errorf("unknown target_of: %v", err)
	}
}

// The definitions shipped in stacks/ must load.
func TestRepositoryStacks(t *testing.T) {
	defs, err := LoadDir("../../stacks")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"distill/build:latest": true, "distill/run:static": true, "distill/run:base": true}
	for _, d := range defs {
		delete(want, d.Ref())
	}
	if len(want) != 0 {
		t.Errorf("missing stacks: %v", want)
	}
}

// The build image has the CNB directories, owned by its user, so a platform
// running inside it as that user can build in place (pack's builder images
// have them too).
func TestBuildStackCNBDirs(t *testing.T) {
	d, err := Load("../../stacks/build.toml")
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]Dir{}
	for _, dir := range d.Dirs {
		dirs[dir.Path] = dir
	}
	for _, p := range []string{"workspace", "layers", "platform", "platform/env", "platform/bindings"} {
		dir, ok := dirs[p]
		switch {
		case !ok:
			t.Errorf("stacks/build.toml has no [[dirs]] %s", p)
		case dir.UID != d.User.UID || dir.GID != d.User.GID || dir.mode != 0o755:
			t.Errorf("/%s is %o %d:%d, want 755 owned by the CNB user %d:%d", p, dir.mode, dir.UID, dir.GID, d.User.UID, d.User.GID)
		}
	}
}

func TestMatchAny(t *testing.T) {
	tests := []struct {
		globs []string
		path  string
		want  bool
	}{
		{[]string{"usr/share/doc/**"}, "usr/share/doc", true},
		{[]string{"usr/share/doc/**"}, "usr/share/doc/libc6/copyright", true},
		{[]string{"usr/share/doc/**"}, "usr/share/docs", false},
		{[]string{"usr/share/doc/**"}, "usr/share", false},
		{[]string{"tmp"}, "tmp", true},
		{[]string{"tmp"}, "tmp/x", true}, // a matched directory brings its subtree
		{[]string{"tmp"}, "tmpfoo", false},
		{[]string{"var/log/*"}, "var/log", false},
		{[]string{"var/log/*"}, "var/log/apt/eipp.log.xz", true},
		{[]string{"usr/lib/*/gconv/**"}, "usr/lib/x86_64-linux-gnu/gconv/UTF-16.so", true},
		{[]string{"usr/lib/*/gconv/**"}, "usr/lib/x86_64-linux-gnu/libc.so.6", false},
		{[]string{"usr/share/ca-certificates/mozilla/*.crt"}, "usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt", true},
		{nil, "etc", false},
	}
	for _, tt := range tests {
		if got := matchAny(tt.globs, tt.path); got != tt.want {
			t.Errorf("matchAny(%q, %q) = %v, want %v", tt.globs, tt.path, got, tt.want)
		}
	}
}

func TestKeepPath(t *testing.T) {
	d := &Definition{Exclude: []string{"usr/share/doc/**"}}
	all := &Package{keepAll: true, Exclude: []string{"usr/lib/*/gconv/**"}}
	none := &Package{Keep: []string{}}
	some := &Package{Keep: []string{"usr/share/zoneinfo/**"}, Exclude: []string{"usr/share/zoneinfo/right/**"}}
	tests := []struct {
		p    *Package
		path string
		want bool
	}{
		{all, "usr/lib/x86_64-linux-gnu/libc.so.6", true},
		{all, "usr/lib/x86_64-linux-gnu/gconv/gconv-modules", false},
		{all, "usr/share/doc/libc6/copyright", false},
		{none, "usr/sbin/update-ca-certificates", false},
		{some, "usr/share/zoneinfo/Europe/Paris", true},
		{some, "usr/share/zoneinfo/right/UTC", false},
		{some, "usr/share/doc/tzdata/changelog.gz", false},
		{some, "usr/sbin/tzconfig", false},
	}
	for _, tt := range tests {
		if got := keepPath(d, tt.p, tt.path); got != tt.want {
			t.Errorf("keepPath(%+v, %q) = %v, want %v", tt.p, tt.path, got, tt.want)
		}
	}
}

func TestMmdebstrapArgs(t *testing.T) {
	d := &Definition{Suite: "trixie", Variant: "minbase", Exclude: []string{"usr/share/doc/**"},
		Packages: []Package{{Name: "git"}, {Name: "curl"}}}
	got := strings.Join(mmdebstrapArgs(d, "amd64", "/o.tar", []string{"http://m/debian"}), " ")
	want := "--variant=minbase --architectures=amd64 --format=tar --include=git,curl --dpkgopt=path-exclude=/usr/share/doc/* trixie /o.tar http://m/debian"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	d.Variant = "extract"
	got = strings.Join(mmdebstrapArgs(d, "arm64", "/o.tar", nil), " ")
	want = "--variant=extract --architectures=arm64 --format=tar --include=git,curl --skip=cleanup/apt/cache trixie /o.tar"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if m := splitMirrors(" http://a/debian | deb http://b/debian trixie main\n"); len(m) != 2 || m[1] != "deb http://b/debian trixie main" {
		t.Errorf("splitMirrors: %q", m)
	}
}

func TestCheckDepends(t *testing.T) {
	d := &Definition{Packages: []Package{
		{Name: "libssl3t64"},
		{Name: "tzdata", DropDepends: []string{"debconf"}},
		{Name: "libc6"},
	}}
	debs := map[string]*debPackage{
		"libssl3t64": {name: "libssl3t64", depends: [][]string{{"libc6"}}},
		"tzdata":     {name: "tzdata", depends: [][]string{{"debconf", "debconf-2.0"}}},
		"libc6":      {name: "libc6"},
	}
	if err := checkDepends(d, debs); err != nil {
		t.Fatal(err)
	}
	debs["libssl3t64"].depends = append(debs["libssl3t64"].depends, []string{"libzstd1"})
	err := checkDepends(d, debs)
	if err == nil || !strings.Contains(err.Error(), "packages[0]: libssl3t64 depends on libzstd1, which is not in the image") {
		t.Errorf("err = %v", err)
	}
	delete(debs, "libc6")
	if err := checkDepends(d, debs); err == nil || !strings.Contains(err.Error(), `packages[2].name: "libc6" was not fetched`) {
		t.Errorf("err = %v", err)
	}
}
