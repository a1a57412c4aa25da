// Package pyindex builds a small Python package index for tests, without PyPI: it fetches Debian
// trixie's python3-* packages with mmdebstrap (for amd64, and for arm64 too when asked),
// repacks each installed distribution they ship (dist-info or egg-info plus its modules under
// /usr/lib/python3/dist-packages) as a valid wheel (METADATA, WHEEL, RECORD; tagged
// cp313-cp313-linux_<machine> when it has extension modules, else py3-none-any, one file for
// every architecture), and serves a directory of wheels as a PEP 503 "simple" index on
// 127.0.0.1.
package pyindex

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// DebianPackages are the trixie packages whose distributions become wheels: Flask and its
// dependencies, gunicorn, requests and its dependencies, uvicorn + Starlette + AnyIO, and the
// setuptools and flit_core build backends (for building a pyproject.toml project).
var DebianPackages = []string{
	"python3-flask", "python3-werkzeug", "python3-jinja2", "python3-markupsafe", "python3-itsdangerous",
	"python3-click", "python3-blinker", "python3-gunicorn", "python3-packaging",
	"python3-requests", "python3-urllib3", "python3-idna", "python3-certifi", "python3-charset-normalizer",
	"python3-uvicorn", "python3-starlette", "python3-anyio", "python3-sniffio", "python3-h11",
	"python3-typing-extensions", "python3-setuptools", "flit",
}

// distPackages is where Debian installs Python distributions.
const distPackages = "usr/lib/python3/dist-packages"

// Wheel is one wheel file written by Build.
type Wheel struct {
	Name, Version string // as in METADATA
	File          string // base name: <name>-<version>-<tag>.whl
	SHA256        string // hex
}

// Build downloads packages (with their dependencies) of Debian trixie for arch (a Debian
// architecture: amd64, arm64) with mmdebstrap into a scratch directory and writes one wheel per
// Python distribution they ship into outDir; a pure wheel already there (from another arch's
// Build) is kept, and must be the same bytes. mirrors, when not empty, are mmdebstrap MIRROR
// arguments (else the host's apt sources).
func Build(ctx context.Context, outDir, arch string, packages []string, mirrors []string, logf func(string, ...any)) ([]Wheel, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	scratch, err := os.MkdirTemp("", "pyindex-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	debs := filepath.Join(scratch, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return nil, err
	}
	// The extract variant deletes the .debs when it is done: copy them out in the extract hook.
	args := []string{"--quiet", "--variant=extract", "--architectures=" + arch, "--include=" + strings.Join(packages, ","),
		"--extract-hook=cp \"$1\"/var/cache/apt/archives/*.deb " + debs + "/",
		"trixie", "/dev/null"}
	args = append(args, mirrors...)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "mmdebstrap", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mmdebstrap %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	logf("pyindex: fetched %d packages for %s in %.1fs", len(packages), arch, time.Since(start).Seconds())
	entries, err := os.ReadDir(debs)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	var wheels []Wheel
	for _, e := range entries {
		pkg, _, _ := strings.Cut(e.Name(), "_")
		if !strings.HasSuffix(e.Name(), ".deb") || !(strings.HasPrefix(pkg, "python3-") || contains(packages, pkg)) {
			continue
		}
		root := filepath.Join(scratch, "x", strings.TrimSuffix(e.Name(), ".deb"))
		if err := os.MkdirAll(root, 0o755); err != nil {
			return nil, err
		}
		if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", filepath.Join(debs, e.Name()), root).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("dpkg-deb -x %s: %v\n%s", e.Name(), err, out)
		}
		ws, err := WheelsFromTree(root, outDir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		wheels = append(wheels, ws...)
	}
	sort.Slice(wheels, func(i, j int) bool { return wheels[i].File < wheels[j].File })
	return wheels, nil
}

// dist is one installed distribution found in a package's dist-packages.
type dist struct {
	metaDir  string // dist-info or egg-info directory (or egg-info file), relative to dist-packages
	egg      bool
	name     string
	version  string
	metadata []byte // METADATA (for egg-info: PKG-INFO with Requires-Dist added)
	topLevel []string
	files    []string // relative to dist-packages
}

