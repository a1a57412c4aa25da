package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	s, err := OpenStore(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("distill/run:static"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get from an empty store: error = %v, want ErrNotFound", err)
	}
	var nf *NotFoundError
	if _, err := s.Get("distill/run:static"); !errors.As(err, &nf) || nf.Ref != "distill/run:static" {
		t.Fatalf("Get: error = %#v, want a *NotFoundError for the ref", err)
	}

	run, build := randomImage(t, 2), randomImage(t, 3)
	if err := s.Put(ctx, "distill/run:static", run); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "distill/build:latest", build); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ref  string
		want string
	}{
		{"distill/run:static", mustDigest(t, run).String()},
		{"index.docker.io/distill/run:static", mustDigest(t, run).String()},
		{"docker.io/distill/build", mustDigest(t, build).String()},
	} {
		got, err := s.Get(tt.ref)
		if err != nil {
			t.Fatalf("Get(%s): %v", tt.ref, err)
		}
		if err := validate.Image(got); err != nil {
			t.Fatalf("Get(%s): invalid image: %v", tt.ref, err)
		}
		if d := mustDigest(t, got).String(); d != tt.want {
			t.Errorf("Get(%s) = %s, want %s", tt.ref, d, tt.want)
		}
	}

	// Put replaces; Prune drops the replaced image's blobs.
	newer := imageOf(t, tarLayer(t, file("etc/os-release", "ID=debian\n")))
	if err := s.Put(ctx, "distill/run:static", newer); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("distill/run:static")
	if err != nil {
		t.Fatal(err)
	}
	if mustDigest(t, got) != mustDigest(t, newer) {
		t.Errorf("after replacing: Get = %s, want %s", mustDigest(t, got), mustDigest(t, newer))
	}
	refs, _ := s.Refs()
	if len(refs) != 2 {
		t.Errorf("Refs = %v, want 2", refs)
	}
	if err := s.Prune(); err != nil {
		t.Fatal(err)
	}
	blobs, _ := os.ReadDir(filepath.Join(s.Dir(), "blobs", "sha256"))
	if len(blobs) != 3+5 { // newer: 1 layer + config + manifest; build: 3 layers + config + manifest
		t.Errorf("after Prune: %d blobs, want 8", len(blobs))
	}
	for _, ref := range []string{"distill/run:static", "distill/build"} {
		img, err := s.Get(ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Image(img); err != nil {
			t.Errorf("after Prune: %s: %v", ref, err)
		}
	}

	// A failed Put changes nothing visible.
	if err := s.Put(ctx, "distill/run:static", brokenImage(t)); !errors.Is(err, errBroken) {
		t.Fatalf("Put of a broken image: error = %v, want %v", err, errBroken)
	}
	got, err = s.Get("distill/run:static")
	if err != nil || mustDigest(t, got) != mustDigest(t, newer) {
		t.Errorf("after a failed Put: Get = %v, %v; want the previous image", got, err)
	}
	tmp, _ := filepath.Glob(filepath.Join(s.Dir(), "blobs", "sha256", ".tmp-*"))
	if len(tmp) != 0 {
		t.Errorf("temporary blobs left: %v", tmp)
	}

	if err := s.Delete("distill/build"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("distill/build"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Delete: error = %v, want ErrNotFound", err)
	}
	if _, err := s.Get("Not A Ref"); err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "parsing") {
		t.Errorf("Get(invalid) error = %v, want a parse error", err)
	}
}

func TestDefaultStoreDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/cache")
	got, err := DefaultStoreDir()
	if err != nil || got != "/cache/distill/images" {
		t.Errorf("DefaultStoreDir() = %q, %v; want /cache/distill/images", got, err)
	}
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	img := randomImage(t, 1)
	if err := s.Put(ctx, "distill/run:static", img); err != nil {
		t.Fatal(err)
	}
	layoutDir := filepath.Join(t.TempDir(), "app")
	if err := OCILayout(layoutDir).Write(ctx, img); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, ref string
		opts      []Option
		found     bool
	}{
		{"store", "distill/run:static", []Option{WithStore(s), WithSources(FromStore)}, true},
		{"store miss", "distill/run:base", []Option{WithStore(s), WithSources(FromStore)}, false},
		{"no store", "distill/run:static", []Option{WithSources(FromStore)}, false},
		{"oci layout", "oci:" + layoutDir, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(ctx, tt.ref, tt.opts...)
			if !tt.found {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("error = %v, want ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if mustDigest(t, got) != mustDigest(t, img) {
				t.Errorf("resolved %s, want %s", mustDigest(t, got), mustDigest(t, img))
			}
		})
	}
}
