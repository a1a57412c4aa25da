package builder

import "github.com/google/go-containerregistry/pkg/name"

// normalize makes "distill/run:static" and its fully qualified form equal.
func normalize(ref string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", err
	}
	return r.Name(), nil
}
