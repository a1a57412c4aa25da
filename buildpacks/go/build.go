package golang

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/buildpacks/libcnb/v2"
	"github.com/distill-build/distill/internal/buildpack"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

// metaAppBuildKey is the go-cache layer's record of the key (buildKey) of
// the binaries in the app layer.
const metaAppBuildKey = "app-build-sha256"

// Layer names.
const (
	LayerGo      = "go"       // downloaded toolchain: build + cache
	LayerGoMod   = "go-mod"   // GOMODCACHE: cache
	LayerGoCache = "go-cache" // GOCACHE: cache
	LayerApp     = "app"      // built binaries: launch
)

// Builder builds the Go application.
type Builder struct {
	Logger log.Logger

	// BootstrapGo is the go command of the build image; empty means look it up (PATH, /usr/lib/go-*).
	BootstrapGo string

	config buildpack.Config
}

func (b *Builder) Build(ctx libcnb.BuildContext) (libcnb.BuildResult, error) {
	if b.Logger == nil {
		b.Logger = newLogger(os.Stdout)
	}
	b.config = buildpack.Config(ctx.Platform.Environment)
	start := time.Now()
	b.Logger.Titlef("%s %s", ctx.Buildpack.Info.Name, ctx.Buildpack.Info.Version)
	result := libcnb.NewBuildResult()
	appDir := ctx.ApplicationPath

	mod, err := readGoMod(appDir)
	if err != nil {
		return result, err
	}
	req, hasReq, err := selectVersion(filepath.Join(appDir, "go.mod"), mod, b.config.Get("BP_GO_VERSION"))
	if err != nil {
		return result, err
	}

	// Toolchain.
	b.Logger.Header("Go toolchain")
	bootstrapBin := b.BootstrapGo
	if bootstrapBin == "" {
		if bootstrapBin, err = findBootstrapGo(); err != nil {
			return result, err
		}
	}
	bootstrap, err := inspectGo(bootstrapBin, ctx.Layers.Path, b.goEnv(goTool{}, nil))
	if err != nil {
		return result, err
	}
	goLayer, err := ctx.Layers.Layer(LayerGo)
	if err != nil {
		return result, err
	}
	tool, usesLayer, err := b.resolveGo(req, hasReq, bootstrap, &goLayer)
	if err != nil {
		return result, err
	}
	if usesLayer {
		result.Layers = append(result.Layers, goLayer)
	}

	// Build cache.
	cacheLayer, err := ctx.Layers.Layer(LayerGoCache)
	if err != nil {
		return result, err
	}
	if err := os.MkdirAll(cacheLayer.Path, 0o755); err != nil {
		return result, err
	}
	// The key of the last build's binaries lives here, in a layer that is
	// cached but never exported, so the image's labels do not depend on
	// workspace files the build ignores.
	lastKey, _ := cacheLayer.Metadata[metaAppBuildKey].(string)
	cacheLayer.LayerTypes = libcnb.LayerTypes{Cache: true}
	cacheLayer.Metadata = map[string]interface{}{"purpose": "GOCACHE"}

	// Modules.
	b.Logger.Header("Go modules")
	modLayer, err := ctx.Layers.Layer(LayerGoMod)
	if err != nil {
		return result, err
	}
	vendored := fileExists(filepath.Join(appDir, "vendor", "modules.txt"))
	envOverrides := map[string]string{"GOCACHE": cacheLayer.Path, "GOMODCACHE": modLayer.Path}
	if vendored {
		b.Logger.Body("vendor/modules.txt found: building with -mod=vendor, no module download")
	} else {
		if err := b.downloadModules(appDir, tool, &modLayer, envOverrides); err != nil {
			return result, err
		}
		result.Layers = append(result.Layers, modLayer)
	}

	// Targets and flags.
	targets, err := resolveTargets(appDir, b.config.Get("BP_GO_TARGETS"), mod.ModulePath)
	if err != nil {
		return result, err
	}
	flags, err := buildFlags(b.config.Get("BP_GO_BUILD_FLAGS"), b.config.Get("BP_GO_BUILD_LDFLAGS"), vendored)
	if err != nil {
		return result, err
	}
	if !b.config.IsSet("CGO_ENABLED") {
		envOverrides["CGO_ENABLED"] = "0"
	}

	// Build into the app layer, unless the last build's binaries came from
	// the same source, Go and flags.
	b.Logger.Header("Building")
	appLayer, err := ctx.Layers.Layer(LayerApp)
	if err != nil {
		return result, err
	}
	binDir := filepath.Join(appLayer.Path, "bin")
	key, err := buildKey(appDir, tool.Version.String(), buildArgs(binDir, targets, flags), b.goEnv(tool, envOverrides))
	if err != nil {
		return result, err
	}
	binaries, pkgs := targetOutputs(binDir, targets)
	reused := lastKey == key && allExist(binaries)
	if reused {
		b.Logger.Body("Reusing the binaries of the last build: source, Go version, flags and environment unchanged")
	} else {
		if appLayer, err = appLayer.Reset(); err != nil {
			return result, err
		}
		if err := b.buildTargets(appDir, tool, binDir, targets, flags, envOverrides); err != nil {
			return result, err
		}
	}
	// Launch, and cached so that an unchanged app is not built again.
	appLayer.LayerTypes = libcnb.LayerTypes{Launch: true, Cache: true}
	appLayer.Metadata = map[string]interface{}{"go-version": tool.Version.String(), "targets": pkgs}
	cacheLayer.Metadata[metaAppBuildKey] = key
	result.Layers = append(result.Layers, cacheLayer)
	if err := writeSBOM(appLayer.SBOMPath(libcnb.CycloneDXJSON), binaries); err != nil {
		return result, err
	}
	result.Layers = append(result.Layers, appLayer)

	for i, t := range targets {
		typ := t.Name
		if len(targets) == 1 {
			typ = "web"
		}
		result.Processes = append(result.Processes, libcnb.Process{
			Type:    typ,
			Command: []string{filepath.Join(binDir, t.Name)},
			Default: i == 0,
		})
	}

	// Source removal.
	patterns, err := parseKeepPatterns(b.config.Get("BP_KEEP_FILES"))
	if err != nil {
		return result, err
	}
	kept, err := removeSource(appDir, patterns)
	if err != nil {
		return result, err
	}
	if len(patterns) > 0 {
		b.Logger.Bodyf("Removed the source, keeping %d path(s) matching BP_KEEP_FILES=%s", len(kept), b.config.Get("BP_KEEP_FILES"))
	} else {
		b.Logger.Body("Removed the source from the app directory (set BP_KEEP_FILES to keep files)")
	}

	verb := "Built"
	if reused {
		verb = "Reused"
	}
	b.Logger.Bodyf("%s %d binary(ies) with Go %s in %.1fs", verb, len(binaries), tool.Version, time.Since(start).Seconds())
	return result, nil
}

