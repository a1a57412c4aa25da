package platform

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/distill-build/distill/internal/image"
)

func TestExcluded(t *testing.T) {
	app := t.TempDir()
	outside := t.TempDir()
	tag, _ := name.NewTag("localhost/app")
	for _, tc := range []struct {
		name    string
		cache   string
		targets []image.Target
		secrets []string
		want    []string
	}{
		{name: "nothing inside", cache: filepath.Join(outside, "cache"), targets: []image.Target{image.OCILayout(filepath.Join(outside, "out")), image.Daemon(tag)}},
		{name: "layout inside", cache: filepath.Join(outside, "cache"), targets: []image.Target{image.OCILayout(filepath.Join(app, "out", "img"))}, want: []string{filepath.Join(app, "out", "img")}},
		{name: "archive and cache inside", cache: filepath.Join(app, ".cache"), targets: []image.Target{image.DockerArchive(filepath.Join(app, "img.tar"))}, want: []string{filepath.Join(app, ".cache"), filepath.Join(app, "img.tar")}},
		{name: "the app itself is no exclusion", cache: app},
		{name: "env file and binding inside", cache: filepath.Join(outside, "cache"), secrets: []string{filepath.Join(app, ".env"), filepath.Join(outside, "bindings"), filepath.Join(app, "bindings", "npm")}, want: []string{filepath.Join(app, ".env"), filepath.Join(app, "bindings", "npm")}},
		{name: "a sibling with the app's name as prefix", cache: app + "-cache"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := excluded(app, tc.cache, tc.targets, tc.secrets)
			if !slices.Equal(got, tc.want) {
				t.Errorf("excluded = %v, want %v", got, tc.want)
			}
		})
	}
}
