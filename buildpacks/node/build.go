package node

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"

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
	appDir := ctx.ApplicationPath

	pkg, hasPkg, err := readPackageJSON(appDir)
	if err != nil {
		return result, err
	}
	bpNodeVersion, _ := b.config.Lookup("BP_NODE_VERSION")
	req, err := nodeVersionRequest(appDir, pkg, bpNodeVersion)
	if err != nil {
		return result, err
	}
	npmrc, err := npmrcBinding(ctx.Platform.Bindings)
	if err != nil {
		return result, err
	}
	creds, err := buildpack.CredentialEnv(ctx.Platform.Bindings)
	if err != nil {
		return result, err
	}
	if npmrc != "" {
		b.Logger.Bodyf("Using the npmrc binding %s as npm's user configuration (not copied into any layer)", npmrc)
	}

	layer := func(name string) (libcnb.Layer, error) { return ctx.Layers.Layer(name) }
	nodeLayer, err := layer(LayerNode)
	if err != nil {
		return result, err
	}
	runtimeLayer, err := layer(LayerRuntime)
	if err != nil {
		return result, err
	}
	pmLayer, err := layer(LayerPM)
	if err != nil {
		return result, err
	}
	cacheLayer, err := layer(LayerPMCache)
	if err != nil {
		return result, err
	}
	buildModules, err := layer(LayerBuildModules)
	if err != nil {
		return result, err
	}
	modules, err := layer(LayerModules)
	if err != nil {
		return result, err
	}
	if err := os.MkdirAll(cacheLayer.Path, 0o755); err != nil {
		return result, err
	}
	cacheLayer.LayerTypes = libcnb.LayerTypes{Cache: true}
	cacheLayer.Metadata = map[string]interface{}{"purpose": "package manager caches"}
	result.Layers = append(result.Layers, cacheLayer)

	// Node.js.
	b.Logger.Header("Node.js")
	bootstrap := b.BootstrapNpm
	if len(bootstrap) == 0 {
		if bootstrap, err = findBootstrapNpm(); err != nil {
			return result, err
		}
	}
	npmEnv := newToolEnv(packageManager{Kind: PMNpm}, nodeLayer.Path, pmLayer.Path, cacheLayer.Path, npmrc, creds)
	npmEnv.set["PATH"] = os.Getenv("PATH") // the bootstrap npm runs with its own node
	npm := npmClient{Argv: bootstrap, Dir: appDir, Env: withoutVar(npmEnv.list(nil), "npm_package_config_node_gyp_nodedir")}
	version, err := b.resolveNode(npm, req, &nodeLayer)
	if err != nil {
		return result, err
	}
	result.Layers = append(result.Layers, nodeLayer)
	strip := true
	if v, ok := b.config.Lookup("BP_NODE_STRIP"); ok && (strings.EqualFold(v, "false") || v == "0") {
		strip = false
	}
	if err := b.installRuntime(version, nodeLayer, &runtimeLayer, strip); err != nil {
		return result, err
	}
	result.Layers = append(result.Layers, runtimeLayer)
	buildNode := filepath.Join(nodeLayer.Path, "bin", "node")
	launchNode := filepath.Join(runtimeLayer.Path, "bin", "node")

	// Dependencies.
	b.Logger.Header("Dependencies")
	pm := packageManager{Kind: PMNpm}
	if hasPkg {
		if pm, err = detectPackageManager(appDir, pkg); err != nil {
			return result, err
		}
		if len(pm.IgnoredLocks) > 0 {
			b.Logger.Bodyf("Using %s and ignoring %s: %s", pm.Lock, strings.Join(pm.IgnoredLocks, ", "), pm.LockWhy)
		}
	}
	scripts, err := b.scriptsToRun(pkg)
	if err != nil {
		return result, err
	}
	needInstall := hasPkg && (pkg.hasDependencies() || pm.Lock != "")
	if needInstall || len(scripts) > 0 {
		used, err := b.installPackageManager(npm, &pm, buildNode, version, &pmLayer)
		if err != nil {
			return result, err
		}
		if used {
			result.Layers = append(result.Layers, pmLayer)
		}
		if pm.Kind == PMBerry && pm.NodeLinker != "node-modules" {
			b.Logger.Bodyf("Yarn: installing with nodeLinker node-modules (was %q) so production dependencies form their own layer", orDefault(pm.NodeLinker, "pnp"))
		}
	}
	env := newToolEnv(pm, nodeLayer.Path, pmLayer.Path, cacheLayer.Path, npmrc, creds)
	startTools, needFull, err := b.needDevDependencies(appDir, pkg, pm, scripts, buildNode)
	if err != nil {
		return result, err
	}
	plan, err := b.installModules(appDir, pkg, hasPkg, pm, env, version.Original(), needFull, &buildModules, &modules, b.Out)
	if err != nil {
		return result, err
	}
	if rootScripts := pkg.rootInstallScripts(pm.Kind); plan.Reused && len(rootScripts) > 0 {
		b.Logger.Bodyf("Running the app's install scripts (%s) on the reused node_modules: what they write into the app is not cached", strings.Join(rootScripts, ", "))
		scripts = append(withoutHooks(rootScripts), scripts...)
	}

	// Build scripts.
	if len(scripts) > 0 {
		b.Logger.Header("Build scripts")
		tree := plan.ProdTree
		if needFull {
			tree = plan.FullTree
		}
		if !plan.Empty {
			if err := linkModules(appDir, tree); err != nil {
				return result, err
			}
		}
		for _, s := range scripts {
			args := runScriptCommand(pm, s)
			b.Logger.Bodyf("%s %s", pm.Kind, strings.Join(args, " "))
			if err := runTool(b.Out, appDir, env.list(nil), append(append([]string{}, pm.Argv...), args...)); err != nil {
				return result, fmt.Errorf("the %q script failed (%s %s): %w", s, pm.Kind, strings.Join(args, " "), err)
			}
		}
	}
	if needFull && !plan.Empty {
		if err := b.keepStartTools(plan, startTools); err != nil {
			return result, err
		}
	}
	if !plan.Empty {
		n, err := writeModulesSBOM(modules.SBOMPath(libcnb.CycloneDXJSON), plan.ProdTree, pkg)
		if err != nil {
			return result, err
		}
		if n > 0 {
			if err := linkModules(appDir, plan.ProdTree); err != nil {
				return result, err
			}
			b.Logger.Bodyf("node_modules: %d production package(s) in the launch layer (SBOM written)", n)
		} else {
			// Nothing to launch with: keep the (empty) tree cached for reuse, out of the image.
			if err := os.RemoveAll(filepath.Join(appDir, "node_modules")); err != nil {
				return result, err
			}
			_ = os.Remove(modules.SBOMPath(libcnb.CycloneDXJSON))
			modules.LayerTypes = libcnb.LayerTypes{Cache: true}
			b.Logger.Body("node_modules: no production dependencies; nothing added to the image")
		}
		result.Layers = append(result.Layers, modules)
		if needFull {
			result.Layers = append(result.Layers, buildModules)
		}
	}

	// Processes.
	b.Logger.Header("Processes")
	procs, err := b.processes(ctx, appDir, pkg, buildNode, launchNode, &result)
	if err != nil {
		return result, err
	}
	result.Processes = procs
	b.Logger.Bodyf("Built with Node.js %s and %s in %.1fs", version, pm.Kind, time.Since(start).Seconds())
	return result, nil
}

