package buildpack

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Env is a process environment that layer env directories modify.
type Env map[string]string

// NewEnv parses "NAME=VALUE" pairs.
func NewEnv(pairs []string) Env {
	e := Env{}
	for _, kv := range pairs {
		if k, v, ok := strings.Cut(kv, "="); ok {
			e[k] = v
		}
	}
	return e
}

// List returns the environment as sorted "NAME=VALUE" pairs.
func (e Env) List() []string {
	out := make([]string, 0, len(e))
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Clone returns a copy of e.
func (e Env) Clone() Env {
	c := make(Env, len(e))
	for k, v := range e {
		c[k] = v
	}
	return c
}

// Phase selects which env directory of a layer applies besides env/.
type Phase string

const (
	PhaseBuild  Phase = "build"
	PhaseLaunch Phase = "launch"
)

// AddLayer applies one layer to e as the CNB spec says, using hostDir to read
// the layer and imageDir (its path as the process sees it) for the values:
// bin/ is prepended to PATH, lib/ to LD_LIBRARY_PATH (and LIBRARY_PATH when
// building), then env/ and env.<phase>/ are applied.
func (e Env) AddLayer(hostDir, imageDir string, phase Phase) error {
	if isDir(filepath.Join(hostDir, "bin")) {
		e.prepend("PATH", filepath.Join(imageDir, "bin"), ":")
	}
	if isDir(filepath.Join(hostDir, "lib")) {
		e.prepend("LD_LIBRARY_PATH", filepath.Join(imageDir, "lib"), ":")
		if phase == PhaseBuild {
			e.prepend("LIBRARY_PATH", filepath.Join(imageDir, "lib"), ":")
		}
	}
	for _, sub := range []string{"env", "env." + string(phase)} {
		if err := e.ApplyDir(filepath.Join(hostDir, sub)); err != nil {
			return err
		}
	}
	return nil
}

// ApplyDir applies the env files in dir: NAME or NAME.override replace,
// NAME.default sets when unset, NAME.prepend/NAME.append join with
// NAME.delim (no delimiter when absent). A missing dir is a no-op.
func (e Env) ApplyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("reading env dir %s: %w", dir, err)
	}
	for _, ent := range entries {
		if ent.IsDir() || strings.HasSuffix(ent.Name(), ".delim") {
			continue
		}
		p := filepath.Join(dir, ent.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		value := string(b)
		name, action, _ := strings.Cut(ent.Name(), ".")
		delim := ""
		if d, err := os.ReadFile(filepath.Join(dir, name+".delim")); err == nil {
			delim = string(d)
		}
		switch action {
		case "", "override":
			e[name] = value
		case "default":
			if _, ok := e[name]; !ok {
				e[name] = value
			}
		case "prepend":
			e.prepend(name, value, delim)
		case "append":
			if cur, ok := e[name]; ok && cur != "" {
				e[name] = cur + delim + value
			} else {
				e[name] = value
			}
		default:
			return fmt.Errorf("%s: unknown env file suffix %q (want override, default, prepend, append or delim)", p, action)
		}
	}
	return nil
}

func (e Env) prepend(name, value, delim string) {
	if cur, ok := e[name]; ok && cur != "" {
		e[name] = value + delim + cur
		return
	}
	e[name] = value
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
