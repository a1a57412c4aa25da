package image

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/testenv"
)

func TestUnpack(t *testing.T) {
	for _, tt := range []struct {
		name    string
		layers  [][]entry
		want    map[string]string // path → "file:<body>", "dir", "link:<target>", "absent"
		wantErr string
	}{
		{
			name: "files dirs symlinks",
			layers: [][]entry{{
				dir("etc/"), file("etc/os-release", "ID=debian\n"), symlink("etc/alias", "os-release"),
				file("usr/bin/app", "#!"), // parent implied
			}},
			want: map[string]string{"etc": "dir", "etc/os-release": "file:ID=debian\n", "etc/alias": "link:os-release", "usr/bin/app": "file:#!"},
		},
		{
			name: "whiteout",
			layers: [][]entry{
				{file("a/keep", "k"), file("a/gone", "g"), dir("b/"), file("b/x", "x")},
				{file("a/.wh.gone", ""), file(".wh.b", "")},
			},
			want: map[string]string{"a/keep": "file:k", "a/gone": "absent", "b": "absent"},
		},
		{
			name: "opaque whiteout keeps this layer's entries",
			layers: [][]entry{
				{file("d/old", "o"), file("d/sub/old", "o")},
				{dir("d/"), file("d/+new", "n"), file("d/.wh..wh..opq", ""), dir("d/sub/"), file("d/sub/new", "n")},
			},
			want: map[string]string{"d": "dir", "d/old": "absent", "d/+new": "file:n", "d/sub/old": "absent", "d/sub/new": "file:n"},
		},
		{
			name: "later layer replaces file and dir",
			layers: [][]entry{
				{file("x", "1"), dir("y/"), file("y/z", "z")},
				{file("x", "2"), file("y", "now a file")},
			},
			want: map[string]string{"x": "file:2", "y": "file:now a file"},
		},
		{
			name:   "hardlink",
			layers: [][]entry{{file("bin/busybox", "bb"), hardlink("bin/sh", "bin/busybox")}},
			want:   map[string]string{"bin/sh": "file:bb", "bin/busybox": "file:bb"},
		},
		{
			name: "write through symlinked dir stays inside (usrmerge)",
			layers: [][]entry{
				{dir("usr/lib/"), symlink("lib", "usr/lib")},
				{file("lib/libc.so", "c")},
			},
			want: map[string]string{"usr/lib/libc.so": "file:c", "lib": "link:usr/lib"},
		},
		{
			name: "absolute symlink resolves inside the root",
			layers: [][]entry{
				{symlink("evil", "/tmp/outside")},
				{file("evil/x", "x")},
			},
			want: map[string]string{"tmp/outside/x": "file:x", "evil": "link:/tmp/outside"},
		},
		{
			name: "relative symlink climbing out stops at the root",
			layers: [][]entry{
				{dir("a/"), symlink("a/up", "../../../..")},
				{file("a/up/x", "x")},
			},
			want: map[string]string{"x": "file:x"},
		},
		{
			name:    "dotdot entry refused",
			layers:  [][]entry{{file("../escape", "x")}},
			wantErr: "entry \"../escape\": name climbs with \"..\": leads outside the destination",
		},
		{
			name:    "hardlink out refused",
			layers:  [][]entry{{hardlink("passwd", "../../etc/passwd")}},
			wantErr: "entry \"passwd\": hard link to \"../../etc/passwd\"",
		},
		{
			name: "device nodes skipped",
			layers: [][]entry{{
				{name: "dev/null", typ: tar.TypeChar, mode: 0o666}, file("ok", "ok"),
			}},
			want: map[string]string{"dev/null": "absent", "ok": "file:ok"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var layers []v1.Layer
			for _, l := range tt.layers {
				layers = append(layers, tarLayer(t, l...))
			}
			parent := t.TempDir()
			root := filepath.Join(parent, "rootfs")
			err := Unpack(context.Background(), imageOf(t, layers...), root)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if entries, _ := os.ReadDir(parent); len(entries) != 0 {
					t.Errorf("failed unpack left %d entries in %s", len(entries), parent)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for p, want := range tt.want {
				full := filepath.Join(root, p)
				fi, err := os.Lstat(full)
				switch kind, arg, _ := strings.Cut(want, ":"); kind {
				case "absent":
					if err == nil {
						t.Errorf("%s exists, want absent", p)
					}
				case "dir":
					if err != nil || !fi.IsDir() {
						t.Errorf("%s: %v, %v; want a directory", p, fi, err)
					}
				case "link":
					got, err := os.Readlink(full)
					if err != nil || got != arg {
						t.Errorf("%s: link %q, %v; want %q", p, got, err, arg)
					}
				case "file":
					b, err := os.ReadFile(full)
					if err != nil || string(b) != arg || !fi.Mode().IsRegular() {
						t.Errorf("%s: %q, %v; want %q", p, b, err, arg)
					}
				}
			}
		})
	}
}

func TestUnpackMetadataAndReuse(t *testing.T) {
	testenv.NeedRoot(t, "unpacking keeps owners (chown)")
	setuid := file("bin/su", "su")
	setuid.mode, setuid.uid, setuid.gid = 0o4755, 0, 0
	owned := file("home/cnb/f", "f")
	owned.uid, owned.gid, owned.mode = 1000, 1001, 0o600
	img := imageOf(t, tarLayer(t, setuid, owned, file("a", "1"), hardlink("b", "a")))
	root := filepath.Join(t.TempDir(), "rootfs")
	if err := Unpack(context.Background(), img, root); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(root, "bin/su"))
	if err != nil || fi.Mode()&os.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/su: mode %v, %v; want setuid 0755", fi.Mode(), err)
	}
	fi, _ = os.Stat(filepath.Join(root, "home/cnb/f"))
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 1000 || st.Gid != 1001 || fi.Mode().Perm() != 0o600 {
		t.Errorf("home/cnb/f: %d:%d %v, want 1000:1001 0600", st.Uid, st.Gid, fi.Mode().Perm())
	}
	a, _ := os.Stat(filepath.Join(root, "a"))
	b, _ := os.Stat(filepath.Join(root, "b"))
	if !os.SameFile(a, b) {
		t.Error("b is not a hard link of a")
	}
	if fi, _ := os.Stat(root); fi.Mode().Perm() != 0o755 {
		t.Errorf("root mode %v, want 0755", fi.Mode().Perm())
	}
	// An existing dir is reused as it is.
	if err := Unpack(context.Background(), imageOf(t, tarLayer(t, file("other", "x"))), root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "other")); err == nil {
		t.Error("Unpack into an existing dir changed it")
	}
}

