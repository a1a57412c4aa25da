// Package stack turns declarative stack definitions (stacks/*.toml) into
// reproducible build and run images: Debian packages fetched with mmdebstrap,
// filtered per package, completed with what maintainer scripts would have
// generated (passwd/group, CA bundle, dpkg status records) and written as a
// single normalised OCI layer.
package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/bmatcuk/doublestar/v4"
)

// Variants understood by Build. "extract" unpacks packages without running
// maintainer scripts and allows per-package file selection; the others install
// a working system with dpkg (see mmdebstrap(1)).
var variants = map[string]bool{
	"extract": true, "essential": true, "apt": true, "minbase": true,
	"required": true, "buildd": true, "important": true, "standard": true,
}

// Definition is one stack image, as read from a stacks/*.toml file.
type Definition struct {
	// Image is the image reference the stack is known by, e.g. "distill/run:static".
	Image string `toml:"ref"`
	// Title goes to org.opencontainers.image.title.
	Title string `toml:"title"`
	// Suite is the Debian suite, e.g. "trixie".
	Suite string `toml:"suite"`
	// Variant is mmdebstrap's --variant.
	Variant string `toml:"variant"`
	// StackID goes to io.buildpacks.stack.id.
	StackID string `toml:"stack_id"`
	// StatusD writes /var/lib/dpkg/status.d/<pkg> records and
	// <pkg>.md5sums (extract variant).
	StatusD bool `toml:"status_d"`
	// TargetOf makes this stack (variant "extract") the target root of the
	// build image it names, defined in the same directory: the
	// target-specific packages buildpacks copy into launch layers, built for
	// the target's architecture when that is not the build image's and given
	// to buildpacks as DISTILL_TARGET_ROOT (internal/buildpack.TargetRoot).
	TargetOf string `toml:"target_of"`
	// Exclude drops paths (doublestar globs relative to /) from every package;
	// a matched directory is dropped with everything below it. For installing
	// variants they are also passed to dpkg as path-exclude.
	Exclude []string `toml:"exclude"`

	Distro   Distro            `toml:"distro"`
	User     User              `toml:"user"`
	Env      map[string]string `toml:"env"`
	Labels   map[string]string `toml:"labels"`
	Packages []Package         `toml:"packages"`
	CABundle *CABundle         `toml:"ca_bundle"`
	Dirs     []Dir             `toml:"dirs"`
	Symlinks []Symlink         `toml:"symlinks"`

	file string // where the definition came from, for errors
	raw  []byte
}

// Distro is the io.buildpacks.base.distro.* labels.
type Distro struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
}

// User is the CNB user: written to /etc/passwd and /etc/group, its home is
// created and owned by it, and it is the image's Config.User.
type User struct {
	Name  string `toml:"name"`
	UID   int    `toml:"uid"`
	GID   int    `toml:"gid"`
	Home  string `toml:"home"`
	Shell string `toml:"shell"`
}

// Package is one Debian package of the stack.
type Package struct {
	Name string `toml:"name"`
	// Keep selects the package's paths that go into the image (doublestar
	// globs; a matched directory brings everything below it). Absent: all of
	// them. Empty: none (the package is still recorded). Extract variant only.
	Keep []string `toml:"keep"`
	// Exclude drops paths of this package. Extract variant only.
	Exclude []string `toml:"exclude"`
	// DropDepends names dependencies deliberately left out of the image
	// (for example debconf, only used by maintainer scripts). With variant
	// "extract", Build fails when a dependency of a listed package is
	// neither listed nor dropped here.
	DropDepends []string `toml:"drop_depends"`

	keepAll bool
}

// CABundle generates a PEM bundle from the certificates of the
// ca-certificates package, as update-ca-certificates would.
type CABundle struct {
	Path  string `toml:"path"`
	Certs string `toml:"certs"`
}

// Dir is a directory created in the image (or whose mode/owner is forced).
type Dir struct {
	Path string `toml:"path"`
	Mode string `toml:"mode"` // octal, default 0755
	UID  int    `toml:"uid"`
	GID  int    `toml:"gid"`

	mode int64
}

// Symlink is a symbolic link created in the image.
type Symlink struct {
	Path   string `toml:"path"`
	Target string `toml:"target"`
}

// Load reads and validates one stack definition.
func Load(file string) (*Definition, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading stack definition: %w", err)
	}
	return parse(file, raw)
}

// LoadDir loads every *.toml in dir, sorted by file name.
func LoadDir(dir string) ([]*Definition, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no stack definitions (*.toml)", dir)
	}
	sort.Strings(files)
	defs := make([]*Definition, 0, len(files))
	refs := map[string]string{}
	for _, f := range files {
		d, err := Load(f)
		if err != nil {
			return nil, err
		}
		if other, ok := refs[d.Image]; ok {
			return nil, fmt.Errorf("%s: ref: %q is already defined in %s", f, d.Image, other)
		}
		refs[d.Image] = f
		defs = append(defs, d)
	}
	for _, d := range defs {
		if d.TargetOf != "" && find(defs, d.TargetOf) == nil {
			return nil, fmt.Errorf("%s: target_of: %q is not defined in %s", d.file, d.TargetOf, dir)
		}
	}
	return defs, nil
}

