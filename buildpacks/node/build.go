package node

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"

	"github.com/distill-build/distill/buildpacks/node/berry"
	"github.com/distill-build/distill/buildpacks/node/workspace"
	"github.com/distill-build/distill/internal/buildpack"
)

// BindingTypeNpmrc is the service binding type whose .npmrc holds registry credentials.
const BindingTypeNpmrc = "npmrc"

// Builder builds a Node.js application.
type Builder struct {
	Logger log.Logger
	Out    io.Writer // tool output; os.Stdout when nil

	// BootstrapNpm is the npm command line that fetches Node.js and package managers; empty means the
	// build image's npm (findBootstrapNpm).
	BootstrapNpm []string

	config buildpack.Config
}

func (b *Builder) Build(ctx libcnb.BuildContext) (libcnb.BuildResult, error) {
	if b.Logger == nil {
		b.Logger = newLogger(os.Stdout)
	}
	if b.Out == nil {
		b.Out = os.Stdout
	}
	b.config = buildpack.Config(ctx.Platform.Environment)
	start := time.Now()
	b.Logger.Titlef("%s %s", ctx.Buildpack.Info.Name, ctx.Buildpack.Info.Version)
	result := libcnb.NewBuildResult()
	if err := supportedTarget(ctx.TargetInfo.OS, ctx.TargetInfo.Arch); err != nil {
		return result, err
	}
	r := &buildRun{ctx: ctx, appDir: ctx.ApplicationPath, result: &result}
	var err error
	if r.pkg, r.hasPkg, err = readPackageJSON(r.appDir); err != nil {
		return result, err
	}
	if err := r.openLayers(); err != nil {
		return result, err
	}
	if err := b.installNode(r); err != nil {
		return result, err
	}
	b.Logger.Header("Dependencies")
	if err := b.chooseWorkspace(r); err != nil {
		return result, err
	}
	if err := b.dependencies(r); err != nil {
		return result, err
	}
	if err := b.planNext(r); err != nil {
		return result, err
	}
	if err := b.runBuildScripts(r); err != nil {
		return result, err
	}
	if err := b.launchModules(r); err != nil {
		return result, err
	}
	b.Logger.Header("Processes")
	procs, err := b.processes(r)
	if err != nil {
		return result, err
	}
	result.Processes = procs
	if err := b.checkImageMachine(r); err != nil {
		return result, err
	}
	if r.plan.PnP { // yarn bin needed it until now; the image does not
		if err := os.Remove(filepath.Join(r.appDir, ".yarn", "install-state.gz")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return result, fmt.Errorf("removing Yarn's install state from the app: %w", err)
		}
	}
	b.Logger.Bodyf("Built with Node.js %s and %s in %.1fs", r.version, r.pm.Kind, time.Since(start).Seconds())
	return result, nil
}

// supportedTarget accepts the targets whose official Node.js binaries and Debian libraries distill
// puts into the image (linux/amd64 and linux/arm64, whatever the build image's architecture);
// any other is buildpack.NativeTarget's error.
func supportedTarget(targetOS, targetArch string) error {
	if (targetOS == "" || targetOS == "linux") && (targetArch == "" || targetArch == "amd64" || targetArch == "arm64") {
		return nil
	}
	if targetOS == "" {
		targetOS = "linux"
	}
	return buildpack.NativeTarget(targetOS, targetArch, "Node.js apps")
}

// buildRun is the state of one build as its steps fill it in.
type buildRun struct {
	ctx    libcnb.BuildContext
	appDir string
	pkg    packageJSON
	hasPkg bool
	result *libcnb.BuildResult

	nodeLayer, runtimeLayer, pmLayer, cacheLayer, buildModules, modules libcnb.Layer

	npmrc                 string
	creds                 []string  // git-credentials and netrc binding paths (buildpack.CredentialEnv)
	npm                   npmClient // the bootstrap npm that fetches Node.js and package managers
	version               *semver.Version
	buildNode, launchNode string

	pm        packageManager
	env       toolEnv
	scripts   []string // build scripts to run
	scriptDir string   // where they run (the app, or the started workspace)
	needFull  bool     // dev dependencies stay until the build scripts ran
	tools     []string // the commands the start commands need from packages
	plan      modulesPlan
	ws        workspaces
	next      *nextApp // a Next.js app built with standalone output
}

