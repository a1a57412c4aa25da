package workspace

import "strings"

// Delegation is a root script that runs a workspace's script through the package manager:
// `npm start -w apps/web`, `npm run dev --workspace=@x/web`, `yarn workspace @x/web start`,
// `pnpm --filter @x/web start`. The image has no package manager, so the build runs the
// workspace's script itself.
type Delegation struct {
	Workspace string // as the command names it: package name or directory
	Script    string
}

// Delegated reads a command line (split into words) as such a delegation.
func Delegated(argv []string) (Delegation, bool) {
	if len(argv) < 2 {
		return Delegation{}, false
	}
	switch argv[0] {
	case "npm", "pnpm":
		return flagDelegation(argv[1:], map[string]bool{"-w": true, "--workspace": true, "--filter": true, "-F": true})
	case "yarn":
		if argv[1] == "workspace" && len(argv) >= 4 {
			script := argv[3]
			if script == "run" && len(argv) >= 5 {
				script = argv[4]
			}
			return Delegation{Workspace: argv[2], Script: script}, true
		}
	}
	return Delegation{}, false
}

// flagDelegation reads `[flags] (start | run[-script] <script>)` with one workspace flag.
func flagDelegation(args []string, wsFlags map[string]bool) (Delegation, bool) {
	var d Delegation
	var words []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		switch {
		case wsFlags[name] && hasValue:
			d.Workspace = value
		case wsFlags[a] && i+1 < len(args):
			d.Workspace = args[i+1]
			i++
		case strings.HasPrefix(a, "-"):
			return Delegation{}, false // another option: not a plain delegation
		default:
			words = append(words, a)
		}
	}
	switch {
	case d.Workspace == "" || len(words) == 0:
		return Delegation{}, false
	case len(words) == 1 && words[0] == "start":
		d.Script = "start"
	case len(words) == 2 && (words[0] == "run" || words[0] == "run-script"):
		d.Script = words[1]
	default:
		return Delegation{}, false
	}
	return d, true
}