// find is the definition of defs whose ref is ref, nil when none is.
func find(defs []*Definition, ref string) *Definition {
	for _, d := range defs {
		if SameRef(d.Ref(), ref) {
			return d
		}
	}
	return nil
}

// Ref is the image reference, e.g. "distill/run:static".
func (d *Definition) Ref() string { return d.Image }

// File is the path the definition was loaded from.
func (d *Definition) File() string { return d.file }

// Digest identifies the definition's content ("sha256:…"), for callers that
// cache built images. The same definition built later may still differ when
// the archive has newer package versions.
func (d *Definition) Digest() string {
	h := sha256.New()
	h.Write([]byte("distill-stack/v3\x00"))
	if d.StatusD {
		h.Write([]byte("md5sums\x00")) // status.d records gained <pkg>.md5sums
	}
	h.Write(d.raw)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Extract reports whether packages are unpacked without maintainer scripts.
func (d *Definition) Extract() bool { return d.Variant == "extract" }

var (
	envKey  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	pkgName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	refRe   = regexp.MustCompile(`^[a-z0-9]+([._/-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$`)
	userRe  = regexp.MustCompile(`^[a-z_][a-z0-9_-]*$`)
)

func parse(file string, raw []byte) (*Definition, error) {
	d := &Definition{file: file, raw: raw}
	md, err := toml.Decode(string(raw), d)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("%s:%d: %s", file, perr.Position.Line, perr.Message)
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: %s: unknown field", file, und[0].String())
	}
	// "keep = []" decodes to an empty, non-nil slice: keep nothing.
	for i := range d.Packages {
		d.Packages[i].keepAll = d.Packages[i].Keep == nil
	}
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return d, nil
}