// openLayers opens the buildpack's layers; the package managers' cache layer is always kept.
func (r *buildRun) openLayers() error {
	for _, l := range []struct {
		name string
		dst  *libcnb.Layer
	}{{LayerNode, &r.nodeLayer}, {LayerRuntime, &r.runtimeLayer}, {LayerPM, &r.pmLayer}, {LayerPMCache, &r.cacheLayer}, {LayerBuildModules, &r.buildModules}, {LayerModules, &r.modules}} {
		layer, err := r.ctx.Layers.Layer(l.name)
		if err != nil {
			return fmt.Errorf("opening the %s layer: %w", l.name, err)
		}
		*l.dst = layer
	}
	if err := os.MkdirAll(r.cacheLayer.Path, 0o755); err != nil {
		return err
	}
	r.cacheLayer.LayerTypes = libcnb.LayerTypes{Cache: true}
	r.cacheLayer.Metadata = map[string]interface{}{"purpose": "package manager caches"}
	r.result.Layers = append(r.result.Layers, r.cacheLayer)
	return nil
}

// installNode resolves the Node.js version, fetches it with the bootstrap npm into the node layer
// and puts bin/node into the launch layer.
func (b *Builder) installNode(r *buildRun) error {
	bpNodeVersion, _ := b.config.Lookup("BP_NODE_VERSION")
	req, err := nodeVersionRequest(r.appDir, r.pkg, bpNodeVersion)
	if err != nil {
		return err
	}
	if r.npmrc, err = npmrcBinding(r.ctx.Platform.Bindings); err != nil {
		return err
	}
	if r.creds, err = buildpack.CredentialEnv(r.ctx.Platform.Bindings); err != nil {
		return err
	}
	if r.npmrc != "" {
		b.Logger.Bodyf("Using the npmrc binding %s as npm's user configuration (not copied into any layer)", r.npmrc)
	}
	b.Logger.Header("Node.js")
	bootstrap := b.BootstrapNpm
	if len(bootstrap) == 0 {
		if bootstrap, err = findBootstrapNpm(); err != nil {
			return err
		}
	}
	npmEnv := newToolEnv(packageManager{Kind: PMNpm}, r.nodeLayer.Path, r.pmLayer.Path, r.cacheLayer.Path, r.npmrc, r.creds)
	npmEnv.set["PATH"] = os.Getenv("PATH") // the bootstrap npm runs with its own node
	r.npm = npmClient{Argv: bootstrap, Dir: r.appDir, Env: withoutVar(npmEnv.list(nil), "npm_package_config_node_gyp_nodedir")}
	if r.version, err = b.resolveNode(r.npm, req, &r.nodeLayer); err != nil {
		return err
	}
	r.result.Layers = append(r.result.Layers, r.nodeLayer)
	strip := true
	if v, ok := b.config.Lookup("BP_NODE_STRIP"); ok && (strings.EqualFold(v, "false") || v == "0") {
		strip = false
	}
	targetLayer, err := r.ctx.Layers.Layer(LayerTargetNode)
	if err != nil {
		return fmt.Errorf("opening the %s layer: %w", LayerTargetNode, err)
	}
	src, foreign, err := b.targetNode(r.npm, r.version, r.nodeLayer, &targetLayer)
	if err != nil {
		return err
	}
	if foreign {
		r.result.Layers = append(r.result.Layers, targetLayer)
	}
	if err := b.installRuntime(r.version, src, &r.runtimeLayer, strip); err != nil {
		return err
	}
	r.result.Layers = append(r.result.Layers, r.runtimeLayer)
	r.buildNode = filepath.Join(r.nodeLayer.Path, "bin", "node")
	r.launchNode = filepath.Join(r.runtimeLayer.Path, "bin", "node")
	return nil
}