// needDevDependencies decides whether the install keeps dev dependencies until the build is done:
// when build scripts run, when the root package has install scripts (they run during the install,
// often with a devDependency such as tsc), or when a start command runs a devDependency's
// executable. It returns the commands the start commands need from packages.
func (b *Builder) needDevDependencies(appDir string, pkg packageJSON, pm packageManager, scripts []string, buildNode string) ([]string, bool, error) {
	cmds, err := startCommands(appDir, pkg)
	if err != nil {
		return nil, false, err
	}
	tmp, err := os.MkdirTemp("", "distill-node-launcher")
	if err != nil {
		return nil, false, err
	}
	defer os.RemoveAll(tmp)
	launcher := filepath.Join(tmp, LauncherFile)
	if err := os.WriteFile(launcher, launcherJS, 0o644); err != nil {
		return nil, false, err
	}
	tools, err := startCommandNames(cmds, buildNode, launcher)
	if err != nil {
		return nil, false, err
	}
	if len(pkg.DevDependencies) == 0 {
		return tools, false, nil
	}
	var why []string
	if len(scripts) > 0 {
		why = append(why, "build scripts ("+strings.Join(scripts, ", ")+")")
	}
	if rs := pkg.rootInstallScripts(pm.Kind); len(rs) > 0 {
		why = append(why, "install scripts of package.json ("+strings.Join(rs, ", ")+")")
	}
	if dev := devCommands(appDir, pkg, tools); len(dev) > 0 {
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

// scriptsToRun is BP_NODE_RUN_SCRIPTS (comma-separated; set but empty runs none), else "build" when
// package.json has it.
func (b *Builder) scriptsToRun(pkg packageJSON) ([]string, error) {
	v, ok := b.config.Lookup("BP_NODE_RUN_SCRIPTS")
	if !ok {
		if _, has := pkg.Scripts["build"]; has {
			return []string{"build"}, nil
		}
		return nil, nil
	}
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if _, has := pkg.Scripts[s]; !has {
			names := make([]string, 0, len(pkg.Scripts))
			for k := range pkg.Scripts {
				names = append(names, k)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("BP_NODE_RUN_SCRIPTS names %q, which package.json does not define (scripts: %s)", s, strings.Join(names, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

// processes turns the start commands into processes, adding the launcher layer when one needs it.
func (b *Builder) processes(ctx libcnb.BuildContext, appDir string, pkg packageJSON, buildNode, launchNode string, result *libcnb.BuildResult) ([]libcnb.Process, error) {
	cmds, err := startCommands(appDir, pkg)
	if err != nil {
		return nil, err
	}
	if len(cmds) == 0 {
		b.Logger.Body("WARNING: no Procfile, start script, main, server.js, app.js or index.js: the image has no default process")
		return nil, nil
	}
	launcherLayer, err := ctx.Layers.Layer(LayerLauncher)
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
	for i, c := range cmds {
		p, viaLauncher, warnings, err := processFor(c, appDir, launchNode, buildNode, launcherPath)
		if err != nil {
			return nil, err
		}
		for _, w := range warnings {
			b.Logger.Bodyf("WARNING: %s", w)
		}
		p.Default = c.Type == "web" || (!hasWeb && i == 0)
		how := "direct"
		if viaLauncher {
			how = "through launch.js (no shell in the image)"
			needLauncher = true
		}
		if c.Pre != "" || c.Post != "" {
			how = "prestart, start and poststart in turn through launch.js, as npm start runs them"
		}
		b.Logger.Bodyf("%s: %s (%s, %s)", p.Type, strings.Join(p.Command, " "), c.Source, how)
		procs = append(procs, p)
	}
	if needLauncher {
		launcherLayer.LayerTypes = libcnb.LayerTypes{Launch: true}
		launcherLayer.Metadata = map[string]interface{}{"file": LauncherFile}
		result.Layers = append(result.Layers, launcherLayer)
	} else if err := os.RemoveAll(launcherLayer.Path); err != nil {
		return nil, err
	}
	return procs, nil
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

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
