package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// ErrNotFound is matched (errors.Is) by every "no such image" error of this package.
var ErrNotFound = errors.New("image not found")

// NotFoundError says which image was not found, and where.
type NotFoundError struct {
	Ref   string
	Where string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s: %s not found", e.Where, e.Ref) }

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Store is a local OCI image layout holding many images, each named by the
// org.opencontainers.image.ref.name annotation of its index.json entry. Blobs
// are written before the index, each atomically, and the index is replaced
// atomically under a file lock, so readers and other processes never see a
// partial image.
type Store struct {
	dir string
}

// DefaultStoreDir is $XDG_CACHE_HOME/distill/images, or ~/.cache/distill/images.
func DefaultStoreDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(cache, "distill", "images"), nil
}

// OpenStore opens the store at dir, creating it if needed.
func OpenStore(dir string) (*Store, error) {
	lw := layoutWriter{dir: dir}
	if err := lw.init(); err != nil {
		return nil, fmt.Errorf("opening image store: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the store's OCI layout directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) String() string { return "image store " + s.dir }

// normalizeRef names images the way lookups will: "distill/run:static" and
// "index.docker.io/distill/run:static" are one image.
func normalizeRef(ref string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("parsing %q: %w", ref, err)
	}
	return r.Name(), nil
}

// Put stores img as ref, replacing an older image of that ref. Blobs of the
// replaced image stay until Prune.
func (s *Store) Put(ctx context.Context, ref string, img v1.Image) error {
	key, err := normalizeRef(ref)
	if err != nil {
		return err
	}
	lw := layoutWriter{dir: s.dir}
	desc, err := lw.writeImage(ctx, img)
	if err != nil {
		return fmt.Errorf("storing %s in %s: %w", ref, s.dir, err)
	}
	desc.Annotations = map[string]string{RefNameAnnotation: key}
	return s.updateIndex(func(idx *index) {
		kept := idx.Manifests[:0]
		for _, m := range idx.Manifests {
			if m.Annotations[RefNameAnnotation] != key {
				kept = append(kept, m)
			}
		}
		idx.Manifests = append(kept, desc)
	})
}

// Get returns the image stored as ref, or a *NotFoundError. Blobs are read lazily.
func (s *Store) Get(ref string) (v1.Image, error) {
	key, err := normalizeRef(ref)
	if err != nil {
		return nil, err
	}
	idx, err := layoutWriter{dir: s.dir}.readIndex()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s, err)
	}
	for i := len(idx.Manifests) - 1; i >= 0; i-- {
		m := idx.Manifests[i]
		if m.Annotations[RefNameAnnotation] != key {
			continue
		}
		img, err := readImage(s.dir, m)
		if err != nil {
			return nil, fmt.Errorf("reading %s from %s: %w", ref, s, err)
		}
		return img, nil
	}
	return nil, &NotFoundError{Ref: ref, Where: s.String()}
}

// Delete removes ref from the index (its blobs stay until Prune).
func (s *Store) Delete(ref string) error {
	key, err := normalizeRef(ref)
	if err != nil {
		return err
	}
	return s.updateIndex(func(idx *index) {
		kept := idx.Manifests[:0]
		for _, m := range idx.Manifests {
			if m.Annotations[RefNameAnnotation] != key {
				kept = append(kept, m)
			}
		}
		idx.Manifests = kept
	})
}

// Refs lists the names of the stored images.
func (s *Store) Refs() ([]string, error) {
	idx, err := layoutWriter{dir: s.dir}.readIndex()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s, err)
	}
	var refs []string
	for _, m := range idx.Manifests {
		if r := m.Annotations[RefNameAnnotation]; r != "" {
			refs = append(refs, r)
		}
	}
	return refs, nil
}

// Prune removes the blobs no stored image uses. It holds the store's lock, but
// a Put running meanwhile in another process may lose blobs it has written and
// not yet indexed: run it when no build is running.
func (s *Store) Prune() error {
	return s.locked(func() error {
		idx, err := layoutWriter{dir: s.dir}.readIndex()
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, m := range idx.Manifests {
			keep[m.Digest.Hex] = true
			img, err := readImage(s.dir, m)
			if err != nil {
				return err
			}
			mf, err := img.Manifest()
			if err != nil {
				return fmt.Errorf("reading %s: %w", m.Digest, err)
			}
			keep[mf.Config.Digest.Hex] = true
			for _, l := range mf.Layers {
				keep[l.Digest.Hex] = true
			}
		}
		blobs := filepath.Join(s.dir, "blobs", "sha256")
		entries, err := os.ReadDir(blobs)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !keep[e.Name()] && !strings.HasPrefix(e.Name(), ".") { // .tmp-*: a write in progress
				if err := os.Remove(filepath.Join(blobs, e.Name())); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (s *Store) updateIndex(update func(*index)) error {
	return s.locked(func() error {
		lw := layoutWriter{dir: s.dir}
		idx, err := lw.readIndex()
		if err != nil {
			return err
		}
		update(idx)
		return lw.writeIndex(idx)
	})
}

// locked runs f holding an exclusive lock on the store's index.
func (s *Store) locked(f func() error) error {
	lock, err := os.OpenFile(filepath.Join(s.dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("locking %s: %w", s, err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", s, err)
	}
	defer unix.Flock(int(lock.Fd()), unix.LOCK_UN)
	if err := f(); err != nil {
		return fmt.Errorf("updating %s: %w", s, err)
	}
	return nil
}