// dependencies chooses the package manager, installs it and the app's dependencies.
func (b *Builder) dependencies(r *buildRun) error {
	r.pm = packageManager{Kind: PMNpm}
	var err error
	if r.hasPkg {
		if r.pm, err = detectPackageManager(r.appDir, r.pkg); err != nil {
			return err
		}
		if len(r.pm.IgnoredLocks) > 0 {
			b.Logger.Bodyf("Using %s and ignoring %s: %s", r.pm.Lock, strings.Join(r.pm.IgnoredLocks, ", "), r.pm.LockWhy)
		}
	}
	if r.pm.Kind == PMBerry && r.pm.NodeLinker == berry.LinkerPnP {
		r.pm.ZipCache = filepath.Join(r.modules.Path, zipCacheDir)
	}
	if r.scripts, r.scriptDir, err = b.scriptsToRun(r); err != nil {
		return err
	}
	needInstall := r.hasPkg && (r.pkg.hasDependencies() || r.pm.Lock != "" || len(r.ws.all) > 0)
	if needInstall || len(r.scripts) > 0 {
		used, err := b.installPackageManager(r.npm, &r.pm, r.buildNode, r.version, &r.pmLayer)
		if err != nil {
			return err
		}
		if used {
			r.result.Layers = append(r.result.Layers, r.pmLayer)
		}
	}
	if r.pm.Kind == PMBerry {
		b.logBerry(r)
	}
	r.env = newToolEnv(r.pm, r.nodeLayer.Path, r.pmLayer.Path, r.cacheLayer.Path, r.npmrc, r.creds)
	if err := b.targetBerry(r); err != nil {
		return err
	}
	if r.tools, r.needFull, err = b.needDevDependencies(r); err != nil {
		return err
	}
	r.plan, err = b.installModules(r)
	if err != nil {
		return err
	}
	if rootScripts := r.pkg.rootInstallScripts(r.pm.Kind); r.plan.Reused && len(rootScripts) > 0 {
		b.Logger.Bodyf("Running the app's install scripts (%s) on the reused node_modules: what they write into the app is not cached", strings.Join(rootScripts, ", "))
		r.scripts = append(withoutHooks(rootScripts), r.scripts...)
	}
	return nil
}

// runBuildScripts runs the build scripts on the full install: in place after a fresh install,
// else with node_modules linked to (or, for a Next.js standalone build, moved in from) the reused
// tree. A Next.js build gets its .next/cache of the previous build back, and saves it after.
func (b *Builder) runBuildScripts(r *buildRun) (err error) {
	if len(r.scripts) == 0 {
		return nil
	}
	b.Logger.Header("Build scripts")
	if !r.plan.Empty && !r.plan.InPlace {
		tree := r.plan.ProdTree
		if r.needFull {
			tree = r.plan.FullTree
		}
		giveBack, err := b.modulesForScripts(r, tree)
		if err != nil {
			return err
		}
		defer func() {
			if gErr := giveBack(); gErr != nil && err == nil {
				err = gErr
			}
		}()
	}
	if r.next != nil {
		if err := b.restoreNextCache(r); err != nil {
			return err
		}
	}
	for _, s := range r.scripts {
		args := runScriptCommand(r.pm, s)
		where := ""
		if r.scriptDir != r.appDir {
			where = " (in " + relTo(r.appDir, r.scriptDir) + ")"
		}
		b.Logger.Bodyf("%s %s%s", r.pm.Kind, strings.Join(args, " "), where)
		if err := runTool(b.Out, r.scriptDir, r.env.list(nil), append(append([]string{}, r.pm.Argv...), args...)); err != nil {
			return fmt.Errorf("the %q script failed (%s %s%s): %w", s, r.pm.Kind, strings.Join(args, " "), where, err)
		}
	}
	return b.saveNextCache(r)
}

// modulesForScripts gives the build scripts the reused tree and returns what gives it back after
// them (whether they succeed or fail): a link to it; or, for a Next.js standalone build, the tree
// itself renamed into the app (next build copies a linked node_modules into its output as the
// link, to a layer the image does not carry, instead of the traced files), renamed back after.
// Where the layers are another file system than the app, the tree is copied and the copy removed.
func (b *Builder) modulesForScripts(r *buildRun, tree string) (func() error, error) {
	appModules := filepath.Join(r.appDir, "node_modules")
	none := func() error { return nil }
	if r.next == nil || !r.next.WantStandalone {
		return none, linkModules(r.appDir, tree)
	}
	if err := os.RemoveAll(appModules); err != nil {
		return none, fmt.Errorf("removing %s before next build: %w", appModules, err)
	}
	if err := os.Rename(tree, appModules); err == nil {
		b.Logger.Body("Next.js: moving the reused node_modules into the app for next build (it traces the files it copies into the standalone output), and back after it")
		return func() error {
			if err := os.Rename(appModules, tree); err != nil {
				return fmt.Errorf("moving node_modules back from %s into its cache layer %s: %w", appModules, tree, err)
			}
			return nil
		}, nil
	}
	b.Logger.Body("Next.js: copying the reused node_modules into the app (its layer is another file system), so next build traces the files it copies into the standalone output")
	if err := copyTree(tree, appModules); err != nil {
		return none, fmt.Errorf("copying the reused node_modules into %s for next build: %w", r.appDir, err)
	}
	return func() error { return os.RemoveAll(appModules) }, nil
}

