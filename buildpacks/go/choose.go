package golang

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/buildpacks/libcnb/v2"
)

// lookupTTL is how long the newest Go found through the module proxy is trusted before the proxy
// is asked again. Builds within it reuse the cached toolchain (and so their build cache); a new Go
// release is picked up by the first build after it.
const lookupTTL = 24 * time.Hour

// Keys of the go layer's metadata that cache the version lookup.
const (
	metaLookupRequest = "lookup-request" // the request the lookup answered, e.g. ">= 1.22.0"
	metaLookupResult  = "lookup-result"  // the version it chose, e.g. "1.25.4"
	metaLookupTime    = "lookup-time"    // when, RFC 3339 UTC
)

// toolchainLister lists the versions of module golang.org/toolchain through the configured GOPROXY.
type toolchainLister func(bootstrap goTool, modCache string) ([]string, error)

// lookupKey identifies what a lookup answered; the source of the request does not matter.
func lookupKey(req versionRequest) string {
	r := req
	r.Source = ""
	return fmt.Sprintf("%d %s", r.Kind, r.Version)
}

// cachedLookup returns the version an earlier lookup chose for req, and its age.
func cachedLookup(meta map[string]interface{}, req versionRequest, now time.Time) (goVersion, time.Duration, bool) {
	get := func(k string) string { s, _ := meta[k].(string); return s }
	if get(metaLookupRequest) != lookupKey(req) {
		return goVersion{}, 0, false
	}
	v, ok := parseGoVersion(get(metaLookupResult))
	when, err := time.Parse(time.RFC3339, get(metaLookupTime))
	if !ok || !v.exact() || err != nil {
		return goVersion{}, 0, false
	}
	return v, now.Sub(when), true
}

// chooseVersion decides which exact Go the build runs and says why. An exact request is honoured
// as is; a minimum or a release line takes the newest release the module proxy serves that
// satisfies it, looked up at most once per lookupTTL (the answer is cached in the go layer), and
// the cached answer (else the build image's Go) when the proxy cannot be asked.
func (b *Builder) chooseVersion(req versionRequest, bootstrap goTool, layer *libcnb.Layer) (goVersion, string, error) {
	if req.Kind == matchExact {
		return req.Version, "pinned by " + req.Source, nil
	}
	now := time.Now()
	if b.Now != nil {
		now = b.Now()
	}
	newest := fmt.Sprintf("the newest Go satisfying %s", req)
	cached, age, hasCached := cachedLookup(layer.Metadata, req, now)
	if hasCached && age >= 0 && age < lookupTTL {
		return cached, fmt.Sprintf("%s, looked up %s ago (re-checked every %s)", newest, age.Round(time.Minute), lookupTTL), nil
	}
	list := b.ListToolchains
	if list == nil {
		list = b.listToolchains
	}
	listed, err := list(bootstrap, filepath.Join(layer.Path, "mod"))
	if err == nil {
		v, ok := pickToolchain(req, listed, bootstrap.OS, bootstrap.Arch)
		if !ok {
			return goVersion{}, "", fmt.Errorf("no Go toolchain for %s-%s served by the module proxy satisfies %s: set BP_GO_VERSION to a release it serves", bootstrap.OS, bootstrap.Arch, req)
		}
		setMetadata(layer, map[string]interface{}{metaLookupRequest: lookupKey(req), metaLookupResult: v.String(), metaLookupTime: now.UTC().Format(time.RFC3339)})
		return v, newest + " the module proxy serves", nil
	}
	b.Logger.Bodyf("WARNING: could not list Go toolchains: %s", firstLine(err.Error()))
	switch {
	case hasCached:
		return cached, fmt.Sprintf("%s when last looked up, %s ago", newest, age.Round(time.Minute)), nil
	case req.satisfiedBy(bootstrap.Version):
		return bootstrap.Version, fmt.Sprintf("it satisfies %s and the newest release could not be looked up", req), nil
	case req.Kind == matchLine:
		v := goVersion{Major: req.Version.Major, Minor: req.Version.Minor, HasPatch: true}
		return v, fmt.Sprintf("the first release of %s; the newest patch could not be looked up (pin BP_GO_VERSION=1.X.Y)", req), nil
	}
	return goVersion{}, "", fmt.Errorf("cannot look up a Go release satisfying %s (%v) and the build image's Go %s does not: set BP_GO_VERSION=1.X.Y or check GOPROXY", req, firstLine(err.Error()), bootstrap.Version)
}
