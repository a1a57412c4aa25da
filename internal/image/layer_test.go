package image

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLayerFromDirReproducible(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // LayerFromDir leaves its staging tar behind
	mk := func(mtime time.Time) string {
		dir := t.TempDir()
		for p, body := range map[string]string{"bin/app": "binary", "etc/config": "x=1", "z": ""} {
			full := filepath.Join(dir, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink("bin/app", filepath.Join(dir, "app")); err != nil {
			t.Fatal(err)
		}
		filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, mtime, mtime) })
		return dir
	}
	a, b := mk(time.Unix(1e9, 0)), mk(time.Now())
	digest := func(dir string, opts ...LayerOption) string {
		l, err := LayerFromDir(dir, opts...)
		if err != nil {
			t.Fatal(err)
		}
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	for _, tt := range []struct {
		name string
		opts []LayerOption
	}{
		{"plain", nil},
		{"prefixed and owned", []LayerOption{WithPrefix("/layers/distill_go/app"), WithOwner(1000, 1000)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			first := digest(a, tt.opts...)
			if again := digest(a, tt.opts...); again != first {
				t.Errorf("same dir twice: %s then %s", first, again)
			}
			if other := digest(b, tt.opts...); other != first {
				t.Errorf("different mtimes: %s and %s", first, other)
			}
		})
	}
	if digest(a) == digest(a, WithOwner(1000, 1000)) {
		t.Error("owner does not change the digest")
	}
}