// WheelsFromTree repacks every distribution under root/usr/lib/python3/dist-packages (the
// contents of one Debian package) into wheels in outDir.
func WheelsFromTree(root, outDir string) ([]Wheel, error) {
	dp := filepath.Join(root, distPackages)
	entries, err := os.ReadDir(dp)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var dists []*dist
	var others []string // top-level entries that are not metadata
	for _, e := range entries {
		n := e.Name()
		switch {
		case strings.HasSuffix(n, ".dist-info"):
			d := &dist{metaDir: n}
			if d.metadata, err = os.ReadFile(filepath.Join(dp, n, "METADATA")); err != nil {
				return nil, err
			}
			if tl, err := os.ReadFile(filepath.Join(dp, n, "top_level.txt")); err == nil {
				d.topLevel = strings.Fields(string(tl))
			}
			dists = append(dists, d)
		case strings.HasSuffix(n, ".egg-info"):
			d := &dist{metaDir: n, egg: true}
			if d.metadata, err = eggMetadata(filepath.Join(dp, n)); err != nil {
				return nil, err
			}
			if tl, err := os.ReadFile(filepath.Join(dp, n, "top_level.txt")); err == nil {
				d.topLevel = strings.Fields(string(tl))
			}
			dists = append(dists, d)
		case n == "__pycache__":
		default:
			others = append(others, n)
		}
	}
	for _, d := range dists {
		d.name, d.version = header(d.metadata, "Name"), header(d.metadata, "Version")
		if d.name == "" || d.version == "" {
			return nil, fmt.Errorf("%s: METADATA lacks Name or Version", d.metaDir)
		}
	}
	// Assign each top-level module or package to a distribution.
	for _, o := range others {
		owner := ownerOf(o, dists)
		if owner == nil {
			continue
		}
		err := filepath.WalkDir(filepath.Join(dp, o), func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if de.IsDir() {
				if de.Name() == "__pycache__" {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(p, ".pyc") {
				return nil
			}
			rel, _ := filepath.Rel(dp, p)
			owner.files = append(owner.files, filepath.ToSlash(rel))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var out []Wheel
	for _, d := range dists {
		w, err := writeWheel(dp, root, d, outDir)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// ownerOf picks the distribution a top-level entry (module.py, package dir, ext.so) belongs to:
// the one whose top_level.txt names it, else the only one, else the one whose name matches.
func ownerOf(entry string, dists []*dist) *dist {
	mod := entry
	if i := strings.Index(mod, "."); i > 0 {
		mod = mod[:i]
	}
	for _, d := range dists {
		for _, t := range d.topLevel {
			if t == mod {
				return d
			}
		}
	}
	if len(dists) == 1 {
		return dists[0]
	}
	for _, d := range dists {
		if Normalize(d.name) == Normalize(mod) {
			return d
		}
	}
	return nil
}

// eggMetadata turns an egg-info (directory or single PKG-INFO file) into wheel METADATA:
// PKG-INFO with requires.txt as Requires-Dist / Provides-Extra headers.
func eggMetadata(p string) ([]byte, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return os.ReadFile(p)
	}
	pkgInfo, err := os.ReadFile(filepath.Join(p, "PKG-INFO"))
	if err != nil {
		return nil, err
	}
	reqs, err := os.ReadFile(filepath.Join(p, "requires.txt"))
	if os.IsNotExist(err) {
		return pkgInfo, nil
	}
	if err != nil {
		return nil, err
	}
	var extra []string
	section, marker := "", ""
	sc := bufio.NewScanner(bytes.NewReader(reqs))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section, marker, _ = strings.Cut(line[1:len(line)-1], ":")
			if section != "" {
				extra = append(extra, "Provides-Extra: "+section)
			}
			continue
		}
		var conds []string
		if marker != "" {
			conds = append(conds, "("+marker+")")
		}
		if section != "" {
			conds = append(conds, `extra == "`+section+`"`)
		}
		req := "Requires-Dist: " + line
		if len(conds) > 0 {
			req += "; " + strings.Join(conds, " and ")
		}
		extra = append(extra, req)
	}
	// Headers end at the first blank line.
	head, body, hasBody := bytes.Cut(pkgInfo, []byte("\n\n"))
	var b bytes.Buffer
	b.Write(bytes.TrimRight(head, "\n"))
	b.WriteByte('\n')
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	if hasBody {
		b.WriteByte('\n')
		b.Write(body)
	}
	return b.Bytes(), nil
}

// header returns the first value of an email-style header.
func header(meta []byte, name string) string {
	for _, line := range strings.Split(string(meta), "\n") {
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

var normRE = regexp.MustCompile(`[-_.]+`)

// Normalize is the PEP 503 project name normalisation.
func Normalize(name string) string { return strings.ToLower(normRE.ReplaceAllString(name, "-")) }

// wheelName escapes a distribution name or version for a wheel file name.
func wheelName(s string) string { return regexp.MustCompile(`[^\w\d.]+`).ReplaceAllString(s, "_") }

var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// wheelMachine is the machine name of wheel platform tags for an ELF machine.
var wheelMachine = map[elf.Machine]string{elf.EM_X86_64: "x86_64", elf.EM_AARCH64: "aarch64"}

// wheelTag is the tag of d's wheel: py3-none-any for pure Python, else
// cp313-cp313-linux_<machine> for the machine of its extension modules (dp: its
// dist-packages; root: the extracted package, for symlinks). Modules for a machine with no
// tag, or for two machines, are an error.
func wheelTag(dp, root string, d *dist) (tag string, purelib bool, err error) {
	tag, purelib = "py3-none-any", true
	for _, f := range d.files {
		if !strings.HasSuffix(f, ".so") {
			continue
		}
		data, err := readFollowing(filepath.Join(dp, filepath.FromSlash(f)), root)
		if err != nil || data == nil {
			return "", false, fmt.Errorf("reading %s: %v", f, err)
		}
		ef, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", f, err)
		}
		m, ok := wheelMachine[ef.Machine]
		t := "cp313-cp313-linux_" + m
		if !ok || (!purelib && t != tag) {
			return "", false, fmt.Errorf("%s: %s extension module %s, with %s", d.name, ef.Machine, f, tag)
		}
		tag, purelib = t, false
	}
	return tag, purelib, nil
}

func writeWheel(dp, root string, d *dist, outDir string) (Wheel, error) {
	tag, purelib, err := wheelTag(dp, root, d)
	if err != nil {
		return Wheel{}, err
	}
	distName := wheelName(d.name)
	infoDir := distName + "-" + wheelName(d.version) + ".dist-info"
	type entry struct {
		name string
		data []byte
	}
	var files []entry
	for _, f := range d.files {
		data, err := readFollowing(filepath.Join(dp, filepath.FromSlash(f)), root)
		if err != nil {
			return Wheel{}, err
		}
		if data == nil {
			continue // dangling symlink outside the package
		}
		files = append(files, entry{f, data})
	}
	files = append(files, entry{infoDir + "/METADATA", d.metadata})
	if !d.egg {
		for _, extra := range []string{"entry_points.txt", "top_level.txt", "LICENSE", "LICENSE.txt"} {
			if data, err := os.ReadFile(filepath.Join(dp, d.metaDir, extra)); err == nil {
				files = append(files, entry{infoDir + "/" + extra, data})
			}
		}
	} else if data, err := os.ReadFile(filepath.Join(dp, d.metaDir, "entry_points.txt")); err == nil {
		files = append(files, entry{infoDir + "/entry_points.txt", data})
	}
	files = append(files, entry{infoDir + "/WHEEL", []byte(fmt.Sprintf(
		"Wheel-Version: 1.0\nGenerator: distill-pyindex\nRoot-Is-Purelib: %v\nTag: %s\n", purelib, tag))})
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })

	var record strings.Builder
	for _, f := range files {
		sum := sha256.Sum256(f.data)
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.data))
	}
	fmt.Fprintf(&record, "%s/RECORD,,\n", infoDir)
	files = append(files, entry{infoDir + "/RECORD", []byte(record.String())})

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: epoch}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return Wheel{}, err
		}
		if _, err := w.Write(f.data); err != nil {
			return Wheel{}, err
		}
	}
	if err := zw.Close(); err != nil {
		return Wheel{}, err
	}
	file := fmt.Sprintf("%s-%s-%s.whl", distName, wheelName(d.version), tag)
	if have, err := os.ReadFile(filepath.Join(outDir, file)); err == nil && !bytes.Equal(have, buf.Bytes()) {
		return Wheel{}, fmt.Errorf("%s: another architecture's package made other bytes under this name", file)
	}
	if err := os.WriteFile(filepath.Join(outDir, file), buf.Bytes(), 0o644); err != nil {
		return Wheel{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	return Wheel{Name: d.name, Version: d.version, File: file, SHA256: hex.EncodeToString(sum[:])}, nil
}

// readFollowing reads a file, following symlinks inside the extracted package root (absolute
// targets are taken relative to root). A link that leads nowhere gives nil, nil.
func readFollowing(p, root string) ([]byte, error) {
	for i := 0; i < 10; i++ {
		st, err := os.Lstat(p)
		if os.IsNotExist(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			return os.ReadFile(p)
		}
		target, err := os.Readlink(p)
		if err != nil {
			return nil, err
		}
		if path.IsAbs(target) {
			p = filepath.Join(root, target)
		} else {
			p = filepath.Join(filepath.Dir(p), target)
		}
	}
	return nil, fmt.Errorf("%s: too many symlinks", p)
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
