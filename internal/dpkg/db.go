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

// DB is the dpkg database of a Debian system (the build image): installed
// packages and the files each one installed.
type DB struct {
	pkgs   map[string]*Package
	owners map[string]*Package // path as dpkg recorded it → package
}

// Open reads root's /var/lib/dpkg/status and /var/lib/dpkg/info/*.list.
func Open(root string) (*DB, error) {
	dir := filepath.Join(root, "var", "lib", "dpkg")
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return nil, fmt.Errorf("reading the dpkg database: %w", err)
	}
	db := &DB{pkgs: map[string]*Package{}, owners: map[string]*Package{}}
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

// Owner is the package that installed file (an absolute path), also when dpkg
// recorded it under the other side of merged /usr (/lib/... for /usr/lib/...).
func (db *DB) Owner(file string) (*Package, bool) {
	file = path.Clean(file)
	for _, c := range []string{file, strings.TrimPrefix(file, "/usr"), "/usr" + file} {
		if p := db.owners[c]; p != nil {
			return p, true
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