// launchModules prunes the install to production, puts it in the launch layer with its SBOM and
// links <app>/node_modules to it.
func (b *Builder) launchModules(r *buildRun) error {
	if r.plan.Empty {
		return nil
	}
	if err := b.finishModules(r); err != nil {
		return err
	}
	if r.plan.PnP {
		r.result.Layers = append(r.result.Layers, r.modules)
		return nil
	}
	if err := b.dropPrebuilds(r.plan.ProdTree); err != nil {
		return err
	}
	if r.next != nil {
		shaped, err := b.nextImage(r)
		if err != nil {
			return err
		}
		if shaped {
			return b.cacheOnlyModules(r)
		}
		r.next = nil
	}
	if r.needFull {
		if err := b.keepStartTools(r.plan, r.tools); err != nil {
			return err
		}
	}
	launch, tree := r.modules, r.plan.ProdTree
	if traced, t, ok := b.traceModules(r); ok {
		// The full tree stays cached (the next build traces again from it), out of the image.
		_ = os.Remove(r.modules.SBOMPath(libcnb.CycloneDXJSON))
		r.modules.LayerTypes = libcnb.LayerTypes{Cache: true}
		launch, tree = traced, t
	}
	if err := b.placeModules(r, launch, tree); err != nil {
		return err
	}
	r.result.Layers = append(r.result.Layers, r.modules)
	if r.needFull {
		r.result.Layers = append(r.result.Layers, r.buildModules)
	}
	return nil
}

// placeModules links <app>/node_modules to tree, the production tree of the launch layer, and
// writes its SBOM; a tree that holds nothing (no installed package, and no link to a package of
// the app's own: file: dependencies, workspaces) stays cached, out of the image.
func (b *Builder) placeModules(r *buildRun, launch libcnb.Layer, tree string) error {
	n, err := writeModulesSBOM(launch.SBOMPath(libcnb.CycloneDXJSON), tree, r.pkg)
	if err != nil {
		return err
	}
	links, err := workspace.OutsideLinks(tree)
	if err != nil {
		return err
	}
	if n == 0 && links == 0 {
		if err := os.RemoveAll(filepath.Join(r.appDir, "node_modules")); err != nil {
			return err
		}
		_ = os.Remove(r.modules.SBOMPath(libcnb.CycloneDXJSON))
		r.modules.LayerTypes = libcnb.LayerTypes{Cache: true}
		b.Logger.Body("node_modules: no production dependencies; nothing added to the image")
		return nil
	}
	if err := linkModules(r.appDir, tree); err != nil {
		return err
	}
	if n > 0 {
		b.Logger.Bodyf("node_modules: %d production package(s) in the %s launch layer (SBOM written)", n, launch.Name)
	}
	if links > 0 {
		b.Logger.Bodyf("node_modules: %d link(s) to the app's own packages (file:, workspaces) in the %s launch layer", links, launch.Name)
	}
	if launch.Name == LayerTraced {
		r.result.Layers = append(r.result.Layers, launch)
	}
	return nil
}

// cacheOnly keeps the layer name, already in the build result, out of the image: cached only.
func (r *buildRun) cacheOnly(name string) {
	for i := range r.result.Layers {
		if r.result.Layers[i].Name == name {
			r.result.Layers[i].LayerTypes = libcnb.LayerTypes{Cache: true}
		}
	}
}

// cacheOnlyModules keeps the production node_modules out of the image, cached for the next
// build, when the Next.js standalone output carries what the server loads (or the image is a
// static export).
func (b *Builder) cacheOnlyModules(r *buildRun) error {
	if err := os.RemoveAll(filepath.Join(r.appDir, "node_modules")); err != nil {
		return fmt.Errorf("removing the node_modules link from the app: %w", err)
	}
	_ = os.Remove(r.modules.SBOMPath(libcnb.CycloneDXJSON))
	r.modules.LayerTypes = libcnb.LayerTypes{Cache: true}
	r.result.Layers = append(r.result.Layers, r.modules)
	if r.needFull {
		r.result.Layers = append(r.result.Layers, r.buildModules)
	}
	b.Logger.Body("node_modules: the production tree stays out of the image (cached for the next build)")
	return nil
}

