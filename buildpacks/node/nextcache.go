package node

// next build's own cache (<distDir>/cache: the compiler's cache, optimized images, fetch cache)
// is kept between builds in a cache-only layer, as Next's docs ask of CI ("Configuring Build
// Caching": persist .next/cache between builds). It is restored before the build scripts and
// saved after them; it never enters the image. The cache is dropped when the dependencies (the
// node_modules key: lock file, package.json dependencies, Node.js) or the Next.js version change.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/buildpacks/libcnb/v2"
)

const (
	// LayerNextCache holds next build's <distDir>/cache between builds: cache only.
	LayerNextCache = "next-cache"
	// nextCacheDir is the cache's directory in the dist directory and in the layer.
	nextCacheDir = "cache"
	// nextDefaultDist is next.config's default distDir.
	nextDefaultDist = ".next"
)

// nextCacheMeta is the next-cache layer's metadata: what the cache was built with (Key, Next)
// and where in the app it came from (Dist, relative to the directory next build runs in).
type nextCacheMeta struct {
	Key  string // the node_modules key (modulesKey)
	Next string // the version in node_modules/next/package.json
	Dist string // the dist directory, relative ("" before any build)
}

func (m nextCacheMeta) metadata() map[string]interface{} {
	return map[string]interface{}{"key": m.Key, "next": m.Next, "dist": m.Dist}
}

// nextCacheRestorable decides whether a cache saved with the metadata have serves a build with
// the key and Next.js version of want. It returns the dist directory to restore it into
// (relative), or "" and why not.
func nextCacheRestorable(have map[string]interface{}, want nextCacheMeta, saved bool) (string, string) {
	str := func(k string) string { s, _ := have[k].(string); return s }
	dist := str("dist")
	switch {
	case !saved || len(have) == 0:
		return "", "no cache of an earlier build"
	case want.Next == "":
		return "", "node_modules has no next/package.json"
	case str("next") != want.Next:
		return "", fmt.Sprintf("Next.js changed (%s to %s)", str("next"), want.Next)
	case str("key") != want.Key:
		return "", "the lock file, package.json dependencies or Node.js changed"
	case dist == "" || filepath.IsAbs(dist) || dist == "." || strings.HasPrefix(filepath.Clean(dist), ".."):
		return "", fmt.Sprintf("the saved dist directory %q is not inside the app", dist)
	}
	return filepath.Clean(dist), ""
}

// nextVersionIn reads the version of the next package that dirs' node_modules resolve first.
func nextVersionIn(dirs ...string) string {
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "node_modules", "next", "package.json"))
		if err != nil {
			continue
		}
		var p struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(data, &p) == nil && p.Version != "" {
			return p.Version
		}
	}
	return ""
}

// restoreNextCache opens the next-cache layer and moves a usable cache into the app's dist
// directory; an unusable one is dropped. It records what the build saves afterwards.
func (b *Builder) restoreNextCache(r *buildRun) error {
	layer, err := r.ctx.Layers.Layer(LayerNextCache)
	if err != nil {
		return fmt.Errorf("opening the %s layer: %w", LayerNextCache, err)
	}
	want := nextCacheMeta{Key: r.plan.Key, Next: nextVersionIn(r.next.Dir, r.appDir)}
	saved := filepath.Join(layer.Path, nextCacheDir)
	dist, why := nextCacheRestorable(layer.Metadata, want, fileExists(saved))
	r.next.cache, r.next.cacheMeta = &layer, want
	if dist == "" {
		b.Logger.Bodyf("Next.js: building without a saved .next/cache: %s", why)
		return os.RemoveAll(layer.Path)
	}
	dst := filepath.Join(r.next.Dir, dist, nextCacheDir)
	if err := moveTree(saved, dst); err != nil {
		return fmt.Errorf("restoring next build's cache from the %s layer into %s: %w", LayerNextCache, dst, err)
	}
	b.Logger.Bodyf("Next.js: restored %s/%s from the previous build (Next.js %s, dependencies unchanged)", dist, nextCacheDir, want.Next)
	return nil
}

// saveNextCache moves the dist directory's cache, after next build, into the next-cache layer
// (cache only: never in the image). A build that left no cache saves none.
func (b *Builder) saveNextCache(r *buildRun) error {
	if r.next == nil || r.next.cache == nil {
		return nil
	}
	out, err := findNextOutput(r.next.Dir)
	if err != nil {
		return err
	}
	src := filepath.Join(out.DistDir, nextCacheDir)
	if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	layer := r.next.cache
	if err := moveTree(src, filepath.Join(layer.Path, nextCacheDir)); err != nil {
		return fmt.Errorf("saving next build's cache %s into the %s layer: %w", src, LayerNextCache, err)
	}
	meta := r.next.cacheMeta
	meta.Dist = relTo(r.next.Dir, out.DistDir)
	layer.Metadata = meta.metadata()
	layer.LayerTypes = libcnb.LayerTypes{Cache: true}
	r.result.Layers = append(r.result.Layers, *layer)
	b.Logger.Bodyf("Next.js: %s/%s kept for the next build (cache only, not in the image)", meta.Dist, nextCacheDir)
	return nil
}
