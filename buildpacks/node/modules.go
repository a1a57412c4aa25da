package node

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/distill-build/distill/buildpacks/node/berry"
	"github.com/distill-build/distill/internal/buildpack"
)

// configFiles are app files whose content changes what an install produces.
var configFiles = []string{".npmrc", ".yarnrc", ".yarnrc.yml", "pnpm-workspace.yaml", ".pnpmfile.cjs"}

// modulesKey identifies an install: tool and version, Node.js version, lock file, the install
// inputs of package.json and the package managers' project configuration.
func modulesKey(appDir string, pkg packageJSON, pm packageManager, nodeVersion, startedWorkspace string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "pm=%s@%s\nnode=%s\narch=%s\nworkspace=%s\n", pm.Kind, pm.Version, nodeVersion, targetArch(), startedWorkspace)
	h.Write(pkg.installInputs())
	for _, name := range append([]string{pm.Lock}, configFiles...) {
		if name == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(appDir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(h, "%s=%x\n", name, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// toolEnv is the environment of package manager commands and build scripts.
type toolEnv struct {
	base     []string
	set      map[string]string
	unset    map[string]bool
	nodeDir  string
	cacheDir string
}

func (e toolEnv) list(extra map[string]string) []string {
	set := map[string]string{}
	for k, v := range e.set {
		set[k] = v
	}
	for k, v := range extra {
		set[k] = v
	}
	env := buildpack.NewEnv(e.base)
	for k := range e.unset {
		delete(env, k)
	}
	for k, v := range set {
		env[k] = v
	}
	return env.List()
}

// newToolEnv prepares the environment: the chosen Node.js and package manager first on PATH,
// node-gyp pointed at Node's headers, the package managers' caches in the cache layer, and the
// npmrc binding (if any) as npm's user config and the git-credentials and netrc bindings' paths
// (creds, from buildpack.CredentialEnv) for git dependencies, all read in place and never copied.
func newToolEnv(pm packageManager, nodeLayer, pmLayer, cacheDir, npmrc string, creds []string) toolEnv {
	base := append(os.Environ(), creds...)
	path := os.Getenv("PATH")
	set := map[string]string{
		"PATH":                       filepath.Join(nodeLayer, "bin") + ":" + filepath.Join(pmLayer, "bin") + ":" + path,
		"npm_config_cache":           filepath.Join(cacheDir, "npm"),
		"npm_config_update_notifier": "false",
		"npm_config_fund":            "false",
		"npm_config_audit":           "false",
		"npm_config_progress":        "false",
		"CI":                         "true",
	}
	if npmrc != "" {
		set["npm_config_userconfig"] = npmrc
	}
	for k, v := range targetInstallEnv() {
		set[k] = v
	}
	// node-gyp builds native modules against the chosen Node's headers. npm (10+) warns about
	// npm_config_nodedir as an unknown setting and plans to reject it, so under npm node-gyp gets
	// it through its own npm_package_config_node_gyp_ prefix.
	if pm.Kind == PMNpm {
		set["npm_package_config_node_gyp_nodedir"] = nodeLayer
	} else {
		set["npm_config_nodedir"] = nodeLayer
	}
	switch pm.Kind {
	case PMYarn:
		set["YARN_CACHE_FOLDER"] = filepath.Join(cacheDir, "yarn")
	case PMBerry:
		set["YARN_CACHE_FOLDER"] = filepath.Join(cacheDir, "yarn-berry")
		set["YARN_GLOBAL_FOLDER"] = filepath.Join(cacheDir, "yarn-berry-global")
		set["YARN_ENABLE_GLOBAL_CACHE"] = "false"
		set["YARN_ENABLE_TELEMETRY"] = "0"
		set["YARN_ENABLE_PROGRESS_BARS"] = "false"
		set["YARN_ENABLE_MIRROR"] = "false"
		if pm.ZipCache != "" {
			// Plug'n'Play runs from the zip cache: it lives in the launch layer, filled from
			// the mirror in the cache layer.
			set["YARN_CACHE_FOLDER"] = pm.ZipCache
			set["YARN_ENABLE_MIRROR"] = "true"
		}
		if pm.YarnPath == "" {
			set["YARN_IGNORE_PATH"] = "1"
		}
		if r := os.Getenv("npm_config_registry"); r != "" && os.Getenv("YARN_NPM_REGISTRY_SERVER") == "" {
			set["YARN_NPM_REGISTRY_SERVER"] = r
		}
	case PMPnpm:
		set["npm_config_store_dir"] = filepath.Join(cacheDir, "pnpm-store")
		set["npm_config_package_import_method"] = "copy"
	}
	return toolEnv{base: base, set: set, unset: map[string]bool{}, nodeDir: nodeLayer, cacheDir: cacheDir}
}

// installCommand is the command that installs the dependencies; prodOnly leaves dev dependencies out.
func installCommand(pm packageManager, prodOnly bool) []string {
	switch pm.Kind {
	case PMYarn:
		args := []string{"install", "--non-interactive", "--production=" + fmt.Sprint(prodOnly)}
		if pm.Lock != "" {
			args = append(args, "--frozen-lockfile")
		}
		return args
	case PMBerry:
		// Yarn Berry has no production-only install: install everything, prune afterwards.
		if pm.Lock != "" {
			return []string{"install", "--immutable"}
		}
		return []string{"install"}
	case PMPnpm:
		args := []string{"install", "--config.confirmModulesPurge=false"}
		if prodOnly {
			args = append(args, "--prod")
		} else {
			args = append(args, "--prod=false")
		}
		if pm.Lock != "" {
			args = append(args, "--frozen-lockfile")
		} else {
			args = append(args, "--no-frozen-lockfile")
		}
		return args
	}
	omit := "--include=dev"
	if prodOnly {
		omit = "--omit=dev"
	}
	if pm.Lock != "" {
		return []string{"ci", omit}
	}
	return []string{"install", omit, "--no-package-lock"}
}

// pruneCommand removes dev dependencies from an installed tree without running any lifecycle
// script: the scripts ran on the full install, and after the prune their tools may be gone (pnpm
// prune re-runs the root's prepare otherwise). pruneEnv holds what the command needs besides.
func pruneCommand(pm packageManager) (args []string, pruneEnv map[string]string) {
	switch pm.Kind {
	case PMYarn:
		args := []string{"install", "--non-interactive", "--production=true", "--offline", "--ignore-scripts"}
		if pm.Lock != "" {
			args = append(args, "--frozen-lockfile")
		}
		return args, nil
	case PMBerry:
		p := berry.ProductionPrune(pm.Berry, pm.Version)
		return p.Args, p.Env
	case PMPnpm:
		return []string{"prune", "--prod", "--config.confirmModulesPurge=false", "--config.ignore-scripts=true"}, map[string]string{"npm_config_ignore_scripts": "true"}
	}
	return []string{"prune", "--omit=dev", "--ignore-scripts"}, nil
}

// runScriptCommand runs a package.json script.
func runScriptCommand(pm packageManager, script string) []string {
	return []string{"run", script}
}

// runTool runs a command in dir, streaming its output to w; a failure carries the output's tail.
func runTool(w io.Writer, dir string, env []string, argv []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	tail := &tailBuffer{max: 6000}
	out := io.MultiWriter(w, tail)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%v:\n%s", err, strings.TrimRight(tail.String(), "\n"))
	}
	return nil
}

type tailBuffer struct {
	bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n, _ := t.Buffer.Write(p)
	if t.Len() > 2*t.max {
		b := append([]byte(nil), t.Bytes()[t.Len()-t.max:]...)
		t.Reset()
		t.Buffer.Write(b)
	}
	return n, nil
}

func (t *tailBuffer) String() string {
	s := t.Buffer.String()
	if len(s) > t.max {
		s = "…" + s[len(s)-t.max:]
	}
	return s
}

// moveTree moves src to dst (rename, else copy and remove: layers may be another mount).
func moveTree(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	if err := copyTree(src, dst); err != nil {
		return err
	}
	return os.RemoveAll(src)
}

// copyTree copies src to dst preserving symlinks and modes.
func copyTree(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := exec.Command("cp", "-a", src, dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cp -a %s %s: %v: %s", src, dst, err, out)
	}
	return nil
}

// linkModules points <app>/node_modules at target (replacing a link or directory there).
func linkModules(appDir, target string) error {
	link := filepath.Join(appDir, "node_modules")
	if err := os.RemoveAll(link); err != nil {
		return err
	}
	return os.Symlink(target, link)
}

func copyMap(m map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func withoutVar(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != name {
			out = append(out, kv)
		}
	}
	return out
}
