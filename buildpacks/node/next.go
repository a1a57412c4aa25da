package node

// Next.js apps ship the framework's standalone output: the server files `next build` traced, with
// the minimal node_modules they load, and .next/static and public/ copied beside them, as Next's
// docs for self-hosting describe. The build asks for standalone output through
// NEXT_PRIVATE_STANDALONE, which sets the default of next.config's `output`: a config that sets
// `output` itself keeps its choice. BP_NEXT_STANDALONE=false asks for none (the image keeps the
// full production node_modules and the start command). A static export (`output: 'export'`)
// ships the exported files alone, served by distill's static server (internal/staticserver),
// with no Node.js in the image.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/buildpacks/libcnb/v2"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/gocompile"
	"github.com/distill-build/distill/internal/staticserver"
)

// Next.js settings and names.
const (
	// NextStandaloneEnv is what Next.js (12.2 and later, server/config-shared.js) reads for the
	// default of next.config's `output`: set, the default is 'standalone'.
	NextStandaloneEnv = "NEXT_PRIVATE_STANDALONE"
	// LayerNextStandalone holds the standalone server: launch.
	LayerNextStandalone = "next-standalone"
	// LayerStaticServer holds bin/static-server, which serves a static export: launch + cache.
	LayerStaticServer = "static-server"
	// nextExportDetail is what `next build` writes into the dist directory after an export: its
	// outDirectory (next/dist/export, EXPORT_DETAIL).
	nextExportDetail = "export-detail.json"
	// nextServerFiles is what `next build` writes into the dist directory with the resolved config.
	nextServerFiles = "required-server-files.json"
)

// nextApp is a Next.js app built by the build scripts and started with `next start` (or nothing):
// its image runs the standalone server, or serves the static export.
type nextApp struct {
	Dir            string // where next build runs
	NextStart      bool   // the start script is `next start` (else there is none)
	WantStandalone bool   // the build asks for standalone output (BP_NEXT_STANDALONE is not false)
	Standalone     string // the standalone server.js in the next-standalone layer, once moved there
	Site           string // the exported files (the app directory, once they replaced it)
	SiteServer     string // bin/static-server, which serves Site

	cache     *libcnb.Layer // the next-cache layer, once restoreNextCache opened it
	cacheMeta nextCacheMeta // what the build saves into it
}

// nextServing is what an image runs for a Next.js build.
type nextServing int

const (
	serveNextStart  nextServing = iota // the start command on the full production node_modules
	serveStandalone                    // node with the standalone server.js
	serveExport                        // the static server on the exported files: no Node.js
)

// nextServingFor decides how the image serves a build whose resolved next.config `output` is
// output, when the build asked for standalone output (want) or not.
func nextServingFor(output string, want bool) nextServing {
	switch {
	case output == "export":
		return serveExport
	case output == "standalone" && want:
		return serveStandalone
	}
	return serveNextStart
}

