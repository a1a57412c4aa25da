package node

// Next.js apps ship the framework's standalone output: the server files `next build` traced, with
// the minimal node_modules they load, and .next/static and public/ copied beside them, as Next's
// docs for self-hosting describe. The build asks for standalone output through
// NEXT_PRIVATE_STANDALONE, which sets the default of next.config's `output`: a config that sets
// `output` itself keeps its choice.

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

// Next.js settings and names.
const (
	// NextStandaloneEnv is what Next.js (12.2 and later, server/config-shared.js) reads for the
	// default of next.config's `output`: set, the default is 'standalone'.
	NextStandaloneEnv = "NEXT_PRIVATE_STANDALONE"
	// LayerNextStandalone holds the standalone server: launch.
	LayerNextStandalone = "next-standalone"
	// nextServerFiles is what `next build` writes into the dist directory with the resolved config.
	nextServerFiles = "required-server-files.json"
)

// nextApp is a Next.js app built by the build scripts and started with `next start` (or nothing):
// its image runs the standalone server.
type nextApp struct {
	Dir        string // where next build runs
	NextStart  bool   // the start script is `next start` (else there is none)
	Standalone string // the standalone server.js in the next-standalone layer, once moved there
}

// planNext decides whether the app is a Next.js app that gets standalone output, and asks for it
// in the build scripts' environment. Apps with a Procfile or another start command keep their own.
func (b *Builder) planNext(r *buildRun) error {
	if len(r.scripts) == 0 || r.pm.ZipCache != "" { // Plug'n'Play has no node_modules to trace
		return nil
	}
	pkg := r.pkg
	if r.scriptDir != r.appDir {
		var err error
		if pkg, _, err = readPackageJSON(r.scriptDir); err != nil {
			return err
		}
	}
	if pkg.Dependencies["next"] == "" && pkg.DevDependencies["next"] == "" {
		return nil
	}
	if !runsNextBuild(pkg.Scripts, r.scripts) {
		return nil
	}
	cmds, err := r.startCommands()
	if err != nil {
		return err
	}
	if !startsNext(cmds) {
		b.Logger.Body("Next.js: the start command is not `next start`; keeping the full production node_modules")
		return nil
	}
	r.next = &nextApp{Dir: r.scriptDir, NextStart: len(cmds) > 0}
	r.env.set[NextStandaloneEnv] = "true"
	r.env.set["NEXT_TELEMETRY_DISABLED"] = "1"
	b.Logger.Bodyf("Next.js: building with standalone output (%s=true; an `output` in next.config wins)", NextStandaloneEnv)
	return nil
}

// runsNextBuild reports whether one of the scripts that run calls `next build`.
func runsNextBuild(scripts map[string]string, run []string) bool {
	for _, name := range run {
		sc, err := parseScript("package.json scripts."+name, scripts[name])
		if err != nil {
			continue // a script that needs a shell: not one we can read
		}
		for _, argv := range wordsOf(sc) {
			if len(argv) >= 2 && argv[0] == "next" && argv[1] == "build" {
				return true
			}
		}
	}
	return false
}

// startsNext reports whether the start commands are none, or one web process that runs `next
// start` from package.json (its options give way to the standalone server's $PORT and HOSTNAME).
func startsNext(cmds []startCommand) bool {
	if len(cmds) == 0 {
		return true
	}
	if len(cmds) != 1 || cmds[0].Source != "package.json scripts.start" || cmds[0].Pre != "" || cmds[0].Post != "" {
		return false
	}
	sc, err := parseScript(cmds[0].Source, cmds[0].Command)
	if err != nil {
		return false
	}
	words := wordsOf(sc)
	return len(words) == 1 && len(words[0]) >= 2 && words[0][0] == "next" && words[0][1] == "start"
}

// nextOutput is the resolved config `next build` wrote into a dist directory.
type nextOutput struct {
	DistDir string // absolute
	Output  string // "standalone", "export" or ""
}