// logBerry says which Yarn runs and how it lays out the packages.
func (b *Builder) logBerry(r *buildRun) {
	switch r.pm.NodeLinker {
	case berry.LinkerPnP:
		b.Logger.Bodyf("Yarn %s: nodeLinker pnp (Plug'n'Play): the app starts with node --require .pnp.cjs, its production packages stay zipped in the node-modules layer", r.pm.Version)
	default:
		b.Logger.Bodyf("Yarn %s: nodeLinker %s", r.pm.Version, r.pm.NodeLinker)
	}
}

func relTo(base, p string) string {
	if rel, err := filepath.Rel(base, p); err == nil {
		return rel
	}
	return p
}

// needDevDependencies decides whether the install keeps dev dependencies until the build is done:
// when build scripts run, when the root package has install scripts (they run during the install,
// often with a devDependency such as tsc), or when a start command runs a devDependency's
// executable. It returns the commands the start commands need from packages.
func (b *Builder) needDevDependencies(r *buildRun) ([]string, bool, error) {
	cmds, err := r.startCommands()
	if err != nil {
		return nil, false, err
	}
	tools, err := startCommandNames(cmds)
	if err != nil {
		return nil, false, err
	}
	if !r.hasDevDependencies() {
		return tools, false, nil
	}
	var why []string
	if len(r.scripts) > 0 {
		why = append(why, "build scripts ("+strings.Join(r.scripts, ", ")+")")
	}
	if rs := r.pkg.rootInstallScripts(r.pm.Kind); len(rs) > 0 {
		why = append(why, "install scripts of package.json ("+strings.Join(rs, ", ")+")")
	}
	if dev := devCommands(r.appDir, r.pkg, tools); len(dev) > 0 {
		why = append(why, "the start command runs "+strings.Join(dev, ", ")+" from devDependencies")
	}
	if len(why) == 0 {
		return tools, false, nil
	}
	b.Logger.Bodyf("Installing with dev dependencies, pruned to production afterwards: %s", strings.Join(why, "; "))
	return tools, true, nil
}

// keepStartTools copies the packages that provide the start command's executables from the full
// tree into the production one when the prune removed them, and says so.
func (b *Builder) keepStartTools(plan modulesPlan, tools []string) error {
	kept, _, err := keepTools(plan.FullTree, plan.ProdTree, tools)
	if err != nil {
		return err
	}
	for _, k := range kept {
		b.Logger.Bodyf("Keeping %s in the production node_modules (%d package(s) copied with what it needs): the start command runs %s, a devDependency. Move it to dependencies to say so in package.json", k.Package, k.Packages, k.Command)
	}
	return nil
}

// scriptsToRun is BP_NODE_RUN_SCRIPTS (comma-separated; set but empty runs none), else "build"
// when package.json has it, else the started workspace's "build" (run in its directory).
func (b *Builder) scriptsToRun(r *buildRun) ([]string, string, error) {
	v, ok := b.config.Lookup("BP_NODE_RUN_SCRIPTS")
	if !ok {
		if _, has := r.pkg.Scripts["build"]; has {
			return []string{"build"}, r.appDir, nil
		}
		if w := r.ws.choice.Workspace; r.ws.choice.Starts && strings.TrimSpace(w.Scripts["build"]) != "" {
			return []string{"build"}, r.ws.dir(r.appDir), nil
		}
		return nil, r.appDir, nil
	}
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if _, has := r.pkg.Scripts[s]; !has {
			names := make([]string, 0, len(r.pkg.Scripts))
			for k := range r.pkg.Scripts {
				names = append(names, k)
			}
			sort.Strings(names)
			return nil, r.appDir, fmt.Errorf("BP_NODE_RUN_SCRIPTS names %q, which package.json does not define (scripts: %s)", s, strings.Join(names, ", "))
		}
		out = append(out, s)
	}
	return out, r.appDir, nil
}

