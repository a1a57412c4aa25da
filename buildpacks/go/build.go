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
	"github.com/paketo-buildpacks/libpak/v2/log"

	"github.com/distill-build/distill/internal/buildpack"
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

	// ListToolchains lists the Go toolchains the module proxy serves; nil means ask the go command.
	ListToolchains toolchainLister

	// Now is the clock for the cached version lookup; nil means time.Now.
	Now func() time.Time

	config buildpack.Config
	// credentials point git and the go command at the build's
	// git-credentials and netrc bindings (buildpack.CredentialEnv).
	credentials []string
	// appKey is this build's record of the app layer's binaries: the key
	// (buildKey) the last build left in the go-cache layer's metadata, and
	// that metadata, where compile records this build's key.
	appKey struct {
		last   string
		record map[string]interface{}
		reused bool
	}
}

// Build reads the Go project, picks and installs the Go toolchain, downloads modules, builds the
// targets into the app layer and removes the source, keeping what the app reads at run time.
func (b *Builder) Build(ctx libcnb.BuildContext) (libcnb.BuildResult, error) {
	if b.Logger == nil {
		b.Logger = newLogger(os.Stdout)
	}
	b.config = buildpack.Config(ctx.Platform.Environment)
	creds, err := buildpack.CredentialEnv(ctx.Platform.Bindings)
	if err != nil {
		return libcnb.NewBuildResult(), err
	}
	b.credentials = creds
	start := time.Now()
	b.Logger.Titlef("%s %s", ctx.Buildpack.Info.Name, ctx.Buildpack.Info.Version)
	result := libcnb.NewBuildResult()
	appDir := ctx.ApplicationPath

	proj, err := readProject(appDir)
	if err != nil {
		return result, err
	}
	if err := missingGoSum(appDir, proj); err != nil {
		return result, err
	}
	b.Logger.Bodyf("Go project: %s", proj.Shape)
	versionFile := proj.File
	if versionFile == "" {
		versionFile = filepath.Join(appDir, "go.mod")
	}
	req, err := selectVersion(versionFile, proj.Mod, versionEnv{BPGoVersion: b.config.Get("BP_GO_VERSION"), GoToolchain: b.config.Get("GOTOOLCHAIN")})
	if err != nil {
		return result, err
	}
	b.Logger.Header("Go toolchain")
	tool, layers, err := b.toolchain(ctx, req)
	if err != nil {
		return result, err
	}
	result.Layers = append(result.Layers, layers...)

	b.Logger.Header("Go modules")
	envOverrides, vendored, layers, err := b.modules(ctx, proj, tool)
	if err != nil {
		return result, err
	}
	result.Layers = append(result.Layers, layers...)

	b.Logger.Header("Building")
	appLayer, targets, binaries, err := b.compile(ctx, proj, tool, envOverrides, vendored)
	if err != nil {
		return result, err
	}
	result.Layers = append(result.Layers, appLayer)
	result.Processes = processes(filepath.Join(appLayer.Path, "bin"), targets)

	if err := b.pruneSource(appDir); err != nil {
		return result, err
	}
	verb := "Built"
	if b.appKey.reused {
		verb = "Reused"
	}
	b.Logger.Bodyf("%s %d binary(ies) with Go %s in %.1fs", verb, len(binaries), tool.Version, time.Since(start).Seconds())
	return result, nil
}

// toolchain finds the build image's go and resolves the Go the build runs (see resolveGo); it
// returns the go layer when the toolchain lives there.
func (b *Builder) toolchain(ctx libcnb.BuildContext, req versionRequest) (goTool, []libcnb.Layer, error) {
	bootstrapBin := b.BootstrapGo
	if bootstrapBin == "" {
		var err error
		if bootstrapBin, err = findBootstrapGo(); err != nil {
			return goTool{}, nil, err
		}
	}
	bootstrap, err := inspectGo(bootstrapBin, ctx.Layers.Path, b.goEnv(goTool{}, nil))
	if err != nil {
		return goTool{}, nil, err
	}
	goLayer, err := ctx.Layers.Layer(LayerGo)
	if err != nil {
		return goTool{}, nil, err
	}
	tool, usesLayer, err := b.resolveGo(req, bootstrap, &goLayer)
	if err != nil || !usesLayer {
		return tool, nil, err
	}
	return tool, []libcnb.Layer{goLayer}, nil
}