// TestUnpackHostileLayers feeds crafted layers that aim at a sentinel
// directory beside the rootfs: each lands inside the rootfs or is refused,
// and the sentinel never changes.
func TestUnpackHostileLayers(t *testing.T) {
	for _, tt := range []struct {
		name    string
		layers  func(sentinel string) [][]entry
		wantErr string
	}{
		{"absolute symlink to the sentinel, then a file through it", func(s string) [][]entry {
			return [][]entry{{symlink("evil", s)}, {file("evil/keep", "overwritten"), file("evil/new", "x")}}
		}, ""},
		{"relative symlink out, then a file through it", func(string) [][]entry {
			return [][]entry{{dir("a/"), symlink("a/up", "../../sentinel")}, {file("a/up/keep", "overwritten")}}
		}, ""},
		{"a file replacing an escaping symlink", func(string) [][]entry {
			return [][]entry{{symlink("f", "../sentinel/keep")}, {file("f", "overwritten")}}
		}, ""},
		{"whiteout through an escaping symlink", func(s string) [][]entry {
			return [][]entry{{symlink("w", s)}, {file("w/.wh.keep", "")}}
		}, ""},
		{"opaque whiteout through an escaping symlink", func(s string) [][]entry {
			return [][]entry{{symlink("w", s)}, {file("w/.wh..wh..opq", "")}}
		}, ""},
		{"hard link to the sentinel", func(s string) [][]entry {
			return [][]entry{{hardlink("h", "../sentinel/keep")}}
		}, `entry "h": hard link to "../sentinel/keep"`},
		{"dotdot name", func(string) [][]entry {
			return [][]entry{{file("x/../../sentinel/keep", "overwritten")}}
		}, `entry "x/../../sentinel/keep"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			sentinel := filepath.Join(parent, "sentinel")
			if err := os.MkdirAll(sentinel, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sentinel, "keep"), []byte("k"), 0o644); err != nil {
				t.Fatal(err)
			}
			var layers []v1.Layer
			for _, l := range tt.layers(sentinel) {
				layers = append(layers, tarLayer(t, l...))
			}
			err := Unpack(context.Background(), imageOf(t, layers...), filepath.Join(parent, "rootfs"))
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), "extracting layer 0 (sha256:") || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want the layer and %q", err, tt.wantErr)
			}
			entries, _ := os.ReadDir(sentinel)
			b, _ := os.ReadFile(filepath.Join(sentinel, "keep"))
			if len(entries) != 1 || string(b) != "k" {
				t.Errorf("sentinel changed: %d entries, keep = %q", len(entries), b)
			}
		})
	}
}
