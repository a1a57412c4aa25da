package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ent is one crafted tar entry.
type ent struct {
	name string
	typ  byte
	mode int64
	link string
	body string
}

func file(name, body string) ent { return ent{name: name, typ: tar.TypeReg, mode: 0o644, body: body} }
func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, to string) ent {
	return ent{name: name, typ: tar.TypeSymlink, mode: 0o777, link: to}
}
func hardlink(name, to string) ent      { return ent{name: name, typ: tar.TypeLink, mode: 0o644, link: to} }
func special(name string, typ byte) ent { return ent{name: name, typ: typ, mode: 0o666} }

func tarBytes(t *testing.T, entries ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Size: int64(len(e.body)), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sandbox is a parent directory holding the destination and a sentinel
// directory beside it that no extraction may change.
type sandbox struct{ parent, dest, sentinel string }

func newSandbox(t *testing.T) sandbox {
	t.Helper()
	parent := t.TempDir()
	s := sandbox{parent, filepath.Join(parent, "dest"), filepath.Join(parent, "sentinel")}
	if err := os.MkdirAll(s.sentinel, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.sentinel, "keep"), []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// untouched fails unless the parent holds only dest and the sentinel, and
// the sentinel only its one file, unchanged.
func (s sandbox) untouched(t *testing.T) {
	t.Helper()
	for d, want := range map[string]string{s.parent: "dest sentinel", s.sentinel: "keep"} {
		entries, _ := os.ReadDir(d)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if got := strings.Join(names, " "); got != want && !(d == s.parent && got == "sentinel") {
			t.Errorf("%s holds %q, want %q", d, got, want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(s.sentinel, "keep")); err != nil || string(b) != "k" {
		t.Errorf("sentinel file changed: %q, %v", b, err)
	}
}

func TestExtractRefusesHostileInput(t *testing.T) {
	outside := "../sentinel" // from dest, the sentinel beside it
	long := strings.Repeat("n", 300)
	for _, tt := range []struct {
		name    string
		layer   bool
		entries func(s sandbox) []ent
		entry   string // the entry the error must name
		is      error  // the error must wrap it (nil: any error)
	}{
		{name: "absolute path", entries: func(s sandbox) []ent { return []ent{file(s.sentinel+"/evil", "x")} }, is: ErrEscape},
		{name: "dotdot escape", entries: func(sandbox) []ent { return []ent{file("a/../../sentinel/evil", "x")} }, entry: "a/../../sentinel/evil", is: ErrEscape},
		{name: "dotdot escape (layer)", layer: true, entries: func(sandbox) []ent { return []ent{file("../sentinel/evil", "x")} }, entry: "../sentinel/evil", is: ErrEscape},
		{name: "absolute symlink out then a file through it", entries: func(s sandbox) []ent {
			return []ent{symlink("cnb/buildpacks/x", s.sentinel), file("cnb/buildpacks/x/evil", "x")}
		}, entry: "cnb/buildpacks/x", is: ErrEscape},
		{name: "relative symlink out then a file through it", entries: func(sandbox) []ent {
			return []ent{dir("a/"), symlink("a/up", "../"+outside), file("a/up/evil", "x")}
		}, entry: "a/up", is: ErrEscape},
		{name: "symlink chain then a file through it", entries: func(sandbox) []ent {
			// s -> . makes s/s/l land at the top, where ../sentinel leaves dest.
			return []ent{symlink("s", "."), symlink("s/s/l", outside), file("l/evil", "x")}
		}, entry: "l/evil"},
		{name: "symlink chain left behind", entries: func(sandbox) []ent {
			return []ent{symlink("s", "."), symlink("s/s/l", outside)}
		}, entry: "l", is: ErrEscape},
		{name: "symlink loop left behind", entries: func(sandbox) []ent {
			return []ent{symlink("a", "b"), symlink("b", "a")}
		}, entry: "a"},
		{name: "hard link out", entries: func(sandbox) []ent { return []ent{hardlink("h", outside+"/keep")} }, entry: "h", is: ErrEscape},
		{name: "hard link out absolute", entries: func(s sandbox) []ent { return []ent{hardlink("h", s.sentinel+"/keep")} }, entry: "h", is: ErrEscape},
		{name: "hard link out (layer)", layer: true, entries: func(sandbox) []ent { return []ent{hardlink("h", outside+"/keep")} }, entry: "h", is: ErrEscape},
		{name: "character device", entries: func(sandbox) []ent { return []ent{special("dev/null", tar.TypeChar)} }, entry: "dev/null", is: ErrRefused},
		{name: "block device", entries: func(sandbox) []ent { return []ent{special("sda", tar.TypeBlock)} }, entry: "sda", is: ErrRefused},
		{name: "fifo", entries: func(sandbox) []ent { return []ent{special("p", tar.TypeFifo)} }, entry: "p", is: ErrRefused},
		{name: "setuid file", entries: func(sandbox) []ent {
			e := file("bin/su", "su")
			e.mode = 0o4755
			return []ent{e}
		}, entry: "bin/su", is: ErrRefused},
		{name: "setgid file", entries: func(sandbox) []ent {
			e := file("bin/sg", "sg")
			e.mode = 0o2755
			return []ent{e}
		}, entry: "bin/sg", is: ErrRefused},
		{name: "very long name", entries: func(sandbox) []ent { return []ent{file("d/"+long, "x")} }, entry: "d/" + long[:198]},
		{name: "whiteout of the parent (layer)", layer: true, entries: func(sandbox) []ent { return []ent{file("a/.wh..", "")} }, entry: "a/.wh..", is: ErrRefused},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			var opts []Option
			if tt.layer {
				opts = append(opts, Layer())
			}
			err := Extract(context.Background(), "hostile.tar", bytes.NewReader(tarBytes(t, tt.entries(s)...)), s.dest, opts...)
			if err == nil {
				t.Fatal("extracted, want an error")
			}
			if testing.Verbose() {
				t.Log(err)
			}
			if !strings.Contains(err.Error(), "extracting hostile.tar: ") || !strings.Contains(err.Error(), "entry \""+tt.entry) {
				t.Errorf("error %q does not name the archive and entry %q", err, tt.entry)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %q", err, tt.is)
			}
			s.untouched(t)
		})
	}
}

func TestExtractNeutralises(t *testing.T) {
	for _, tt := range []struct {
		name    string
		opts    []Option
		entries []ent
		want    map[string]string // path in dest → "file:<body>", "dir", "link:<target>", "absent"
	}{
		{
			name:    "a file replaces a directory symlink instead of writing through it",
			entries: []ent{dir("sub/"), file("sub/f", "f"), symlink("d", "sub"), file("d", "now a file")},
			want:    map[string]string{"d": "file:now a file", "sub/f": "file:f"},
		},
		{
			name:    "a file replaces an escaping symlink (layer)",
			opts:    []Option{Layer()},
			entries: []ent{symlink("d", "../sentinel/keep"), file("d", "mine")},
			want:    map[string]string{"d": "file:mine"},
		},
		{
			name:    "absolute symlink resolves inside the rootfs (layer)",
			opts:    []Option{Layer()},
			entries: []ent{symlink("evil", "/sentinel"), file("evil/x", "x")},
			want:    map[string]string{"sentinel/x": "file:x", "evil": "link:/sentinel"},
		},
		{
			name:    "relative symlink climbing out stops at the rootfs (layer)",
			opts:    []Option{Layer()},
			entries: []ent{dir("a/"), symlink("a/up", "../../../sentinel"), file("a/up/x", "x")},
			want:    map[string]string{"sentinel/x": "file:x"},
		},
		{
			name:    "devices are skipped (layer)",
			opts:    []Option{Layer()},
			entries: []ent{special("dev/null", tar.TypeChar), file("ok", "ok")},
			want:    map[string]string{"dev/null": "absent", "ok": "file:ok"},
		},
		{
			name:    "whiteouts are skipped outside layers",
			entries: []ent{file("a/.wh.b", ""), file("a/c", "c")},
			want:    map[string]string{"a/.wh.b": "absent", "a/c": "file:c"},
		},
		{
			name:    "strip components and links inside",
			opts:    []Option{StripComponents(1)},
			entries: []ent{file("package/lib/x.js", "x"), symlink("package/bin/x", "../lib/x.js"), hardlink("package/y.js", "package/lib/x.js"), file("top", "skipped")},
			want:    map[string]string{"lib/x.js": "file:x", "bin/x": "link:../lib/x.js", "y.js": "file:x", "top": "absent"},
		},
		{
			name:    "under keeps names",
			opts:    []Option{Under("cnb/buildpacks/")},
			entries: []ent{file("cnb/buildpacks/a/1/f", "f"), file("cnb/lifecycle/x", "x"), file("etc/passwd", "p")},
			want:    map[string]string{"cnb/buildpacks/a/1/f": "file:f", "cnb/lifecycle": "absent", "etc": "absent"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			if err := Extract(context.Background(), "t.tar", bytes.NewReader(tarBytes(t, tt.entries...)), s.dest, tt.opts...); err != nil {
				t.Fatal(err)
			}
			checkTree(t, s.dest, tt.want)
			s.untouched(t)
		})
	}
}

func TestExtractGzipAndLongPath(t *testing.T) {
	s := newSandbox(t)
	// A path longer than PATH_MAX made of short components: os.Root walks it
	// component by component; it lands inside or fails, never outside.
	deep := strings.Repeat(strings.Repeat("d", 60)+"/", 80) + "f"
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(tarBytes(t, file("ok", "ok"), file(deep, "x")))
	w.Close()
	err := Extract(context.Background(), "t.tgz", &gz, s.dest)
	if err != nil && !strings.Contains(err.Error(), "extracting t.tgz: entry \"dddd") {
		t.Errorf("error %q does not name the archive and entry", err)
	}
	checkTree(t, s.dest, map[string]string{"ok": "file:ok"})
	s.untouched(t)
}

func checkTree(t *testing.T, root string, want map[string]string) {
	t.Helper()
	for p, w := range want {
		full := filepath.Join(root, p)
		fi, err := os.Lstat(full)
		switch kind, arg, _ := strings.Cut(w, ":"); kind {
		case "absent":
			if err == nil {
				t.Errorf("%s exists, want absent", p)
			}
		case "dir":
			if err != nil || !fi.IsDir() {
				t.Errorf("%s: %v; want a directory", p, err)
			}
		case "link":
			if got, err := os.Readlink(full); err != nil || got != arg {
				t.Errorf("%s: link %q, %v; want %q", p, got, err, arg)
			}
		case "file":
			b, err := os.ReadFile(full)
			if err != nil || string(b) != arg || !fi.Mode().IsRegular() {
				t.Errorf("%s: %q, %v; want %q", p, b, err, arg)
			}
		}
	}
}

func TestWalk(t *testing.T) {
	var got []string
	collect := func(name string, hdr *tar.Header, body io.Reader) error {
		got = append(got, name)
		return nil
	}
	raw := tarBytes(t, dir("./"), dir("./lifecycle/"), file("./lifecycle/launcher", "l"), file("lifecycle.toml", "x"))
	if err := Walk(context.Background(), "lc.tgz", bytes.NewReader(raw), collect); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "lifecycle lifecycle/launcher lifecycle.toml" {
		t.Errorf("names %q", got)
	}
	for _, bad := range []ent{file("lifecycle/../../etc/passwd", "x"), file("/etc/passwd", "x")} {
		err := Walk(context.Background(), "lc.tgz", bytes.NewReader(tarBytes(t, bad)), collect)
		if !errors.Is(err, ErrEscape) || !strings.Contains(err.Error(), `reading lc.tgz: entry "`+bad.name+`"`) {
			t.Errorf("%s: error %v, want ErrEscape naming the archive and entry", bad.name, err)
		}
	}
}
