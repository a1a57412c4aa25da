package node

// The install of the app's dependencies: fresh into the app (build scripts run on it there), then
// pruned to production, left without what only other workspaces need and moved into the
// node-modules launch layer; or reused from the cache while its key holds.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/buildpacks/libcnb/v2"

	"github.com/distill-build/distill/buildpacks/node/berry"
	"github.com/distill-build/distill/buildpacks/node/workspace"
)

// zipCacheDir is the Yarn Plug'n'Play zip cache's directory in the node-modules layer.
const zipCacheDir = "yarn-cache"

// modulesPlan is what the dependency step decided.
type modulesPlan struct {
	Key      string
	Reused   bool
	Empty    bool // nothing to install
	InPlace  bool // a fresh install in <app>: finishModules prunes it and moves it to its layer
	Prune    bool // the install holds dev dependencies that finishModules prunes
	PnP      bool // Yarn Plug'n'Play: .pnp.cjs in the app, the zips in ZipCache
	FullTree string
	ProdTree string
	ZipCache string
	want     map[string]interface{}
}

// installModules installs the dependencies into <app>, with dev dependencies when the build needs
// them (and always for Yarn Berry, which has no production-only install), or reuses the cached
// trees while the key holds.
func (b *Builder) installModules(r *buildRun) (modulesPlan, error) {
	key, err := modulesKey(r.appDir, r.pkg, r.pm, r.version.Original(), r.ws.choice.Workspace.Dir)
	if err != nil {
		return modulesPlan{}, err
	}
	plan := modulesPlan{Key: key, FullTree: filepath.Join(r.buildModules.Path, "node_modules"), ProdTree: filepath.Join(r.modules.Path, "node_modules"), PnP: r.pm.ZipCache != "", ZipCache: r.pm.ZipCache}
	r.modules.LayerTypes = libcnb.LayerTypes{Launch: true, Cache: true}
	r.buildModules.LayerTypes = libcnb.LayerTypes{Cache: true}
	appModules := filepath.Join(r.appDir, "node_modules")

	if !r.hasPkg || (!r.pkg.hasDependencies() && r.pm.Lock == "" && len(r.ws.all) == 0) {
		b.Logger.Body("No dependencies to install")
		plan.Empty = true
		return plan, nil
	}
	plan.want = map[string]interface{}{"key": key, "package-manager": r.pm.Kind + "@" + r.pm.Version, "node": r.version.Original()}
	prodOK := metadataEqual(r.modules.Metadata, plan.want) && fileExists(plan.ProdTree)
	fullOK := !r.needFull || (metadataEqual(r.buildModules.Metadata, plan.want) && fileExists(plan.FullTree))
	if prodOK && fullOK && !plan.PnP {
		b.Logger.Bodyf("Reusing node_modules: lock file, package.json dependencies and Node.js %s unchanged", r.version)
		plan.Reused = true
		if err := restoreInstallState(r, plan); err != nil {
			return plan, err
		}
		return plan, b.warnUnbuiltAddons(plan.ProdTree)
	}
	if fi, err := os.Lstat(appModules); err == nil {
		if fi.Mode()&os.ModeSymlink == 0 {
			b.Logger.Body("Removing the app's own node_modules: dependencies are installed from package.json and the lock file")
		}
		if err := os.RemoveAll(appModules); err != nil {
			return plan, err
		}
	}
	// A fresh install decides the layer's launch environment anew (a Plug'n'Play install of an
	// earlier build set NODE_OPTIONS there).
	if err := os.RemoveAll(filepath.Join(r.modules.Path, "env.launch")); err != nil {
		return plan, err
	}
	if plan.PnP {
		if err := os.MkdirAll(plan.ZipCache, 0o755); err != nil {
			return plan, err
		}
	}
	full := r.needFull || r.pm.Kind == PMBerry
	args := append(installCommand(r.pm, !full), targetInstallArgs(r.pm)...)
	b.Logger.Bodyf("%s %s", r.pm.Kind, strings.Join(args, " "))
	if env := targetInstallEnv(); env != nil && r.pm.Kind == PMNpm {
		b.Logger.Bodyf("For linux/%s: npm_config_cpu=%s npm_config_os=linux pick the optional packages; npm_config_arch and npm_config_target_arch are for node-gyp, prebuild-install and node-pre-gyp (npm warns that it does not know them)",
			targetArch(), env["npm_config_cpu"])
	}
	installEnv := withoutVar(r.env.list(nil), "NODE_ENV") // NODE_ENV=production would drop dev dependencies
	if err := runTool(b.Out, r.appDir, installEnv, append(append([]string{}, r.pm.Argv...), args...)); err != nil {
		return plan, fmt.Errorf("%s %s failed: %w", r.pm.Kind, strings.Join(args, " "), err)
	}
	plan.InPlace, plan.Prune = true, full
	if plan.PnP {
		return plan, nil
	}
	if err := os.MkdirAll(appModules, 0o755); err != nil { // an install with nothing to do may create none
		return plan, err
	}
	if err := b.warnUnbuiltAddons(appModules); err != nil {
		return plan, err
	}
	if r.needFull {
		if err := saveFullTree(r, plan); err != nil {
			return plan, err
		}
	}
	return plan, nil
}

