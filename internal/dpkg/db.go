package dpkg

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Package is one installed package of a dpkg database.
type Package struct {
	Name, Version, Arch string
	// Paragraph is the package's paragraph of the status database, as dpkg wrote it.
	Paragraph []byte
}

// DB is the dpkg database of a Debian system (the build image, or a target
// root): installed packages and the files each one installed.
type DB struct {
	root   string // the system's root directory, "/" for the running one
	pkgs   map[string]*Package
	owners map[string]*Package // path as dpkg recorded it → package
}

// Open reads root's /var/lib/dpkg/status and /var/lib/dpkg/info/*.list: an
// installed system. A root with no status file but status.d records (an
// extracted one: a target root, a run image) is read through those
// (<pkg> paragraphs, <pkg>.md5sums file lists).
func Open(root string) (*DB, error) {
	dir := filepath.Join(root, "var", "lib", "dpkg")
	db := &DB{root: filepath.Clean(root), pkgs: map[string]*Package{}, owners: map[string]*Package{}}
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if os.IsNotExist(err) {
		if _, serr := os.Stat(filepath.Join(root, filepath.FromSlash(StatusDir))); serr == nil {
			return db, db.readStatusD()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reading the dpkg database: %w", err)
	}
	for _, p := range ParseStatus(status) {
		db.pkgs[p.Name] = p
	}
	lists, err := filepath.Glob(filepath.Join(dir, "info", "*.list"))
	if err != nil {
		return nil, fmt.Errorf("listing dpkg's file lists: %w", err)
	}
	for _, l := range lists {
		name, _, _ := strings.Cut(strings.TrimSuffix(filepath.Base(l), ".list"), ":") // libssl3t64:amd64.list
		p := db.pkgs[name]
		if p == nil {
			continue
		}
		if err := db.readList(l, p); err != nil {
			return nil, err
		}
	}
	return db, nil
}

func (db *DB) readList(file string, p *Package) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("reading dpkg's file list: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && line != "/." {
			db.owners[line] = p
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	return nil
}

// readStatusD reads the status.d records under db.root: each <pkg> file's
// paragraphs, each <pkg>.md5sums's paths ("<md5>  usr/lib/...") as owned by
// <pkg>.
func (db *DB) readStatusD() error {
	dir := filepath.Join(db.root, filepath.FromSlash(StatusDir))
	records, err := ReadLayerRecords(db.root)
	if err != nil {
		return err
	}
	for _, p := range records {
		db.pkgs[p.Name] = p
	}
	sums, err := filepath.Glob(filepath.Join(dir, "*.md5sums"))
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	for _, f := range sums {
		p := db.pkgs[strings.TrimSuffix(filepath.Base(f), ".md5sums")]
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("reading dpkg's file list: %w", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if _, name, ok := strings.Cut(line, "  "); ok && p != nil {
				db.owners["/"+strings.TrimPrefix(name, "/")] = p
			}
		}
	}
	return nil
}

// Owner is the package that installed file, also when dpkg recorded it
// under the other side of merged /usr (/lib/... for /usr/lib/...). file is
// an absolute path in the system, or a path under the root Open read; a
// symbolic link no package lists is followed (md5sums list only regular
// files).
func (db *DB) Owner(file string) (*Package, bool) {
	file = path.Clean(file)
	if db.root != "" && db.root != "/" {
		if rel, ok := strings.CutPrefix(file, db.root+"/"); ok {
			file = "/" + rel
		}
	}
	for hop := 0; hop < 8; hop++ {
		for _, c := range []string{file, strings.TrimPrefix(file, "/usr"), "/usr" + file} {
			if p := db.owners[c]; p != nil {
				return p, true
			}
		}
		target, err := os.Readlink(filepath.Join(db.root, file))
		if err != nil {
			return nil, false
		}
		if path.IsAbs(target) {
			file = path.Clean(target)
		} else {
			file = path.Join(path.Dir(file), target)
		}
	}
	return nil, false
}

// ParseStatus reads the installed packages of a dpkg status file (one
// paragraph a package; those not "install ok installed" are left out).
func ParseStatus(status []byte) []*Package {
	var out []*Package
	text := strings.ReplaceAll(string(status), "\r\n", "\n")
	for _, para := range strings.Split(text, "\n\n") {
		para = strings.Trim(para, "\n")
		if para == "" {
			continue
		}
		p := &Package{Paragraph: []byte(para + "\n")}
		state := ""
		for _, l := range strings.Split(para, "\n") {
			k, v, ok := strings.Cut(l, ":")
			if !ok || strings.HasPrefix(l, " ") {
				continue
			}
			switch v = strings.TrimSpace(v); k {
			case "Package":
				p.Name = v
			case "Version":
				p.Version = v
			case "Architecture":
				p.Arch = v
			case "Status":
				state = v
			}
		}
		if p.Name != "" && strings.HasSuffix(state, " installed") && !strings.Contains(state, "deinstall") {
			out = append(out, p)
		}
	}
	return out
}
