package workspace

import (
	"fmt"
	"strings"
)

// SettingName is the build setting that names the workspace the image starts.
const SettingName = "BP_NODE_WORKSPACE"

// Choice is the workspace the image starts, and why.
type Choice struct {
	Workspace Workspace
	Found     bool   // false: the root package is the app and no workspace is singled out
	Starts    bool   // the workspace's own script is the default process
	Script    string // that script: "start", or the one a root delegation names
	Why       string // for the build log
}

// Root is how the root package starts the app.
type Root struct {
	Starts  bool     // a Procfile or scripts.start
	Entry   string   // the file its command runs with node, relative to the root ("" for none)
	Command []string // its command line split into words, when it is one simple command
}

// Choose decides which workspace the image starts, as a user of npm, Yarn or pnpm workspaces
// expects:
//  1. setting (BP_NODE_WORKSPACE), a workspace's package name or directory, wins;
//  2. when the root starts the app (a Procfile or scripts.start): a command that runs a
//     workspace's script through the package manager (npm start -w apps/web) starts that script;
//     else the workspace holding the file the command runs is the one it needs;
//  3. otherwise the one workspace with a start script starts; several of them is an error that
//     names them and the setting.
func Choose(all []Workspace, setting string, root Root) (Choice, error) {
	if setting = strings.TrimSpace(setting); setting != "" {
		w, ok := Lookup(all, setting)
		if !ok {
			return Choice{}, fmt.Errorf("%s=%s names no workspace of package.json \"workspaces\" (workspaces: %s): set it to a package name or directory", SettingName, setting, Describe(all))
		}
		return Choice{Workspace: w, Found: true, Starts: true, Script: "start", Why: SettingName + "=" + setting}, nil
	}
	if root.Starts {
		return chooseForRoot(all, root)
	}
	var starters []Workspace
	for _, w := range all {
		if strings.TrimSpace(w.Scripts["start"]) != "" {
			starters = append(starters, w)
		}
	}
	switch len(starters) {
	case 0:
		return Choice{Why: "no workspace has a start script"}, nil
	case 1:
		return Choice{Workspace: starters[0], Found: true, Starts: true, Script: "start", Why: "the only workspace with a start script, and the root has none"}, nil
	}
	return Choice{}, fmt.Errorf("package.json has no start script and several workspaces have one (%s): set %s to the one the image starts, or add a start script to the root package.json", Describe(starters), SettingName)
}

// chooseForRoot is the workspace a root start command needs.
func chooseForRoot(all []Workspace, root Root) (Choice, error) {
	if d, ok := Delegated(root.Command); ok {
		w, found := Lookup(all, d.Workspace)
		if !found {
			return Choice{}, fmt.Errorf("the start command %q names the workspace %q, which package.json \"workspaces\" does not list (workspaces: %s)", strings.Join(root.Command, " "), d.Workspace, Describe(all))
		}
		if strings.TrimSpace(w.Scripts[d.Script]) == "" {
			return Choice{}, fmt.Errorf("the start command %q runs the script %q, which %s/package.json does not define", strings.Join(root.Command, " "), d.Script, w.Dir)
		}
		why := fmt.Sprintf("the root start command %q runs its %s script (the image has no package manager: it runs the script itself)", strings.Join(root.Command, " "), d.Script)
		return Choice{Workspace: w, Found: true, Starts: true, Script: d.Script, Why: why}, nil
	}
	if root.Entry == "" {
		return Choice{Why: "the root package starts the app"}, nil
	}
	if w, ok := Containing(all, root.Entry); ok {
		return Choice{Workspace: w, Found: true, Why: "the root start command runs " + root.Entry}, nil
	}
	return Choice{Why: "the root start command runs " + root.Entry + ", in no workspace"}, nil
}