// findNextOutput finds the dist directory next build wrote in dir (the one holding
// required-server-files.json: .next unless next.config sets distDir) and reads its output mode.
func findNextOutput(dir string) (nextOutput, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nextOutput{}, fmt.Errorf("reading %s for the Next.js build output: %w", dir, err)
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "node_modules" {
			continue
		}
		file := filepath.Join(dir, e.Name(), nextServerFiles)
		data, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nextOutput{}, fmt.Errorf("reading %s: %w", file, err)
		}
		var f struct {
			Config struct {
				Output string `json:"output"`
			} `json:"config"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			return nextOutput{}, fmt.Errorf("%s, written by next build, is not valid JSON: %w", file, err)
		}
		return nextOutput{DistDir: filepath.Join(dir, e.Name()), Output: f.Config.Output}, nil
	}
	return nextOutput{}, fmt.Errorf("next build wrote no %s in a directory of %s: check that the build script runs `next build` there", nextServerFiles, dir)
}

// standaloneServer finds server.js in the standalone output: at its top, or, when the tracing
// root is above the app (a monorepo), at the app's path under it, beside its dist directory.
func standaloneServer(standalone, distName string) (string, error) {
	var found string
	err := filepath.WalkDir(standalone, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "server.js" && fileExists(filepath.Join(filepath.Dir(p), distName, nextServerFiles)) {
			found = p
			return filepath.SkipAll
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("looking for server.js in the Next.js standalone output %s: %w", standalone, err)
	}
	if found == "" {
		return "", fmt.Errorf("the Next.js standalone output %s holds no server.js beside %s/%s", standalone, distName, nextServerFiles)
	}
	return found, nil
}

// nextStandalone puts the standalone output into the next-standalone launch layer with the static
// files beside it, as Next's docs describe, and takes the dist directory out of the app. It
// returns false, saying why, when the build made no standalone output.
func (b *Builder) nextStandalone(r *buildRun) (bool, error) {
	out, err := findNextOutput(r.next.Dir)
	if err != nil {
		return false, err
	}
	switch out.Output {
	case "standalone":
	case "export":
		if err := exportServed(r.next); err != nil {
			return false, err
		}
		b.Logger.Body("WARNING: next.config sets output: 'export' and the app has no start command: distill does not serve static exports yet, so the image has no web server for out/")
		return false, nil
	default:
		b.Logger.Bodyf("WARNING: next build made no standalone output (this Next.js does not read %s): the image keeps the full production node_modules", NextStandaloneEnv)
		return false, nil
	}
	layer, err := r.ctx.Layers.Layer(LayerNextStandalone)
	if err != nil {
		return false, fmt.Errorf("opening the %s layer: %w", LayerNextStandalone, err)
	}
	if layer, err = layer.Reset(); err != nil {
		return false, fmt.Errorf("resetting the %s layer: %w", LayerNextStandalone, err)
	}
	if err := moveTree(filepath.Join(out.DistDir, "standalone"), layer.Path); err != nil {
		return false, fmt.Errorf("moving the Next.js standalone output into its layer: %w", err)
	}
	server, err := standaloneServer(layer.Path, filepath.Base(out.DistDir))
	if err != nil {
		return false, err
	}
	if err := copyNextStatic(r.next.Dir, out.DistDir, filepath.Dir(server)); err != nil {
		return false, err
	}
	if err := os.RemoveAll(out.DistDir); err != nil { // its cache and server files: all in the layer or build-only
		return false, fmt.Errorf("removing %s from the app: %w", out.DistDir, err)
	}
	if err := b.finishStandaloneLayer(r, &layer); err != nil {
		return false, err
	}
	r.next.Standalone = server
	return true, nil
}

// exportServed fails the build of a static export whose start command is `next start`, which
// refuses to serve one: the image would exit at start.
func exportServed(app *nextApp) error {
	if !app.NextStart {
		return nil
	}
	return fmt.Errorf("next.config in %s sets output: 'export', which `next start` (package.json scripts.start) does not serve, so the image would exit at start: "+
		"serve the exported out/ directory with a Procfile `web:` process, or remove output: 'export' to run the Next.js server", app.Dir)
}

// copyNextStatic copies <dist>/static and public/ beside the standalone server.js (serverDir).
func copyNextStatic(appDir, distDir, serverDir string) error {
	for _, c := range [][2]string{
		{filepath.Join(distDir, "static"), filepath.Join(serverDir, filepath.Base(distDir), "static")},
		{filepath.Join(appDir, "public"), filepath.Join(serverDir, "public")},
	} {
		if !fileExists(c[0]) {
			continue
		}
		if err := copyTree(c[0], c[1]); err != nil {
			return fmt.Errorf("copying %s beside the Next.js standalone server: %w", c[0], err)
		}
	}
	return nil
}

// finishStandaloneLayer drops wrong-libc packages from the standalone node_modules, writes its
// SBOM and makes it a launch layer with HOSTNAME=0.0.0.0 (Next's server listens there).
func (b *Builder) finishStandaloneLayer(r *buildRun, layer *libcnb.Layer) error {
	modules := filepath.Join(layer.Path, "node_modules")
	if fi, err := os.Lstat(modules); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("the Next.js standalone output's node_modules is a link (%s), not the traced files: next build ran on a linked node_modules", modules)
	}
	removed, err := removeForeignLibc(modules, targetLibc)
	if err != nil {
		return err
	}
	if len(removed) > 0 {
		b.Logger.Bodyf("Next.js standalone: left out %d package(s) built for another libc: %s", len(removed), strings.Join(removed, ", "))
	}
	n, err := writeModulesSBOM(layer.SBOMPath(libcnb.CycloneDXJSON), modules, r.pkg)
	if err != nil {
		return err
	}
	size, files, err := treeSize(layer.Path)
	if err != nil {
		return err
	}
	b.Logger.Bodyf("Next.js standalone: %d file(s), %.1f MB with %d traced package(s), in place of the production node_modules", files, float64(size)/1e6, n)
	layer.LayerTypes = libcnb.LayerTypes{Launch: true}
	layer.LaunchEnvironment.Default("HOSTNAME", "0.0.0.0")
	r.result.Layers = append(r.result.Layers, *layer)
	return nil
}

// treeSize is the size and number of the regular files under root.
func treeSize(root string) (int64, int, error) {
	var size int64
	var files int
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		size += info.Size()
		files++
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("measuring %s: %w", root, err)
	}
	return size, files, nil
}
