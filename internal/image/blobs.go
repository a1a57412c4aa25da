package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/stream"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// RefNameAnnotation names an image inside an OCI image layout's index.json.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

const (
	layoutFile = `{"imageLayoutVersion":"1.0.0"}`
	blobMode   = 0o644 // go-containerregistry's layout writes 0600; others must read our layouts
	dirMode    = 0o755
	// parallelBlobs bounds how many layers are written at once.
	parallelBlobs = 4
)

// layoutWriter writes blobs into an OCI image layout directory. Every file
// appears under its final name only when complete (temporary file + rename), so
// a crash never leaves a truncated blob where a reader would trust it.
type layoutWriter struct {
	dir string
	// reuse, when set, is another layout whose blobs are hard-linked instead of
	// copied (the layout being replaced).
	reuse string
}

func (l layoutWriter) blobPath(h v1.Hash) string {
	return filepath.Join(l.dir, "blobs", h.Algorithm, h.Hex)
}

func (l layoutWriter) init() error {
	if err := os.MkdirAll(filepath.Join(l.dir, "blobs", "sha256"), dirMode); err != nil {
		return fmt.Errorf("creating layout %s: %w", l.dir, err)
	}
	if _, err := os.Stat(filepath.Join(l.dir, "oci-layout")); err == nil {
		return nil
	}
	return writeFileAtomic(filepath.Join(l.dir, "oci-layout"), []byte(layoutFile))
}

// writeImage writes the layers, config and manifest of img and returns the
// manifest's descriptor.
func (l layoutWriter) writeImage(ctx context.Context, img v1.Image) (v1.Descriptor, error) {
	layers, err := img.Layers()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("listing layers: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelBlobs)
	for _, layer := range layers {
		g.Go(func() error { return l.writeLayer(gctx, layer) })
	}
	if err := g.Wait(); err != nil {
		return v1.Descriptor{}, err
	}
	// Streamed layers only know their digest once read: compute the manifest now.
	cfgName, err := img.ConfigName()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("computing config digest: %w", err)
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("reading config: %w", err)
	}
	if err := l.writeBytes(cfgName, cfg); err != nil {
		return v1.Descriptor{}, err
	}
	desc, err := partial.Descriptor(img)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("computing manifest descriptor: %w", err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("reading manifest: %w", err)
	}
	if err := l.writeBytes(desc.Digest, raw); err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: desc.MediaType, Size: desc.Size, Digest: desc.Digest}, nil
}

// writeImageIndex writes every image idx lists, then idx's manifest, and
// returns idx's descriptor. Only images are allowed in idx (no nested index).
func (l layoutWriter) writeImageIndex(ctx context.Context, idx v1.ImageIndex) (v1.Descriptor, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	for _, m := range im.Manifests {
		img, err := idx.Image(m.Digest)
		if err != nil {
			return v1.Descriptor{}, fmt.Errorf("image %s of the index: %w", m.Digest, err)
		}
		if _, err := l.writeImage(ctx, img); err != nil {
			return v1.Descriptor{}, err
		}
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := idx.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	h, size, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Descriptor{}, err
	}
	if err := l.writeBytes(h, raw); err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Digest: h, Size: size}, nil
}

func (l layoutWriter) writeBytes(h v1.Hash, b []byte) error {
	return l.writeBlob(context.Background(), h, int64(len(b)), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
}

func (l layoutWriter) writeLayer(ctx context.Context, layer v1.Layer) error {
	h, err := layer.Digest()
	if errors.Is(err, stream.ErrNotComputed) {
		h = v1.Hash{}
	} else if err != nil {
		return fmt.Errorf("computing layer digest: %w", err)
	}
	size, err := layer.Size()
	if errors.Is(err, stream.ErrNotComputed) {
		size = -1
	} else if err != nil {
		return fmt.Errorf("computing layer size: %w", err)
	}
	if h.Hex == "" {
		return l.writeStream(ctx, layer)
	}
	return l.writeBlob(ctx, h, size, layer.Compressed)
}

// have reports whether the blob h of the given size is already present (size -1: any).
func have(p string, size int64) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && (size < 0 || fi.Size() == size)
}

func (l layoutWriter) writeBlob(ctx context.Context, h v1.Hash, size int64, open func() (io.ReadCloser, error)) error {
	dst := l.blobPath(h)
	if have(dst, size) {
		return nil
	}
	if l.reuse != "" {
		src := layoutWriter{dir: l.reuse}.blobPath(h)
		if have(src, size) {
			if err := os.MkdirAll(filepath.Dir(dst), dirMode); err != nil {
				return err
			}
			if err := os.Link(src, dst); err == nil {
				return nil
			}
			// Different file systems or no hard links: copy instead.
		}
	}
	if h.Algorithm != "sha256" {
		return fmt.Errorf("writing blob %s: unsupported digest algorithm", h)
	}
	rc, err := open()
	if err != nil {
		return fmt.Errorf("opening blob %s: %w", h, err)
	}
	defer rc.Close()
	_, _, err = l.copyBlob(ctx, rc, func(got v1.Hash, n int64) (string, error) {
		if got != h {
			return "", fmt.Errorf("blob digest mismatch: want %s, got %s", h, got)
		}
		if size >= 0 && n != size {
			return "", fmt.Errorf("blob %s size mismatch: want %d, got %d", h, size, n)
		}
		return dst, nil
	})
	if err != nil {
		return fmt.Errorf("writing blob %s: %w", h, err)
	}
	return nil
}