// saveFullTree keeps a copy of the full install, as installed, in the build-modules cache layer
// (its workspace links anchored to the app), for the build scripts of builds that reuse it.
func saveFullTree(r *buildRun, plan modulesPlan) error {
	appModules := filepath.Join(r.appDir, "node_modules")
	if err := copyTree(appModules, plan.FullTree); err != nil {
		return err
	}
	if _, err := workspace.Anchor(plan.FullTree, appModules); err != nil {
		return err
	}
	if r.pm.Kind == PMBerry {
		state := filepath.Join(r.appDir, ".yarn", "install-state.gz")
		if fileExists(state) {
			if err := copyTree(state, filepath.Join(r.buildModules.Path, "install-state.gz")); err != nil {
				return err
			}
		}
	}
	r.buildModules.Metadata = copyMap(plan.want)
	return nil
}

// restoreInstallState puts Yarn Berry's install state of a reused full tree back into the app, so
// yarn run finds the packages as the install left them.
func restoreInstallState(r *buildRun, plan modulesPlan) error {
	saved := filepath.Join(r.buildModules.Path, "install-state.gz")
	if r.pm.Kind != PMBerry || !r.needFull || !fileExists(saved) {
		return nil
	}
	return copyTree(saved, filepath.Join(r.appDir, ".yarn", "install-state.gz"))
}

// finishModules turns a fresh install into the launch layer's content: pruned to production
// (after the build scripts ran on the full install), left without what only other workspaces need,
// and moved into the node-modules layer with its workspace links anchored to the app. A
// Plug'n'Play install keeps the production zips in the layer and loads through .pnp.cjs.
func (b *Builder) finishModules(r *buildRun) error {
	plan := r.plan
	if !plan.InPlace {
		return nil
	}
	if plan.Prune {
		if err := b.prune(r); err != nil {
			return err
		}
	}
	if plan.PnP {
		if err := os.RemoveAll(plan.ProdTree); err != nil { // a node_modules of an earlier linker
			return err
		}
		return b.finishPnP(r)
	}
	if err := os.RemoveAll(filepath.Join(r.modules.Path, zipCacheDir)); err != nil { // zips of an earlier pnp linker
		return err
	}
	appModules := filepath.Join(r.appDir, "node_modules")
	if err := b.trimWorkspaces(r); err != nil {
		return err
	}
	removed, err := removeForeignLibc(appModules, targetLibc)
	if err != nil {
		return err
	}
	if len(removed) > 0 {
		b.Logger.Bodyf("node_modules: left out %d package(s) built for another libc than the run image's %s: %s", len(removed), targetLibc, strings.Join(removed, ", "))
	}
	if err := moveTree(appModules, plan.ProdTree); err != nil {
		return err
	}
	n, err := workspace.Anchor(plan.ProdTree, appModules)
	if err != nil {
		return err
	}
	if n > 0 {
		b.Logger.Bodyf("node_modules: %d workspace link(s) point into the app, so they resolve from the node-modules layer", n)
	}
	r.modules.Metadata = copyMap(plan.want)
	return nil
}

