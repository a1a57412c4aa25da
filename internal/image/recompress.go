package image

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Recompressed returns img with every layer compressed with c, config unchanged: the layers'
// diff IDs stay, so CNB metadata that names layers by diff ID (the run image's top layer, which
// rebase relies on) holds. Layers already in c are kept as they are; others are decompressed once
// and their c blobs kept in dir by diff ID, as LayerFromTarFile keeps its blobs, so later builds
// read nothing. distill uses it to ship a run image published as gzip (which every runtime
// pulls) as zstd in its OCI layout and registry outputs.
func Recompressed(img v1.Image, c Compression, dir string) (v1.Image, error) {
	if c == "" {
		c = Zstd
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading the image's layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image's config: %w", err)
	}
	changed := false
	out := make([]v1.Layer, len(layers))
	for i, l := range layers {
		if out[i], err = recompressLayer(l, c, dir); err != nil {
			return nil, err
		}
		changed = changed || out[i] != l
	}
	if !changed {
		return img, nil
	}
	base, err := mutate.AppendLayers(OCI(empty.Image), out...)
	if err != nil {
		return nil, fmt.Errorf("assembling the recompressed image: %w", err)
	}
	res, err := mutate.ConfigFile(base, cf)
	if err != nil {
		return nil, fmt.Errorf("assembling the recompressed image: %w", err)
	}
	return res, nil
}

// recompressLayer returns l compressed with c, from dir when it was done before.
func recompressLayer(l v1.Layer, c Compression, dir string) (v1.Layer, error) {
	mt, err := l.MediaType()
	if err != nil {
		return nil, fmt.Errorf("reading a layer's media type: %w", err)
	}
	if mt == c.MediaType() || (c == Gzip && mt == types.DockerLayer) {
		return l, nil
	}
	diffID, err := l.DiffID()
	if err != nil {
		return nil, fmt.Errorf("reading a layer's diff ID: %w", err)
	}
	blob := filepath.Join(dir, diffID.Hex+".tar."+string(c))
	if rec, ok := readRecord(blob + ".json"); ok && have(blob, rec.Size) {
		if d, err := v1.NewHash(rec.Digest); err == nil {
			kept, err := partial.CompressedToLayer(&blobLayer{path: blob, diffID: diffID, digest: d, size: rec.Size, mediaType: c.MediaType()})
			if err != nil {
				return nil, err
			}
			return &Layer{Layer: kept, UncompressedSize: rec.Uncompressed}, nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating blob directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".layer-*.tar")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	rc, err := l.Uncompressed()
	if err != nil {
		tmp.Close()
		return nil, fmt.Errorf("reading layer %s: %w", diffID, err)
	}
	_, err = io.Copy(tmp, rc)
	rc.Close()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("reading layer %s: %w", diffID, err)
	}
	nl, err := LayerFromTarFile(tmp.Name(), WithBlobCache(dir), WithCompression(c))
	if err != nil {
		return nil, err
	}
	if got, err := nl.DiffID(); err != nil || got != diffID {
		return nil, fmt.Errorf("layer %s decompressed to %v (%v): the blob does not match its diff ID", diffID, got, err)
	}
	return nl, nil
}
