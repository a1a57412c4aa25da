package image

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
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

// tarOf is the tar LayerFromDir writes for dir with opts.
func tarOf(t *testing.T, dir string, opts ...LayerOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteDir(&buf, dir, opts...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLayerFromDirSizes(t *testing.T) {
	app := t.TempDir()
	if err := os.WriteFile(filepath.Join(app, "binary"), bytes.Repeat([]byte("distill "), 4096), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		dir  string
		opts []LayerOption
	}{
		{"empty dir", t.TempDir(), nil},
		{"files, zstd", app, []LayerOption{WithPrefix("/layers/distill_go/app")}},
		{"files, gzip", app, []LayerOption{WithCompression(Gzip), WithOwner(1000, 1000)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			blobs := t.TempDir()
			opts := append([]LayerOption{WithStaging(t.TempDir()), WithBlobCache(blobs)}, tt.opts...)
			want := tarOf(t, tt.dir, opts...)
			l, err := LayerFromDir(tt.dir, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if l.UncompressedSize != int64(len(want)) {
				t.Errorf("UncompressedSize = %d, want the tar's %d", l.UncompressedSize, len(want))
			}
			diffID, _, _ := v1.SHA256(bytes.NewReader(want))
			if d, err := l.DiffID(); err != nil || d != diffID {
				t.Errorf("DiffID = %s, %v; want %s", d, err, diffID)
			}
			rc, err := l.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			digest, size, err := v1.SHA256(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := l.Digest(); d != digest {
				t.Errorf("Digest = %s, want the blob's %s", d, digest)
			}
			if s, _ := l.Size(); s != size {
				t.Errorf("Size = %d, want the blob's %d", s, size)
			}
			rc, err = l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("Uncompressed gives %d bytes (%v), want the tar's %d", len(got), err, len(want))
			}
		})
	}
}

// TestLayerFromDirReusesBlob: an unchanged layer takes its blob and sizes
// from the blob cache, without compressing again.
func TestLayerFromDirReusesBlob(t *testing.T) {
	app := t.TempDir()
	if err := os.WriteFile(filepath.Join(app, "data"), bytes.Repeat([]byte("x"), 10000), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		damage     func(t *testing.T, blob string) // applied to the kept blob before the second build
		recompress bool
	}{
		{"kept", func(*testing.T, string) {}, false},
		{"record lost", func(t *testing.T, blob string) { os.Remove(blob + ".json") }, true},
		{"blob truncated", func(t *testing.T, blob string) { os.Truncate(blob, 3) }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			blobs := t.TempDir()
			opts := []LayerOption{WithStaging(t.TempDir()), WithBlobCache(blobs)}
			first, err := LayerFromDir(app, opts...)
			if err != nil {
				t.Fatal(err)
			}
			diffID, _ := first.DiffID()
			blob := filepath.Join(blobs, diffID.Hex+".tar.zstd")
			tt.damage(t, blob)
			past := time.Unix(1e9, 0)
			if err := os.Chtimes(blob, past, past); err != nil {
				t.Fatal(err)
			}
			again, err := LayerFromDir(app, opts...)
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(blob)
			if err != nil {
				t.Fatal(err)
			}
			if rewritten := !fi.ModTime().Equal(past); rewritten != tt.recompress {
				t.Errorf("blob rewritten = %v, want %v", rewritten, tt.recompress)
			}
			d1, _ := first.Digest()
			d2, _ := again.Digest()
			s1, _ := first.Size()
			s2, _ := again.Size()
			if d1 != d2 || s1 != s2 || first.UncompressedSize != again.UncompressedSize || fi.Size() != s2 {
				t.Errorf("reused layer: digest %s size %d uncompressed %d (blob %d bytes), first: %s %d %d",
					d2, s2, again.UncompressedSize, fi.Size(), d1, s1, first.UncompressedSize)
			}
		})
	}
}

// unreadable is a layer that fails to decompress.
type unreadable struct{ v1.Layer }

func (unreadable) Uncompressed() (io.ReadCloser, error) { return nil, errors.New("decompressed") }

func TestUncompressedSize(t *testing.T) {
	foreign := tarLayer(t, file("etc/os-release", "ID=debian"))
	rc, _ := foreign.Uncompressed()
	tarLen, _ := io.Copy(io.Discard, rc)
	measured := t.TempDir()
	if n, err := UncompressedSize(foreign, measured); err != nil || n != tarLen {
		t.Fatalf("measuring: %d, %v; want %d", n, err, tarLen)
	}
	app := t.TempDir()
	own, err := LayerFromDir(app, WithStaging(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		layer   v1.Layer
		dir     string
		want    int64
		wantErr bool
	}{
		{"distill's layer knows it", own, "", int64(len(tarOf(t, app))), false},
		{"counted", foreign, "", tarLen, false},
		{"measured once, then remembered", unreadable{foreign}, measured, tarLen, false},
		{"not remembered elsewhere", unreadable{foreign}, t.TempDir(), 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, err := UncompressedSize(tt.layer, tt.dir)
			if (err != nil) != tt.wantErr || n != tt.want {
				t.Errorf("UncompressedSize = %d, %v; want %d (error %v)", n, err, tt.want, tt.wantErr)
			}
		})
	}
}