// prune removes the dev dependencies from the install in place, running no lifecycle script.
func (b *Builder) prune(r *buildRun) error {
	args, pruneEnv := pruneCommand(r.pm)
	if r.pm.Kind == PMBerry && berry.ProductionPrune(r.pm.Berry, r.pm.Version).StripDev {
		restore, err := berry.StripDevDependencies(r.appDir, r.workspaceDirs())
		defer func() {
			if err := restore(); err != nil {
				b.Logger.Bodyf("WARNING: %v", err)
			}
		}()
		if err != nil {
			return err
		}
		b.Logger.Bodyf("Yarn %s has no `workspaces focus` (the workspace-tools plugin is not imported): installing again with the devDependencies taken out of package.json, which is what focus does; package.json and yarn.lock are restored afterwards", r.pm.Version)
	}
	b.Logger.Bodyf("%s %s (no lifecycle scripts)", r.pm.Kind, strings.Join(args, " "))
	if err := runTool(b.Out, r.appDir, withoutVar(r.env.list(pruneEnv), "NODE_ENV"), append(append([]string{}, r.pm.Argv...), args...)); err != nil {
		return fmt.Errorf("pruning dev dependencies (%s %s) failed: %w", r.pm.Kind, strings.Join(args, " "), err)
	}
	return nil
}

// trimWorkspaces leaves out of node_modules what only workspaces that do not run need.
func (b *Builder) trimWorkspaces(r *buildRun) error {
	if !r.ws.choice.Found {
		return nil
	}
	t, err := workspace.Trim(r.appDir, r.ws.all, r.ws.choice.Workspace)
	if err != nil {
		return err
	}
	if t.Packages > 0 {
		b.Logger.Bodyf("node_modules: left out %d package(s) only other workspaces need (%s)", t.Packages, orNone(t.Workspaces))
	}
	return nil
}

// finishPnP keeps the zips the production .pnp.cjs names in the node-modules layer, and has every
// node of the image load .pnp.cjs (NODE_OPTIONS, for the processes the app starts itself).
func (b *Builder) finishPnP(r *buildRun) error {
	pnp := berry.PnP{AppDir: r.appDir}
	if !pnp.Installed() {
		return fmt.Errorf("yarn install wrote no %s in %s although nodeLinker is pnp: check .yarnrc.yml (pnpMode, nodeLinker)", berry.PnPFile, r.appDir)
	}
	kept, removed, err := pnp.PruneCache(r.plan.ZipCache)
	if err != nil {
		return err
	}
	b.Logger.Bodyf("Plug'n'Play: %d production zip(s) in the node-modules layer, %d dev zip(s) left out; %s and the app's .yarn/unplugged stay in the app", kept, removed, berry.PnPFile)
	if r.pm.Lock != "" {
		pkgs, err := berry.CachedPackages(filepath.Join(r.appDir, r.pm.Lock), r.plan.ZipCache)
		if err != nil {
			return err
		}
		if err := writePnPSBOM(r.modules.SBOMPath(libcnb.CycloneDXJSON), pkgs, r.pkg); err != nil {
			return err
		}
	}
	r.modules.LaunchEnvironment.Prepend("NODE_OPTIONS", " ", strings.Join(pnp.NodeFlags(), " "))
	r.modules.Metadata = copyMap(r.plan.want)
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "no workspace itself"
	}
	return "workspaces " + strings.Join(s, ", ")
}

// warnUnbuiltAddons warns about each package of the install in appModules whose native addon was
// not compiled (unbuiltAddons): the build goes on, as an addon may be optional at run time, but
// the log says why requiring it will fail and how to approve its install script.
func (b *Builder) warnUnbuiltAddons(appModules string) error {
	pkgs, err := unbuiltAddons(appModules)
	if err != nil || len(pkgs) == 0 {
		return err
	}
	b.Logger.Bodyf("WARNING: %s %s a binding.gyp but no compiled addon (.node file): the install script that compiles it did not run, "+
		"so requiring it fails at run time unless the package falls back to JavaScript. npm 12 runs a dependency's install scripts only "+
		"when package.json's allowScripts approves them (`npm install-scripts approve <package>`, then commit package.json; "+
		"pnpm: onlyBuiltDependencies), or pin an earlier npm with packageManager", strings.Join(pkgs, ", "), map[bool]string{true: "has", false: "have"}[len(pkgs) == 1])
	return nil
}
