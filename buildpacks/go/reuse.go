package golang

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// buildArgs are the go command's arguments for each target: build -o
// <binDir>/<name> <flags...> <package>.
func buildArgs(binDir string, targets []target, flags []string) [][]string {
	var all [][]string
	for _, t := range targets {
		args := append([]string{"build", "-o", filepath.Join(binDir, t.Name)}, flags...)
		all = append(all, append(args, t.Package))
	}
	return all
}

// targetOutputs are the binaries the targets produce and their packages.
func targetOutputs(binDir string, targets []target) (binaries, pkgs []string) {
	for _, t := range targets {
		binaries = append(binaries, filepath.Join(binDir, t.Name))
		pkgs = append(pkgs, t.Package)
	}
	return binaries, pkgs
}

func allExist(paths []string) bool {
	for _, p := range paths {
		if !fileExists(p) {
			return false
		}
	}
	return len(paths) > 0
}

// buildKey is the hex SHA-256 of what go build's output depends on: every
// file under appDir (path, mode, contents, symlink targets), the Go version,
// the go arguments, and the environment's GO*, CGO* and CC/CXX variables.
// Anything else the build reads (the module cache) is named by go.sum, a file
// of the app.
func buildKey(appDir, goVersion string, args [][]string, env []string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "go %s\n", goVersion)
	for _, a := range args {
		fmt.Fprintf(h, "args %q\n", a)
	}
	var vars []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "GO") || strings.HasPrefix(kv, "CGO_") || strings.HasPrefix(kv, "CC=") || strings.HasPrefix(kv, "CXX=") {
			vars = append(vars, kv)
		}
	}
	sort.Strings(vars)
	for _, kv := range vars {
		fmt.Fprintf(h, "env %q\n", kv)
	}
	err := filepath.WalkDir(appDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return hashEntry(h, appDir, p, d)
	})
	if err != nil {
		return "", fmt.Errorf("hashing the source in %s: %w", appDir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashEntry(h io.Writer, root, p string, d fs.DirEntry) error {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return err
	}
	info, err := d.Info()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%q %v\n", rel, info.Mode())
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "-> %q\n", target)
	case info.Mode().IsRegular():
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "%d\n", info.Size())
		if _, err := io.Copy(h, f); err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
	}
	return nil
}