// processes turns the start commands into processes, adding the launcher layer when one needs it.
func (b *Builder) processes(r *buildRun) ([]libcnb.Process, error) {
	if r.next != nil && r.next.SiteServer != "" {
		b.Logger.Bodyf("web: %s %s (the static export on $PORT, default 8080)", r.next.SiteServer, r.next.Site)
		return []libcnb.Process{{Type: "web", Command: []string{r.next.SiteServer, r.next.Site}, Default: true}}, nil
	}
	if r.next != nil {
		server := r.next.Standalone
		b.Logger.Bodyf("web: %s %s (the Next.js standalone server on $PORT, HOSTNAME=0.0.0.0)", r.launchNode, server)
		return []libcnb.Process{{Type: "web", Command: []string{r.launchNode, server}, WorkingDirectory: filepath.Dir(server), Default: true}}, nil
	}
	cmds, err := r.startCommands()
	if err != nil {
		return nil, err
	}
	if len(cmds) == 0 {
		b.Logger.Body("WARNING: no Procfile, start script, main, server.js, app.js or index.js: the image has no default process")
		return nil, nil
	}
	launcherLayer, err := r.ctx.Layers.Layer(LayerLauncher)
	if err != nil {
		return nil, err
	}
	if launcherLayer, err = launcherLayer.Reset(); err != nil {
		return nil, err
	}
	launcherPath := filepath.Join(launcherLayer.Path, LauncherFile)
	if err := os.MkdirAll(launcherLayer.Path, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(launcherPath, launcherJS, 0o644); err != nil {
		return nil, err
	}
	var procs []libcnb.Process
	needLauncher := false
	hasWeb := false
	for _, c := range cmds {
		hasWeb = hasWeb || c.Type == "web"
	}
	var pnpBins map[string]string
	if r.plan.PnP {
		pnpBins = b.pnpBins(r)
	}
	for i, c := range cmds {
		if r.plan.PnP {
			c.NodeFlags, c.Bins = r.pnpFlags(), pnpBins
		}
		p, viaLauncher, warnings, err := processFor(c, r.launchNode, launcherPath)
		if err != nil {
			return nil, err
		}
		for _, w := range warnings {
			b.Logger.Bodyf("WARNING: %s", w)
		}
		p.Default = c.Type == "web" || (!hasWeb && i == 0)
		if c.Dir != r.appDir {
			p.WorkingDirectory = c.Dir
		}
		b.Logger.Bodyf("%s: %s (%s, %s)", p.Type, strings.Join(p.Command, " "), c.Source, processHow(c, viaLauncher))
		needLauncher = needLauncher || viaLauncher
		procs = append(procs, p)
	}
	if needLauncher {
		launcherLayer.LayerTypes = libcnb.LayerTypes{Launch: true}
		launcherLayer.Metadata = map[string]interface{}{"file": LauncherFile}
		r.result.Layers = append(r.result.Layers, launcherLayer)
	} else if err := os.RemoveAll(launcherLayer.Path); err != nil {
		return nil, err
	}
	return procs, nil
}

// processHow says how a process runs, for the log.
func processHow(c startCommand, viaLauncher bool) string {
	how := "direct"
	if viaLauncher {
		how = "through launch.js (no shell in the image)"
	}
	if c.Pre != "" || c.Post != "" {
		how = "prestart, start and poststart in turn through launch.js, as npm start runs them"
	}
	if len(c.NodeFlags) > 0 {
		how += ", node loads the packages through Plug'n'Play (.pnp.cjs)"
	}
	return how
}

// npmrcBinding returns the .npmrc of a binding of type npmrc ("" without one): its .npmrc file
// (a hidden file, which libcnb leaves out of the binding's Secret), else its only file.
func npmrcBinding(bindings libcnb.Bindings) (string, error) {
	for _, bd := range bindings {
		if !strings.EqualFold(strings.TrimSpace(bd.Type), BindingTypeNpmrc) {
			continue
		}
		if p, ok := buildpack.BindingFile(bd, ".npmrc"); ok {
			return p, nil
		}
		if len(bd.Secret) == 1 {
			for name := range bd.Secret {
				return filepath.Join(bd.Path, name), nil
			}
		}
		return "", fmt.Errorf("binding %q (%s) of type npmrc holds no .npmrc file; write the npm configuration (registry, //HOST/:_authToken=...) to %s", bd.Name, bd.Path, filepath.Join(bd.Path, ".npmrc"))
	}
	return "", nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
