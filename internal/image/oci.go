package image

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// OCI returns img with an OCI manifest and config media type. empty.Image and
// the daemon give Docker schema2; layers keep their own media types, so build
// layers with LayerFromDir (OCI zstd or gzip layers) for a fully OCI image.
func OCI(img v1.Image) v1.Image {
	return mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
}
