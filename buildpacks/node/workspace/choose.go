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
	Starts    bool   // the workspace's own start command is the default process
	Why       string // for the build log
}

// Choose decides which workspace the image starts, as a user of npm, Yarn or pnpm workspaces
// expects:
//  1. setting (BP_NODE_WORKSPACE), a workspace's package name or directory, wins;
//  2. when the root starts the app (a Procfile or scripts.start), the workspace holding the file
//     the command runs (entry, relative to the root; "" when it runs none) is the one it needs;
//  3. otherwise the one workspace with a start script starts; several of them is an error that
//     names them and the setting.
func Choose(all []Workspace, setting string, rootStarts bool, entry string) (Choice, error) {
	if setting = strings.TrimSpace(setting); setting != "" {
		w, ok := Lookup(all, setting)
		if !ok {
			return Choice{}, fmt.Errorf("%s=%s names no workspace of package.json \"workspaces\" (workspaces: %s): set it to a package name or directory", SettingName, setting, Describe(all))
		}
		return Choice{Workspace: w, Found: true, Starts: true, Why: SettingName + "=" + setting}, nil
	}
	if rootStarts {
		if entry == "" {
			return Choice{Why: "the root package starts the app"}, nil
		}
		if w, ok := Containing(all, entry); ok {
			return Choice{Workspace: w, Found: true, Why: "the root start command runs " + entry}, nil
		}
		return Choice{Why: "the root start command runs " + entry + ", in no workspace"}, nil
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
		return Choice{Workspace: starters[0], Found: true, Starts: true, Why: "the only workspace with a start script, and the root has none"}, nil
	}
	return Choice{}, fmt.Errorf("package.json has no start script and several workspaces have one (%s): set %s to the one the image starts, or add a start script to the root package.json", Describe(starters), SettingName)
}