type fieldError struct {
	field string
	msg   string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func ferr(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// validate checks d field by field; the first fault is a *fieldError naming
// the field. It also fills each dir's parsed mode.
func (d *Definition) validate() error {
	for _, check := range []func() error{d.validateRequired, d.validateUser, d.validateEnv, d.validatePackages, d.validateFiles} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (d *Definition) validateRequired() error {
	switch {
	case d.Image == "":
		return ferr("ref", "required")
	case !refRe.MatchString(d.Image):
		return ferr("ref", "%q is not an image reference like distill/run:static", d.Image)
	case d.Suite == "":
		return ferr("suite", "required")
	case d.Variant == "":
		return ferr("variant", "required (extract, minbase, apt, ...)")
	case !variants[d.Variant]:
		return ferr("variant", "unknown variant %q", d.Variant)
	case d.StackID == "":
		return ferr("stack_id", "required")
	case d.Distro.Name == "":
		return ferr("distro.name", "required")
	case d.Distro.Version == "":
		return ferr("distro.version", "required")
	case len(d.Packages) == 0:
		return ferr("packages", "at least one package is required")
	}
	if d.TargetOf != "" && !refRe.MatchString(d.TargetOf) {
		return ferr("target_of", "%q is not an image reference like distill/build:latest", d.TargetOf)
	}
	if d.TargetOf != "" && !d.Extract() {
		return ferr("target_of", "needs variant \"extract\": a target root is built for other architectures without emulation")
	}
	if d.StatusD && !d.Extract() {
		return ferr("status_d", "only for variant \"extract\" (installing variants keep dpkg's own status)")
	}
	if err := checkGlobs("exclude", d.Exclude); err != nil {
		return err
	}
	return nil
}

func (d *Definition) validateUser() error {
	u := d.User
	switch {
	case u.Name == "":
		return ferr("user.name", "required")
	case !userRe.MatchString(u.Name) || u.Name == "root":
		return ferr("user.name", "%q is not a valid non-root user name", u.Name)
	case u.UID <= 0 || u.UID > 65534:
		return ferr("user.uid", "%d: must be in 1..65534", u.UID)
	case u.GID <= 0 || u.GID > 65534:
		return ferr("user.gid", "%d: must be in 1..65534", u.GID)
	case !path.IsAbs(u.Home) || path.Clean(u.Home) != u.Home || u.Home == "/":
		return ferr("user.home", "%q: must be a clean absolute path", u.Home)
	case u.Shell != "" && !path.IsAbs(u.Shell):
		return ferr("user.shell", "%q: must be an absolute path", u.Shell)
	}
	return nil
}

// validateEnv checks env (names, and the CNB ids against the user) and labels.
func (d *Definition) validateEnv() error {
	for _, k := range slices.Sorted(maps.Keys(d.Env)) {
		if !envKey.MatchString(k) {
			return ferr("env."+k, "not a valid variable name")
		}
	}
	for _, id := range []struct {
		name string
		want int
	}{{"CNB_USER_ID", d.User.UID}, {"CNB_GROUP_ID", d.User.GID}} {
		if v, ok := d.Env[id.name]; ok && v != strconv.Itoa(id.want) {
			return ferr("env."+id.name, "%q does not match the user (%d)", v, id.want)
		}
	}
	if v, ok := d.Env["CNB_STACK_ID"]; ok && v != d.StackID {
		return ferr("env.CNB_STACK_ID", "%q does not match stack_id %q", v, d.StackID)
	}
	for _, k := range slices.Sorted(maps.Keys(d.Labels)) {
		if k == "" {
			return ferr("labels", "empty label name")
		}
	}
	return nil
}

func (d *Definition) validatePackages() error {
	seen := map[string]bool{}
	for i, p := range d.Packages {
		f := fmt.Sprintf("packages[%d]", i)
		switch {
		case p.Name == "":
			return ferr(f+".name", "required")
		case !pkgName.MatchString(p.Name):
			return ferr(f+".name", "%q is not a Debian package name", p.Name)
		case seen[p.Name]:
			return ferr(f+".name", "%q listed twice", p.Name)
		}
		seen[p.Name] = true
		if !d.Extract() && (p.Keep != nil || p.Exclude != nil || p.DropDepends != nil) {
			return ferr(f+".keep", "per-package selection needs variant \"extract\"")
		}
		if err := checkGlobs(f+".keep", p.Keep); err != nil {
			return err
		}
		if err := checkGlobs(f+".exclude", p.Exclude); err != nil {
			return err
		}
		for j, n := range p.DropDepends {
			if !pkgName.MatchString(n) {
				return ferr(fmt.Sprintf("%s.drop_depends[%d]", f, j), "%q is not a Debian package name", n)
			}
		}
	}
	return nil
}

// validateFiles checks the CA bundle, dirs and symlinks.
func (d *Definition) validateFiles() error {
	if c := d.CABundle; c != nil {
		if err := checkRel("ca_bundle.path", c.Path); err != nil {
			return err
		}
		if c.Certs == "" {
			return ferr("ca_bundle.certs", "required")
		}
		if err := checkGlobs("ca_bundle.certs", []string{c.Certs}); err != nil {
			return err
		}
		if !slices.ContainsFunc(d.Packages, func(p Package) bool { return p.Name == "ca-certificates" }) {
			return ferr("ca_bundle", "needs the ca-certificates package in packages")
		}
	}
	for i := range d.Dirs {
		dir := &d.Dirs[i]
		f := fmt.Sprintf("dirs[%d]", i)
		if err := checkRel(f+".path", dir.Path); err != nil {
			return err
		}
		dir.mode = 0o755
		if dir.Mode != "" {
			m, err := strconv.ParseInt(dir.Mode, 8, 32)
			if err != nil || m < 0 || m > 0o7777 {
				return ferr(f+".mode", "%q is not an octal mode like \"1777\"", dir.Mode)
			}
			dir.mode = m
		}
		if dir.UID < 0 || dir.GID < 0 {
			return ferr(f+".uid", "owner must not be negative")
		}
	}
	for i, s := range d.Symlinks {
		f := fmt.Sprintf("symlinks[%d]", i)
		if err := checkRel(f+".path", s.Path); err != nil {
			return err
		}
		if s.Target == "" {
			return ferr(f+".target", "required")
		}
	}
	return nil
}

// checkRel wants a clean path relative to / ("etc/ssl/certs/x.crt").
func checkRel(field, p string) error {
	if p == "" {
		return ferr(field, "required")
	}
	if path.IsAbs(p) || path.Clean(p) != p || p == "." || strings.HasPrefix(p, "../") || p == ".." {
		return ferr(field, "%q: must be a clean path relative to / (no leading slash)", p)
	}
	return nil
}

func checkGlobs(field string, globs []string) error {
	for i, g := range globs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if strings.HasPrefix(g, "/") || strings.HasPrefix(g, "./") {
			return ferr(f, "%q: globs are relative to / (write %q)", g, strings.TrimLeft(g, "./"))
		}
		if g == "" || !doublestar.ValidatePattern(g) {
			return ferr(f, "%q is not a valid glob", g)
		}
	}
	return nil
}

// matchAny reports whether p, or one of its ancestors, matches one of globs.
func matchAny(globs []string, p string) bool {
	for _, g := range globs {
		for q := p; q != "." && q != ""; q = path.Dir(q) {
			if ok, _ := doublestar.Match(g, q); ok {
				return true
			}
			if !strings.Contains(q, "/") {
				break
			}
		}
	}
	return false
}