// wantStandalone reads BP_NEXT_STANDALONE (strconv.ParseBool; unset or empty: true).
func wantStandalone(c buildpack.Config) (bool, error) {
	v := strings.TrimSpace(c.Get("BP_NEXT_STANDALONE"))
	if v == "" {
		return true, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("BP_NEXT_STANDALONE=%q: want true or false", v)
	}
	return on, nil
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
	want, err := wantStandalone(b.config)
	if err != nil {
		return err
	}
	r.next = &nextApp{Dir: r.scriptDir, NextStart: len(cmds) > 0, WantStandalone: want}
	r.env.set["NEXT_TELEMETRY_DISABLED"] = "1"
	if !want {
		b.Logger.Body("Next.js: BP_NEXT_STANDALONE=false: building without standalone output; the image keeps the full production node_modules (an `output: 'export'` is still served as a static site)")
		return nil
	}
	r.env.set[NextStandaloneEnv] = "true"
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

// nextImage shapes the image after next build: the standalone output into the next-standalone
// launch layer, or the static export in place of the app. It returns false, saying why, when the
// image runs the start command on the full production node_modules instead.
func (b *Builder) nextImage(r *buildRun) (bool, error) {
	out, err := findNextOutput(r.next.Dir)
	if err != nil {
		return false, err
	}
	switch nextServingFor(out.Output, r.next.WantStandalone) {
	case serveExport:
		return true, b.nextExport(r, out)
	case serveStandalone:
		return true, b.nextStandalone(r, out)
	}
	switch {
	case out.Output == "standalone":
		b.Logger.Body("Next.js: BP_NEXT_STANDALONE=false: the standalone output next.config asks for is left unused; the image keeps the full production node_modules")
	case r.next.WantStandalone:
		b.Logger.Bodyf("WARNING: next build made no standalone output (this Next.js does not read %s): the image keeps the full production node_modules", NextStandaloneEnv)
	}
	return false, nil
}

// nextStandalone puts the standalone output into the next-standalone launch layer with the static
// files beside it, as Next's docs describe, and takes the dist directory out of the app.
func (b *Builder) nextStandalone(r *buildRun, out nextOutput) error {
	layer, err := r.ctx.Layers.Layer(LayerNextStandalone)
	if err != nil {
		return fmt.Errorf("opening the %s layer: %w", LayerNextStandalone, err)
	}
	if layer, err = layer.Reset(); err != nil {
		return fmt.Errorf("resetting the %s layer: %w", LayerNextStandalone, err)
	}
	if err := moveTree(filepath.Join(out.DistDir, "standalone"), layer.Path); err != nil {
		return fmt.Errorf("moving the Next.js standalone output into its layer: %w", err)
	}
	server, err := standaloneServer(layer.Path, filepath.Base(out.DistDir))
	if err != nil {
		return err
	}
	if err := copyNextStatic(r.next.Dir, out.DistDir, filepath.Dir(server)); err != nil {
		return err
	}
	if err := os.RemoveAll(out.DistDir); err != nil { // its cache and server files: all in the layer or build-only
		return fmt.Errorf("removing %s from the app: %w", out.DistDir, err)
	}
	if err := b.finishStandaloneLayer(r, &layer); err != nil {
		return err
	}
	r.next.Standalone = server
	return nil
}

// nextExport makes the image the exported files and the static server: it compiles the server
// into its layer, replaces the app directory with the export and keeps the Node.js runtime out
// of the image (cached for the next build).
func (b *Builder) nextExport(r *buildRun, out nextOutput) error {
	site, err := exportDir(out.DistDir, r.appDir)
	if err != nil {
		return err
	}
	if r.next.NextStart {
		b.Logger.Body("Next.js: next.config sets output: 'export'; `next start` (package.json scripts.start) does not serve an export, so distill's static server replaces it")
	} else {
		b.Logger.Body("Next.js: next.config sets output: 'export': serving the export with distill's static server")
	}
	compiler := gocompile.Compiler{Logger: b.Logger}
	layer, bin, err := compiler.Layer(context.Background(), r.ctx.Layers, LayerStaticServer, staticserver.Program, r.ctx.TargetInfo.Arch)
	if err != nil {
		return err
	}
	r.result.Layers = append(r.result.Layers, layer)
	size, files, err := treeSize(site)
	if err != nil {
		return err
	}
	if err := replaceApp(r.appDir, site); err != nil {
		return err
	}
	r.cacheOnly(LayerRuntime)
	r.next.Site, r.next.SiteServer = r.appDir, bin
	b.Logger.Bodyf("Next.js export: %d file(s), %.1f MB in place of the app; no Node.js runtime in the image", files, float64(size)/1e6)
	return nil
}

// exportDir reads where next build exported the site from <distDir>/export-detail.json
// (outDirectory: `out`, or next.config's distDir for an export) and checks the export succeeded
// and lies inside appDir, below it.
func exportDir(distDir, appDir string) (string, error) {
	file := filepath.Join(distDir, nextExportDetail)
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading %s, which next build writes after a static export: %w", file, err)
	}
	var d struct {
		OutDirectory string `json:"outDirectory"`
		Success      bool   `json:"success"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return "", fmt.Errorf("%s, written by next build, is not valid JSON: %w", file, err)
	}
	if !d.Success || d.OutDirectory == "" {
		return "", fmt.Errorf("%s says the static export did not succeed: check next build's output above", file)
	}
	dir := d.OutDirectory
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(distDir), dir)
	}
	rel, err := filepath.Rel(appDir, dir)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("the static export %s (%s) is not inside the app directory %s: set next.config's distDir to a directory of the app", dir, file, appDir)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("the static export %s named by %s is not a directory (%v)", dir, file, err)
	}
	return dir, nil
}

// replaceApp empties appDir (its source, node_modules link, build output) and moves the files
// of site, a directory inside it, to its top.
func replaceApp(appDir, site string) error {
	tmp, err := os.MkdirTemp(appDir, ".distill-site-")
	if err != nil {
		return fmt.Errorf("replacing %s with the static export: %w", appDir, err)
	}
	moved := filepath.Join(tmp, "site")
	if err := os.Rename(site, moved); err != nil {
		return fmt.Errorf("moving the static export %s aside: %w", site, err)
	}
	entries, err := os.ReadDir(appDir)
	if err != nil {
		return fmt.Errorf("reading %s: %w", appDir, err)
	}
	for _, e := range entries {
		if p := filepath.Join(appDir, e.Name()); p != tmp {
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("removing %s from the app (the image holds the static export only): %w", p, err)
			}
		}
	}
	if entries, err = os.ReadDir(moved); err != nil {
		return fmt.Errorf("reading the static export %s: %w", moved, err)
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(moved, e.Name()), filepath.Join(appDir, e.Name())); err != nil {
			return fmt.Errorf("moving the static export into %s: %w", appDir, err)
		}
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("removing %s: %w", tmp, err)
	}
	return nil
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
	if err := b.dropPrebuilds(modules); err != nil {
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