// buildTargets runs go build for each target into binDir.
func (b *Builder) buildTargets(appDir string, tool goTool, binDir string, targets []target, flags []string, envOverrides map[string]string) error {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	for _, args := range buildArgs(binDir, targets, flags) {
		b.Logger.Bodyf("%sgo %s", cgoPrefix(envOverrides), shellJoin(args))
		cmd := exec.Command(tool.Bin, args...)
		cmd.Dir = appDir
		cmd.Env = b.goEnv(tool, envOverrides)
		output, err := cmd.CombinedOutput()
		if len(bytes.TrimSpace(output)) > 0 && err == nil {
			b.Logger.Body(strings.TrimRight(string(output), "\n"))
		}
		if err != nil {
			return fmt.Errorf("go build %s failed (%v):\n%s", args[len(args)-1], err, strings.TrimRight(string(output), "\n"))
		}
	}
	return nil
}

// downloadModules fills the go-mod layer (GOMODCACHE) unless go.sum and the Go version are unchanged.
func (b *Builder) downloadModules(appDir string, tool goTool, layer *libcnb.Layer, envOverrides map[string]string) error {
	sum, err := os.ReadFile(filepath.Join(appDir, "go.sum"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	key := "none"
	if err == nil {
		h := sha256.Sum256(sum)
		key = hex.EncodeToString(h[:])
	}
	want := map[string]interface{}{"go-sum-sha256": key, "go-version": tool.Version.String()}
	layer.LayerTypes = libcnb.LayerTypes{Cache: true}

	if layer.Metadata["go-sum-sha256"] == key && layer.Metadata["go-version"] == tool.Version.String() && fileExists(layer.Path) {
		layer.Metadata = want
		b.Logger.Body("Reusing cached Go modules (go.sum unchanged)")
		return nil
	}
	if err := makeWritableAndRemove(layer.Path); err != nil {
		return fmt.Errorf("unable to reset layer %s: %w", layer.Path, err)
	}
	if err := os.MkdirAll(layer.Path, 0o755); err != nil {
		return err
	}
	layer.Metadata = want
	if key == "none" {
		b.Logger.Body("No go.sum: no modules to download")
		return nil
	}
	b.Logger.Body("go mod download")
	cmd := exec.Command(tool.Bin, "mod", "download")
	cmd.Dir = appDir
	cmd.Env = b.goEnv(tool, envOverrides)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go mod download failed (%v):\n%s", err, strings.TrimRight(string(out), "\n"))
	}
	return nil
}

func cgoPrefix(env map[string]string) string {
	if v, ok := env["CGO_ENABLED"]; ok {
		return "CGO_ENABLED=" + v + " "
	}
	return ""
}

// shellJoin renders args for the log, quoting those with spaces.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'$\\") {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}