// writeStream writes a layer whose digest is only known after reading it.
func (l layoutWriter) writeStream(ctx context.Context, layer v1.Layer) error {
	rc, err := layer.Compressed()
	if err != nil {
		return fmt.Errorf("opening streamed layer: %w", err)
	}
	defer rc.Close()
	_, _, err = l.copyBlob(ctx, rc, func(got v1.Hash, _ int64) (string, error) {
		// Closing a streamed layer finalises its digest.
		if err := rc.Close(); err != nil {
			return "", err
		}
		want, err := layer.Digest()
		if err != nil {
			return "", err
		}
		if want != got {
			return "", fmt.Errorf("blob digest mismatch: want %s, got %s", want, got)
		}
		return l.blobPath(got), nil
	})
	if err != nil {
		return fmt.Errorf("writing streamed layer: %w", err)
	}
	return nil
}

// copyBlob copies r into a temporary file in blobs/sha256, hashing it; final
// names the file it becomes (or refuses it). The temporary file is removed on
// every failure.
func (l layoutWriter) copyBlob(ctx context.Context, r io.Reader, final func(v1.Hash, int64) (string, error)) (v1.Hash, int64, error) {
	dir := filepath.Join(l.dir, "blobs", "sha256")
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return v1.Hash{}, 0, err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return v1.Hash{}, 0, err
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	hasher := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, hasher), ctxReader{ctx, r})
	if err != nil {
		return v1.Hash{}, n, err
	}
	if err := f.Chmod(blobMode); err != nil {
		return v1.Hash{}, n, err
	}
	if err := f.Close(); err != nil {
		return v1.Hash{}, n, err
	}
	h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(hasher.Sum(nil))}
	dst, err := final(h, n)
	if err != nil {
		return h, n, err
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return h, n, err
	}
	done = true
	return h, n, nil
}

// index is the index.json of an OCI image layout.
type index struct {
	SchemaVersion int64             `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType,omitempty"`
	Manifests     []v1.Descriptor   `json:"manifests"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

func (l layoutWriter) readIndex() (*index, error) {
	b, err := os.ReadFile(filepath.Join(l.dir, "index.json"))
	if errors.Is(err, os.ErrNotExist) {
		return &index{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{}}, nil
	}
	if err != nil {
		return nil, err
	}
	var idx index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", filepath.Join(l.dir, "index.json"), err)
	}
	if idx.Manifests == nil {
		idx.Manifests = []v1.Descriptor{}
	}
	return &idx, nil
}

func (l layoutWriter) writeIndex(idx *index) error {
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(l.dir, "index.json"), append(b, '\n'))
}

// writeFileAtomic replaces p with b: readers see the old or the new file, never part of one.
func writeFileAtomic(p string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := f.Chmod(blobMode); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// ctxReader stops a long copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// readImage returns the image of the manifest desc in the layout at dir. Blobs
// are opened when read, never held in memory.
func readImage(dir string, desc v1.Descriptor) (v1.Image, error) {
	l := layoutWriter{dir: dir}
	raw, err := os.ReadFile(l.blobPath(desc.Digest))
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", desc.Digest, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing manifest %s: %w", desc.Digest, err)
	}
	mt := desc.MediaType
	if m.MediaType != "" {
		mt = m.MediaType
	}
	return partial.CompressedToImage(&layoutImage{dir: l, raw: raw, manifest: m, mediaType: mt})
}

type layoutImage struct {
	dir       layoutWriter
	raw       []byte
	manifest  *v1.Manifest
	mediaType types.MediaType
}

func (i *layoutImage) MediaType() (types.MediaType, error) { return i.mediaType, nil }
func (i *layoutImage) RawManifest() ([]byte, error)        { return i.raw, nil }

func (i *layoutImage) RawConfigFile() ([]byte, error) {
	return os.ReadFile(i.dir.blobPath(i.manifest.Config.Digest))
}

func (i *layoutImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == i.manifest.Config.Digest {
		return &layoutBlob{path: i.dir.blobPath(h), desc: i.manifest.Config}, nil
	}
	for _, d := range i.manifest.Layers {
		if d.Digest == h {
			return &layoutBlob{path: i.dir.blobPath(h), desc: d}, nil
		}
	}
	return nil, fmt.Errorf("layer %s not in manifest", h)
}

type layoutBlob struct {
	path string
	desc v1.Descriptor
}

func (b *layoutBlob) Digest() (v1.Hash, error)            { return b.desc.Digest, nil }
func (b *layoutBlob) Size() (int64, error)                { return b.desc.Size, nil }
func (b *layoutBlob) MediaType() (types.MediaType, error) { return b.desc.MediaType, nil }
func (b *layoutBlob) Compressed() (io.ReadCloser, error)  { return os.Open(b.path) }
