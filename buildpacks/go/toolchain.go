package golang

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/buildpacks/libcnb/v2"

	"github.com/distill-build/distill/internal/buildpack"
)

// goTool is the go command the build runs.
type goTool struct {
	Bin     string    // path of the go binary
	Root    string    // GOROOT to set; empty for the bootstrap go (it finds its own)
	Version goVersion // exact version
	OS      string    // GOHOSTOS
	Arch    string    // GOHOSTARCH
}

// findBootstrapGo returns the build image's go: the one on PATH, else Debian's /usr/lib/go-*/bin/go.
func findBootstrapGo() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/go-*/bin/go")
	sort.Strings(matches)
	if len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	return "", errors.New("no go command in the build image: 'go' is not on PATH and /usr/lib/go-*/bin/go does not exist")
}

// inspectGo asks a go binary for its version and host platform.
func inspectGo(bin, dir string, env []string) (goTool, error) {
	cmd := exec.Command(bin, "env", "-json", "GOVERSION", "GOHOSTOS", "GOHOSTARCH")
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return goTool{}, fmt.Errorf("%s env: %w\n%s", bin, err, stderr.String())
	}
	var e struct{ GOVERSION, GOHOSTOS, GOHOSTARCH string }
	if err := json.Unmarshal(out, &e); err != nil {
		return goTool{}, fmt.Errorf("%s env: unexpected output %q: %w", bin, out, err)
	}
	vs := strings.Fields(e.GOVERSION + " ")[0] // "go1.24.4 X:boringcrypto" -> "go1.24.4"
	v, ok := parseGoVersion(vs)
	if !ok || !v.exact() {
		return goTool{}, fmt.Errorf("%s reports version %q, which is not a Go release", bin, e.GOVERSION)
	}
	return goTool{Bin: bin, Version: v, OS: e.GOHOSTOS, Arch: e.GOHOSTARCH}, nil
}

// toolchainMetadata is recorded in the go layer's metadata.
type toolchainMetadata struct {
	Version string
	Arch    string
	GoRoot  string // relative to the layer
}

func readToolchainMetadata(layer libcnb.Layer) (toolchainMetadata, bool) {
	get := func(k string) string { s, _ := layer.Metadata[k].(string); return s }
	m := toolchainMetadata{Version: get("version"), Arch: get("arch"), GoRoot: get("goroot")}
	return m, m.Version != "" && m.GoRoot != ""
}

// resolveGo picks the go command for the build and, when it is not the bootstrap go, makes sure the
// toolchain is in the go layer. It reports whether the layer is in use.
func (b *Builder) resolveGo(req versionRequest, bootstrap goTool, layer *libcnb.Layer) (goTool, bool, error) {
	if b.config.Get("GOTOOLCHAIN") == "local" {
		if !req.satisfiedBy(bootstrap.Version) {
			return goTool{}, false, fmt.Errorf("GOTOOLCHAIN=local keeps the build image's Go %s, but %s asks for %s: unset GOTOOLCHAIN or set BP_GO_VERSION to a version the build can download", bootstrap.Version, req.Source, req)
		}
		b.Logger.Bodyf("Using Go %s from the build image: GOTOOLCHAIN=local (%s)", bootstrap.Version, req)
		return bootstrap, false, nil
	}
	want, why, err := b.chooseVersion(req, bootstrap, layer)
	if err != nil {
		return goTool{}, false, err
	}
	if bootstrap.Version.compare(want) == 0 {
		b.Logger.Bodyf("Using Go %s from the build image: %s", want, why)
		return bootstrap, false, nil
	}
	if tool, ok := cachedToolchain(*layer, want, bootstrap); ok {
		b.Logger.Bodyf("Reusing cached Go %s: %s", want, why)
		layer.LayerTypes = libcnb.LayerTypes{Build: true, Cache: true}
		return tool, true, nil
	}
	b.Logger.Bodyf("Downloading Go %s (%s) through the go command's toolchain switching", want, why)
	tool, err := b.downloadGo(want, bootstrap, layer)
	if err != nil {
		return goTool{}, false, err
	}
	b.Logger.Bodyf("Installed Go %s in the go layer", want)
	return tool, true, nil
}

// cachedToolchain returns the toolchain in the go layer when it is version want for this arch.
func cachedToolchain(layer libcnb.Layer, want goVersion, bootstrap goTool) (goTool, bool) {
	m, ok := readToolchainMetadata(layer)
	if !ok || m.Arch != bootstrap.Arch {
		return goTool{}, false
	}
	v, vok := parseGoVersion(m.Version)
	root := filepath.Join(layer.Path, m.GoRoot)
	if !vok || v.compare(want) != 0 || !fileExists(filepath.Join(root, "bin", "go")) {
		return goTool{}, false
	}
	return goTool{Bin: filepath.Join(root, "bin", "go"), Root: root, Version: v, OS: bootstrap.OS, Arch: bootstrap.Arch}, true
}

