package lifecycle

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/bmatcuk/doublestar/v4"
)

// Project is what distill reads of project.toml (project descriptor 0.1 and 0.2).
type Project struct {
	Include []string
	Exclude []string
	Env     map[string]string
	// MaxSize is distill's size budget for the image ([io.distill.build]
	// max-size, e.g. "50MB"), "" for none.
	MaxSize string
}

type projectFile struct {
	Build struct { // schema 0.1
		Include []string   `toml:"include"`
		Exclude []string   `toml:"exclude"`
		Env     []envEntry `toml:"env"`
	} `toml:"build"`
	IO struct { // schema 0.2
		Buildpacks struct {
			Include []string `toml:"include"`
			Exclude []string `toml:"exclude"`
			Build   struct {
				Env []envEntry `toml:"env"`
			} `toml:"build"`
		} `toml:"buildpacks"`
		Distill struct {
			Build struct {
				MaxSize string `toml:"max-size"`
			} `toml:"build"`
		} `toml:"distill"`
	} `toml:"io"`
}

type envEntry struct {
	Name  string `toml:"name"`
	Value string `toml:"value"`
}

// ReadProject reads <app>/project.toml (see ParseProject); a missing file is
// an empty project.
func ReadProject(appDir string) (*Project, error) {
	p := filepath.Join(appDir, "project.toml")
	data, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return &Project{Env: map[string]string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	return ParseProject(p, data)
}

// ParseProject parses the content of the project.toml at path. Errors name
// path: TOML syntax, include and exclude both set, a build env entry without
// a name, an include/exclude pattern that is not a valid glob.
func ParseProject(p string, data []byte) (*Project, error) {
	var f projectFile
	if _, err := toml.Decode(string(data), &f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	pr := &Project{Env: map[string]string{}, MaxSize: f.IO.Distill.Build.MaxSize}
	pr.Include = append(f.Build.Include, f.IO.Buildpacks.Include...)
	pr.Exclude = append(f.Build.Exclude, f.IO.Buildpacks.Exclude...)
	if len(pr.Include) > 0 && len(pr.Exclude) > 0 {
		return nil, fmt.Errorf("%s: set include or exclude, not both", p)
	}
	for _, e := range append(f.Build.Env, f.IO.Buildpacks.Build.Env...) {
		if err := CheckEnvName(e.Name); err != nil {
			return nil, fmt.Errorf("%s: build env: %w", p, err)
		}
		pr.Env[e.Name] = e.Value
	}
	for _, pat := range append(pr.Include, pr.Exclude...) {
		if !doublestar.ValidatePattern(strings.TrimPrefix(pat, "/")) {
			return nil, fmt.Errorf("%s: invalid include/exclude pattern %q", p, pat)
		}
	}
	return pr, nil
}

// CheckEnvName refuses a build env variable name that is empty, holds '=',
// a slash or a NUL, or is "." or "..": the platform writes each variable to
// the file /platform/env/<name>, which must stay inside that directory.
func CheckEnvName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("a variable has no name")
	case name == "." || name == ".." || strings.ContainsAny(name, "=/\x00"):
		return fmt.Errorf("%q is not a variable name (no '=', '/' or NUL, not . or ..)", name)
	}
	return nil
}

// matches reports whether rel (slash-separated) matches a gitignore-like
// pattern: a pattern without a slash matches at any depth, a match on a
// directory covers everything below it.
func matches(patterns []string, rel string) bool {
	for _, pat := range patterns {
		pat = strings.TrimSuffix(pat, "/")
		if strings.HasPrefix(pat, "/") {
			pat = pat[1:]
		} else if !strings.Contains(pat, "/") {
			pat = "**/" + pat
		}
		for p := rel; p != "." && p != ""; p = filepath.ToSlash(filepath.Dir(p)) {
			if ok, _ := doublestar.Match(pat, p); ok {
				return true
			}
		}
	}
	return false
}

// copyApp copies the app source into the workspace, honouring the project's
// include/exclude, and hands it to the CNB user. project.toml itself, VCS
// metadata and the absolute paths in exclude stay out.
func copyApp(src, dst string, pr *Project, exclude []string, uid, gid int) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return os.Chown(dst, uid, gid)
		}
		skip := rel == ".git" || rel == "project.toml" || slices.Contains(exclude, p) ||
			(len(pr.Exclude) > 0 && matches(pr.Exclude, rel)) ||
			(len(pr.Include) > 0 && !d.IsDir() && !matches(pr.Include, rel))
		if skip {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, filepath.FromSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()|0o700); err != nil {
				return err
			}
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, b, info.Mode().Perm()|0o600); err != nil {
				return err
			}
		default:
			return nil
		}
		return os.Lchown(target, uid, gid)
	})
}
