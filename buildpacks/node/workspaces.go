package node

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/distill-build/distill/buildpacks/node/berry"
	"github.com/distill-build/distill/buildpacks/node/workspace"
)

// workspaces is a monorepo build's view of its workspaces: all of them and the one that starts.
type workspaces struct {
	all    []workspace.Workspace
	choice workspace.Choice
}

// dir is the started workspace's directory ("" without one).
func (w workspaces) dir(appDir string) string {
	if !w.choice.Found {
		return ""
	}
	return filepath.Join(appDir, filepath.FromSlash(w.choice.Workspace.Dir))
}

// chooseWorkspace reads the root's workspaces (package.json "workspaces", pnpm-workspace.yaml)
// and decides which one the image starts, saying why.
func (b *Builder) chooseWorkspace(r *buildRun) error {
	if !r.hasPkg {
		return nil
	}
	patterns, err := workspace.Patterns(r.appDir, r.pkg.raw["workspaces"])
	if err != nil || len(patterns) == 0 {
		return err
	}
	if r.ws.all, err = workspace.Find(r.appDir, patterns); err != nil || len(r.ws.all) == 0 {
		return err
	}
	rootCmds, err := startCommands(r.appDir, r.pkg)
	if err != nil {
		return err
	}
	var root workspace.Root
	if root.Starts = len(rootCmds) > 0 && (rootCmds[0].Source == "Procfile" || rootCmds[0].Source == "package.json scripts.start"); root.Starts {
		if root.Entry, root.Command, err = r.entryFile(rootCmds[0]); err != nil {
			return err
		}
	}
	setting, _ := b.config.Lookup(workspace.SettingName)
	if r.ws.choice, err = workspace.Choose(r.ws.all, setting, root); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(r.appDir, "package.json"), err)
	}
	b.Logger.Bodyf("Workspaces: %s", workspace.Describe(r.ws.all))
	switch c := r.ws.choice; {
	case c.Starts:
		b.Logger.Bodyf("Starting workspace %s: %s", c.Workspace.Label(), c.Why)
	case c.Found:
		b.Logger.Bodyf("The app is workspace %s: %s", c.Workspace.Label(), c.Why)
	default:
		b.Logger.Bodyf("No workspace singled out (%s): node_modules keeps every workspace's production dependencies", c.Why)
	}
	return nil
}

// entryFile is the file (relative to the app) a start command runs with node ("" when it runs
// none), and its words when it is one simple command.
func (r *buildRun) entryFile(c startCommand) (string, []string, error) {
	argvs := [][]string{c.Argv}
	if c.Argv == nil {
		parsed, err := parseScript(c.Source, c.Command)
		if err != nil {
			return "", nil, err
		}
		argvs = wordsOf(parsed)
		if simple, ok := parsed.Argv(); ok {
			argvs = [][]string{simple}
		}
	}
	var words []string
	if len(argvs) == 1 {
		words = argvs[0]
	}
	for _, argv := range argvs {
		if f := nodeEntry(argv); f != "" {
			return f, words, nil
		}
	}
	return "", words, nil
}

// nodeEntry is the script of a `node [options] script` command line ("" for other commands).
func nodeEntry(argv []string) string {
	if len(argv) == 0 || (argv[0] != "node" && argv[0] != "nodejs") {
		return ""
	}
	withValue := map[string]bool{"-r": true, "--require": true, "--import": true, "--loader": true, "--experimental-loader": true, "--env-file": true}
	for i := 1; i < len(argv); i++ {
		switch a := argv[i]; {
		case withValue[a]:
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return filepath.ToSlash(filepath.Clean(a))
		}
	}
	return ""
}

// startCommands are the commands the image runs: the root's, or the started workspace's, run in
// its directory.
func (r *buildRun) startCommands() ([]startCommand, error) {
	if !r.ws.choice.Starts {
		cmds, err := startCommands(r.appDir, r.pkg)
		for i := range cmds {
			cmds[i].Dir = r.appDir
		}
		return cmds, err
	}
	dir := r.ws.dir(r.appDir)
	pkg, _, err := readPackageJSON(dir)
	if err != nil {
		return nil, err
	}
	cmds, err := startCommands(dir, pkg)
	if script := r.ws.choice.Script; script != "start" && script != "" {
		cmds = []startCommand{{Type: "web", Command: strings.TrimSpace(pkg.Scripts[script]), Source: "package.json scripts." + script}}
	}
	for i := range cmds {
		cmds[i].Dir = dir
		cmds[i].Source = r.ws.choice.Workspace.Dir + " " + cmds[i].Source
	}
	return cmds, err
}

// hasDevDependencies reports whether the root or any workspace declares devDependencies.
func (r *buildRun) hasDevDependencies() bool {
	if len(r.pkg.DevDependencies) > 0 {
		return true
	}
	for _, w := range r.ws.all {
		if len(w.DevDependencies) > 0 {
			return true
		}
	}
	return false
}

// pnpFlags are the node options that load a Plug'n'Play install.
func (r *buildRun) pnpFlags() []string {
	return berry.PnP{AppDir: r.appDir}.NodeFlags()
}

// pnpBins asks Yarn where the executables the start commands run live in a Plug'n'Play install
// (yarn bin NAME: a path inside the package's zip, which node runs through .pnp.cjs).
func (b *Builder) pnpBins(r *buildRun) map[string]string {
	dir := r.appDir
	if r.ws.choice.Starts {
		dir = r.ws.dir(r.appDir)
	}
	bins := map[string]string{}
	for _, name := range r.tools {
		var out strings.Builder
		argv := append(append([]string{}, r.pm.Argv...), "bin", name)
		if err := runTool(&out, dir, r.env.list(nil), argv); err != nil {
			b.Logger.Bodyf("Plug'n'Play: %s is no package's executable (yarn bin %s: %s)", name, name, lastLine(err.Error()))
			continue
		}
		if p := lastLine(out.String()); filepath.IsAbs(p) {
			bins[name] = p
			b.Logger.Bodyf("Plug'n'Play: %s is %s", name, p)
		}
	}
	return bins
}

// workspaceDirs are the directories of the root and every workspace, relative to the app.
func (r *buildRun) workspaceDirs() []string {
	dirs := []string{"."}
	for _, w := range r.ws.all {
		dirs = append(dirs, w.Dir)
	}
	return dirs
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
