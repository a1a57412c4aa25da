package platform

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/distill-build/distill/internal/lifecycle"
)

// bindingName is what the CNB bindings extension (and the Kubernetes service
// binding spec) allows as a binding's directory name.
var bindingName = regexp.MustCompile(`^[a-z0-9\-.]{1,253}$`)

// readBindings reads the service bindings the user passed with --binding:
// each path is one binding (a directory with a `type` file; its name is the
// directory's) or a directory of bindings, as SERVICE_BINDING_ROOT is. The
// files are read into memory and written to <platform>/bindings/<name> for
// the build only: nothing of them is copied into a layer.
func readBindings(paths []string) ([]lifecycle.Binding, error) {
	var out []lifecycle.Binding
	seen := map[string]string{}
	for _, p := range paths {
		dirs, err := bindingDirs(p)
		if err != nil {
			return nil, err
		}
		for _, d := range dirs {
			b, err := readBinding(d)
			if err != nil {
				return nil, err
			}
			if prev, ok := seen[b.Name]; ok {
				return nil, fmt.Errorf("--binding: %s and %s are both bindings named %q; rename one directory", prev, d, b.Name)
			}
			seen[b.Name] = d
			out = append(out, b)
		}
	}
	return out, nil
}

// bindingDirs is p itself when it holds a `type` file, else its
// subdirectories that do.
func bindingDirs(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("--binding %s: %w", p, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("--binding %s is not a directory: pass a binding directory (with a type file) or a directory of them", p)
	}
	if isFile(filepath.Join(p, "type")) {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("--binding %s: %w", p, err)
	}
	var dirs []string
	for _, e := range entries {
		d := filepath.Join(p, e.Name())
		if !strings.HasPrefix(e.Name(), ".") && isDir(d) && isFile(filepath.Join(d, "type")) {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("--binding %s holds no type file and no binding directories with one; write the binding's type (npmrc, pip, netrc, git-credentials, ca-certificates, ...) to %s", p, filepath.Join(p, "type"))
	}
	return dirs, nil
}

// readBinding reads one binding directory: its type and every file beside it
// (symbolic links followed, as in a Kubernetes secret volume; directories,
// such as such a volume's ..data, skipped).
func readBinding(dir string) (lifecycle.Binding, error) {
	name := filepath.Base(dir)
	if !bindingName.MatchString(name) {
		return lifecycle.Binding{}, fmt.Errorf("--binding %s: binding names are lower-case letters, digits, '-' and '.' (the CNB bindings spec); rename the directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return lifecycle.Binding{}, fmt.Errorf("--binding %s: %w", dir, err)
	}
	b := lifecycle.Binding{Name: name, Files: map[string][]byte{}}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), "..") || isDir(p) {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return lifecycle.Binding{}, fmt.Errorf("--binding %s: reading %s: %w", dir, e.Name(), err)
		}
		if e.Name() == "type" {
			b.Type = strings.TrimSpace(string(data))
			continue
		}
		b.Files[e.Name()] = data
	}
	if b.Type == "" {
		return lifecycle.Binding{}, fmt.Errorf("--binding %s: the type file is empty; write the binding's type to it", dir)
	}
	return b, nil
}

// bindingNames lists bindings' names, sorted, for the build log.
func bindingNames(bs []lifecycle.Binding) []string {
	var names []string
	for _, b := range bs {
		names = append(names, b.Name+" ("+b.Type+")")
	}
	sort.Strings(names)
	return names
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