// downloadGo fetches Go want into the go layer (emptied first) with the bootstrap go's toolchain
// switching, and records it in the layer metadata next to the cached version lookup.
func (b *Builder) downloadGo(want goVersion, bootstrap goTool, layer *libcnb.Layer) (goTool, error) {
	modCache := filepath.Join(layer.Path, "mod")
	if err := makeWritableAndRemove(layer.Path); err != nil {
		return goTool{}, fmt.Errorf("unable to reset layer %s: %w", layer.Path, err)
	}
	if err := os.MkdirAll(modCache, 0o755); err != nil {
		return goTool{}, fmt.Errorf("unable to create %s: %w", modCache, err)
	}
	env := b.goEnv(bootstrap, map[string]string{"GOTOOLCHAIN": "go" + want.String(), "GOMODCACHE": modCache})
	cmd := exec.Command(bootstrap.Bin, "env", "GOROOT")
	cmd.Dir = layer.Path
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return goTool{}, fmt.Errorf("unable to download Go %s (GOTOOLCHAIN=go%s %s env GOROOT): %w\n%s\nCheck GOPROXY, or pin a version the proxy serves with BP_GO_VERSION", want, want, bootstrap.Bin, err, stderr.String())
	}
	root := strings.TrimSpace(string(out))
	rel, err := filepath.Rel(layer.Path, root)
	if err != nil || strings.HasPrefix(rel, "..") || !fileExists(filepath.Join(root, "bin", "go")) {
		return goTool{}, fmt.Errorf("downloaded Go %s but its GOROOT %q is not inside the go layer %s", want, root, layer.Path)
	}
	// The toolchain zip duplicates the extracted tree; the build runs bin/go directly.
	zips, _ := filepath.Glob(filepath.Join(modCache, "cache", "download", "golang.org", "toolchain", "@v", "*.zip"))
	for _, z := range zips {
		_ = os.Remove(z)
	}
	tool := goTool{Bin: filepath.Join(root, "bin", "go"), Root: root, OS: bootstrap.OS, Arch: bootstrap.Arch}
	got, err := inspectGo(tool.Bin, layer.Path, b.goEnv(tool, nil))
	if err != nil {
		return goTool{}, err
	}
	if got.Version.compare(want) != 0 {
		return goTool{}, fmt.Errorf("downloaded toolchain reports Go %s, wanted %s", got.Version, want)
	}
	tool.Version = got.Version
	layer.LayerTypes = libcnb.LayerTypes{Build: true, Cache: true}
	setMetadata(layer, map[string]interface{}{"version": want.String(), "arch": bootstrap.Arch, "goroot": rel})
	return tool, nil
}

func setMetadata(layer *libcnb.Layer, kv map[string]interface{}) {
	if layer.Metadata == nil {
		layer.Metadata = map[string]interface{}{}
	}
	for k, v := range kv {
		layer.Metadata[k] = v
	}
}

// listToolchains lists the versions of module golang.org/toolchain through the configured GOPROXY.
func (b *Builder) listToolchains(bootstrap goTool, modCache string) ([]string, error) {
	dir, err := os.MkdirTemp("", "distill-go-list")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(bootstrap.Bin, "list", "-m", "-versions", "golang.org/toolchain")
	cmd.Dir = dir
	cmd.Env = b.goEnv(bootstrap, map[string]string{"GOMODCACHE": modCache, "GO111MODULE": "on"})
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m -versions golang.org/toolchain: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	fields := strings.Fields(string(out))
	if len(fields) > 0 && fields[0] == "golang.org/toolchain" {
		fields = fields[1:]
	}
	return fields, nil
}

// goEnv is the environment for a go command: the process environment (GOPROXY, GONOSUMDB, GOFLAGS,
// ... pass through) with the credential bindings' paths, the toolchain pinned and the given
// overrides.
func (b *Builder) goEnv(tool goTool, overrides map[string]string) []string {
	set := buildpack.NewEnv(b.credentials)
	set["GOTOOLCHAIN"] = "local"
	if tool.Root != "" {
		set["GOROOT"] = tool.Root
	}
	flags := strings.TrimSpace(b.config.Get("GOFLAGS"))
	if !strings.Contains(flags, "-modcacherw") {
		flags = strings.TrimSpace(flags + " -modcacherw") // keep cached layers removable
	}
	set["GOFLAGS"] = flags
	for k, v := range overrides {
		set[k] = v
	}
	env := buildpack.NewEnv(os.Environ())
	for k, v := range set {
		env[k] = v
	}
	return env.List()
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
