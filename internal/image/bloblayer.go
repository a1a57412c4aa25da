package image

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer is a layer whose compressed blob is a file and whose digest, diff ID
// and sizes are known without reading it: only Uncompressed decompresses.
type Layer struct {
	v1.Layer
	// UncompressedSize is the length of the layer's tar, in bytes.
	UncompressedSize int64
}

// blobRecord is kept beside a blob (<diff ID hex>.tar.<compression>.json),
// or alone for a layer measured by UncompressedSize (<diff ID hex>.tar.json),
// so a reused blob needs no reading to be described.
type blobRecord struct {
	Digest       string `json:"digest,omitempty"` // of the compressed blob
	Size         int64  `json:"size,omitempty"`   // of the compressed blob, bytes
	Uncompressed int64  `json:"uncompressed"`     // of the tar, bytes
}

// LayerFromDir returns a reproducible, compressed OCI layer holding dir. The
// tar stream is staged in a temporary file (WithStaging) and compressed once
// into a blob file (WithBlobCache), which backs the layer.
func LayerFromDir(dir string, opts ...LayerOption) (*Layer, error) {
	o := layerOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	f, err := os.CreateTemp(o.staging, "distill-layer-*.tar")
	if err != nil {
		return nil, fmt.Errorf("staging layer of %s: %w", dir, err)
	}
	defer os.Remove(f.Name())
	if err := WriteDir(f, dir, opts...); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("staging layer of %s: %w", dir, err)
	}
	return LayerFromTarFile(f.Name(), opts...)
}

// LayerFromTarFile returns a compressed OCI layer for an uncompressed tar
// file. The compressed bytes go to a blob file named after the tar's diff ID,
// in the WithBlobCache directory (or WithStaging, or next to the tar), with
// its digest and sizes recorded beside it: when that blob already exists, it
// is used as it is and nothing is compressed, so an unchanged layer costs one
// read of its tar. The tar file may be removed once this returns.
func LayerFromTarFile(name string, opts ...LayerOption) (*Layer, error) {
	o := layerOptions{compression: Zstd}
	for _, opt := range opts {
		opt(&o)
	}
	diffID, n, err := fileDigest(name)
	if err != nil {
		return nil, err
	}
	dir := o.blobs
	if dir == "" {
		dir = o.staging
	}
	if dir == "" {
		dir = filepath.Dir(name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating blob directory %s: %w", dir, err)
	}
	blob := filepath.Join(dir, diffID.Hex+".tar."+string(o.compression))
	digest, size, err := keepBlob(name, blob, n, o.compression)
	if err != nil {
		return nil, err
	}
	l, err := partial.CompressedToLayer(&blobLayer{
		path: blob, diffID: diffID, digest: digest, size: size, mediaType: o.compression.MediaType(),
	})
	if err != nil {
		return nil, err
	}
	return &Layer{Layer: l, UncompressedSize: n}, nil
}

// keepBlob returns the digest and size of blob, the compressed tar: the
// recorded ones when blob is there with its record, else it compresses tar
// into blob and records it.
func keepBlob(tar, blob string, uncompressed int64, c Compression) (v1.Hash, int64, error) {
	if rec, ok := readRecord(blob + ".json"); ok && have(blob, rec.Size) {
		if d, err := v1.NewHash(rec.Digest); err == nil {
			return d, rec.Size, nil
		}
	}
	d, size, err := compressFile(tar, blob, c)
	if err != nil {
		return v1.Hash{}, 0, err
	}
	rec := blobRecord{Digest: d.String(), Size: size, Uncompressed: uncompressed}
	if err := writeRecord(blob+".json", rec); err != nil {
		return v1.Hash{}, 0, err
	}
	return d, size, nil
}

// UncompressedSize returns the length in bytes of l's tar. A *Layer knows
// it; another layer's is read from dir, where sizes are kept by diff ID
// (<hex>.tar.json), or counted by decompressing l once and kept there. With
// dir "", it is counted every time.
func UncompressedSize(l v1.Layer, dir string) (int64, error) {
	if known, ok := l.(*Layer); ok {
		return known.UncompressedSize, nil
	}
	d, err := l.DiffID()
	if err != nil {
		return 0, fmt.Errorf("reading layer diff ID: %w", err)
	}
	p := filepath.Join(dir, d.Hex+".tar.json")
	if dir != "" {
		if rec, ok := readRecord(p); ok && rec.Uncompressed > 0 {
			return rec.Uncompressed, nil
		}
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return 0, fmt.Errorf("reading layer %s: %w", d, err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	if err != nil {
		return 0, fmt.Errorf("reading layer %s: %w", d, err)
	}
	if dir == "" {
		return n, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("creating blob directory %s: %w", dir, err)
	}
	return n, writeRecord(p, blobRecord{Uncompressed: n})
}

func readRecord(p string) (blobRecord, bool) {
	var rec blobRecord
	b, err := os.ReadFile(p)
	if err != nil || json.Unmarshal(b, &rec) != nil {
		return blobRecord{}, false
	}
	return rec, true
}

func writeRecord(p string, rec blobRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return writeFileAtomic(p, append(b, '\n'))
}

// blobLayer is a compressed blob file of known digests and size; partial
// derives the rest of v1.Layer from it.
type blobLayer struct {
	path           string
	diffID, digest v1.Hash
	size           int64 // compressed bytes
	mediaType      types.MediaType
}

func (b *blobLayer) Digest() (v1.Hash, error)            { return b.digest, nil }
func (b *blobLayer) DiffID() (v1.Hash, error)            { return b.diffID, nil }
func (b *blobLayer) Size() (int64, error)                { return b.size, nil }
func (b *blobLayer) MediaType() (types.MediaType, error) { return b.mediaType, nil }

func (b *blobLayer) Compressed() (io.ReadCloser, error) {
	f, err := os.Open(b.path)
	if err != nil {
		return nil, fmt.Errorf("opening layer blob: %w", err)
	}
	return f, nil
}

// fileDigest returns the sha256 digest and length of the file name.
func fileDigest(name string) (v1.Hash, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return v1.Hash{}, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return v1.Hash{}, 0, fmt.Errorf("hashing %s: %w", name, err)
	}
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, n, nil
}

// compressFile writes the compressed src to dst through a temporary file, so
// dst is either complete or absent, and returns the digest and length of dst.
func compressFile(src, dst string, c Compression) (v1.Hash, int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return v1.Hash{}, 0, err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".blob-*")
	if err != nil {
		return v1.Hash{}, 0, err
	}
	defer os.Remove(tmp.Name())
	h, count := sha256.New(), &countWriter{}
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h, count), 1<<20)
	if err := Compress(bw, in, c); err != nil {
		tmp.Close()
		return v1.Hash{}, 0, fmt.Errorf("compressing %s: %w", src, err)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return v1.Hash{}, 0, fmt.Errorf("writing %s: %w", dst, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return v1.Hash{}, 0, err
	}
	if err := tmp.Close(); err != nil {
		return v1.Hash{}, 0, fmt.Errorf("writing %s: %w", dst, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return v1.Hash{}, 0, fmt.Errorf("writing %s: %w", dst, err)
	}
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, count.n, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