// modules sets up the go-cache layer and fills the go-mod layer (unless the app vendors its
// modules). For a main package without go.mod it first writes one. It returns the environment
// the go commands run with.
func (b *Builder) modules(ctx libcnb.BuildContext, proj project, tool goTool) (map[string]string, bool, []libcnb.Layer, error) {
	appDir := ctx.ApplicationPath
	cacheLayer, err := ctx.Layers.Layer(LayerGoCache)
	if err != nil {
		return nil, false, nil, err
	}
	if err := os.MkdirAll(cacheLayer.Path, 0o755); err != nil {
		return nil, false, nil, fmt.Errorf("unable to create %s: %w", cacheLayer.Path, err)
	}
	// The key of the last build's binaries lives in this layer, cached but
	// never exported, so the image's labels do not depend on workspace files
	// the build ignores.
	b.appKey.last, _ = cacheLayer.Metadata[metaAppBuildKey].(string)
	cacheLayer.LayerTypes = libcnb.LayerTypes{Cache: true}
	cacheLayer.Metadata = map[string]interface{}{"purpose": "GOCACHE"}
	b.appKey.record = cacheLayer.Metadata
	layers := []libcnb.Layer{cacheLayer}

	modLayer, err := ctx.Layers.Layer(LayerGoMod)
	if err != nil {
		return nil, false, nil, err
	}
	env := map[string]string{"GOCACHE": cacheLayer.Path, "GOMODCACHE": modLayer.Path}
	if proj.Shape == ShapeGOPATH {
		if err := b.writeModule(appDir, tool, env); err != nil {
			return nil, false, nil, err
		}
	}
	vendored := fileExists(filepath.Join(appDir, "vendor", "modules.txt"))
	if vendored {
		b.Logger.Body("vendor/modules.txt found: building with -mod=vendor, no module download")
		return env, true, layers, nil
	}
	if err := b.downloadModules(appDir, proj, tool, &modLayer, env); err != nil {
		return nil, false, nil, err
	}
	return env, false, append(layers, modLayer), nil
}

// compile builds the targets into the app layer, unless the last build's binaries came from the
// same source, Go and flags.
func (b *Builder) compile(ctx libcnb.BuildContext, proj project, tool goTool, env map[string]string, vendored bool) (libcnb.Layer, []target, []string, error) {
	appDir := ctx.ApplicationPath
	targets, err := resolveProjectTargets(appDir, proj, b.config.Get("BP_GO_TARGETS"))
	if err != nil {
		return libcnb.Layer{}, nil, nil, err
	}
	flags, err := buildFlags(b.config.Get("BP_GO_BUILD_FLAGS"), b.config.Get("BP_GO_BUILD_LDFLAGS"), vendored)
	if err != nil {
		return libcnb.Layer{}, nil, nil, err
	}
	if err := b.crossCompile(ctx, appDir, tool, targets, env); err != nil {
		return libcnb.Layer{}, nil, nil, err
	}
	if !b.config.IsSet("CGO_ENABLED") {
		env["CGO_ENABLED"] = "0"
	}
	appLayer, err := ctx.Layers.Layer(LayerApp)
	if err != nil {
		return libcnb.Layer{}, nil, nil, err
	}
	binDir := filepath.Join(appLayer.Path, "bin")
	key, err := buildKey(appDir, tool.Version.String(), buildArgs(binDir, targets, flags), b.goEnv(tool, env))
	if err != nil {
		return libcnb.Layer{}, nil, nil, err
	}
	binaries, pkgs := targetOutputs(binDir, targets)
	b.appKey.reused = b.appKey.last == key && allExist(binaries)
	if b.appKey.reused {
		b.Logger.Body("Reusing the binaries of the last build: source, Go version, flags and environment unchanged")
	} else {
		if appLayer, err = appLayer.Reset(); err != nil {
			return libcnb.Layer{}, nil, nil, err
		}
		if err := b.buildTargets(appDir, tool, binDir, targets, flags, env); err != nil {
			return libcnb.Layer{}, nil, nil, err
		}
	}
	// Launch, and cached so that an unchanged app is not built again.
	appLayer.LayerTypes = libcnb.LayerTypes{Launch: true, Cache: true}
	appLayer.Metadata = map[string]interface{}{"go-version": tool.Version.String(), "targets": pkgs}
	b.appKey.record[metaAppBuildKey] = key
	if err := writeSBOM(appLayer.SBOMPath(libcnb.CycloneDXJSON), binaries); err != nil {
		return libcnb.Layer{}, nil, nil, err
	}
	return appLayer, targets, binaries, nil
}

// crossCompile adds GOOS/GOARCH to env when the build's target
// (CNB_TARGET_OS/ARCH) is not the toolchain's platform, after checking that
// nothing needs cgo there.
func (b *Builder) crossCompile(ctx libcnb.BuildContext, appDir string, tool goTool, targets []target, env map[string]string) error {
	t := crossTarget{OS: ctx.TargetInfo.OS, Arch: ctx.TargetInfo.Arch, HostOS: tool.OS, HostArch: tool.Arch}
	cross, err := crossEnv(t, b.config.Get("CGO_ENABLED"), b.config.IsSet("CGO_ENABLED"))
	if err != nil || len(cross) == 0 {
		return err
	}
	for k, v := range cross {
		env[k] = v
	}
	b.Logger.Bodyf("Cross-compiling for %s (GOOS=%s GOARCH=%s)", t, cross["GOOS"], cross["GOARCH"])
	if b.config.IsSet("CGO_ENABLED") {
		return nil // CGO_ENABLED=0 asked for: go build leaves cgo files out
	}
	pkgs, err := cgoPackages(tool.Bin, appDir, b.goEnv(tool, env), targets)
	if err != nil {
		return err
	}
	return cgoError(t, pkgs)
}

// processes are the launch processes: one per target, the first the default; a lone target is "web".
func processes(binDir string, targets []target) []libcnb.Process {
	var procs []libcnb.Process
	for i, t := range targets {
		typ := t.Name
		if len(targets) == 1 {
			typ = "web"
		}
		procs = append(procs, libcnb.Process{Type: typ, Command: []string{filepath.Join(binDir, t.Name)}, Default: i == 0})
	}
	return procs
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

// downloadModules fills the go-mod layer (GOMODCACHE) unless the checksum files (go.sum; for a
// workspace go.work.sum and every used module's go.sum) and the Go version are unchanged.
func (b *Builder) downloadModules(appDir string, proj project, tool goTool, layer *libcnb.Layer, envOverrides map[string]string) error {
	key, err := sumKey(appDir, proj)
	if err != nil {
		return err
	}
	want := map[string]interface{}{"go-sum-sha256": key, "go-version": tool.Version.String()}
	layer.LayerTypes = libcnb.LayerTypes{Cache: true}

	if layer.Metadata["go-sum-sha256"] == key && layer.Metadata["go-version"] == tool.Version.String() && fileExists(layer.Path) {
		layer.Metadata = want
		b.Logger.Body("Reusing cached Go modules (checksum files unchanged)")
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

// sumKey is the hex SHA-256 of the project's checksum files (names and contents), or "none" when
// there are none (the project needs no modules).
func sumKey(appDir string, proj project) (string, error) {
	files := []string{"go.sum"}
	if proj.Shape == ShapeWorkspace {
		files = []string{"go.work.sum"}
		for _, u := range proj.Uses {
			files = append(files, filepath.ToSlash(filepath.Join(u, "go.sum")))
		}
	}
	h := sha256.New()
	found := false
	for _, f := range files {
		p := filepath.Join(appDir, filepath.FromSlash(f))
		data, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("unable to read %s: %w", p, err)
		}
		found = true
		fmt.Fprintf(h, "%s %d\n", f, len(data))
		h.Write(data)
	}
	if !found {
		return "none", nil
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// missingGoSum is the error of a module that requires other modules and has no go.sum (nor a
// vendor directory, which go build uses without one): the go command would refuse every import of
// them ("missing go.sum entry"), after the toolchain download.
func missingGoSum(appDir string, proj project) error {
	if proj.Shape != ShapeModule || len(proj.Mod.Requires) == 0 || fileExists(filepath.Join(appDir, "go.sum")) ||
		fileExists(filepath.Join(appDir, "vendor", "modules.txt")) {
		return nil
	}
	return fmt.Errorf("%s requires %d module(s) (%s) and the app has no go.sum beside it: run `go mod tidy` and add go.sum to the app", proj.File, len(proj.Mod.Requires), strings.Join(firstN(proj.Mod.Requires, 3), ", "))
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "...")
	}
	return s
}
