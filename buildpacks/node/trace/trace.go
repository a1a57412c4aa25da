// Package trace ships only the files of a production node_modules that a Node.js app can reach
// from its start command. @vercel/nft (Vercel's Node File Trace, the tracer Next.js uses for its
// standalone output) follows require, import and the file reads it can evaluate; a small driver
// (driver.cjs) runs it with the app's own node and adds what nft cannot prove unneeded: a package
// with a require of a value nft cannot evaluate stays whole, and an app file with one keeps every
// dependency its package.json declares whole. Decide turns the trace into the files to keep
// (package.json files the resolver reads, licences, native addons, files nft cannot analyse), and
// Apply copies them into the launch layer's tree.
package trace

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

//go:embed driver.cjs
var driverJS []byte

// Pin is a release of @vercel/nft and the oldest Node.js major line it runs on (its engines.node).
type Pin struct {
	MinNode uint64
	Version string
}

// Pins are the nft releases the buildpack installs, newest first: 1.x declares engines.node >=20,
// 0.30.x (the last before 1.0) >=18. Older Node.js lines are not traced.
var Pins = []Pin{{MinNode: 20, Version: "1.11.5"}, {MinNode: 18, Version: "0.30.4"}}

// PinFor returns the nft release that runs on Node.js nodeMajor; ok is false for a line older than
// every pin.
func PinFor(nodeMajor uint64) (Pin, bool) {
	for _, p := range Pins {
		if nodeMajor >= p.MinNode {
			return p, true
		}
	}
	return Pin{}, false
}

// Package is the npm package name of the tracer.
const Package = "@vercel/nft"

// Whole is a package directory kept whole, with why.
type Whole struct {
	Dir string `json:"dir"`
	Why string `json:"why"`
}

// Request is what the driver traces: Entries (absolute file paths) run with Cwd as the working
// directory; Whole packages are kept whole and all their code traced. Base bounds what nft follows
// ("/" for everything).
type Request struct {
	Base    string   `json:"base"`
	Cwd     string   `json:"cwd"`
	Entries []string `json:"entries"`
	Whole   []Whole  `json:"whole"`
}

// Result is the driver's answer: every file reached (absolute paths, symlinks as nft saw them and
// their real paths), the packages kept whole and why, and nft's warnings (first lines).
type Result struct {
	Files    []string `json:"files"`
	Whole    []Whole  `json:"whole"`
	Warnings []string `json:"warnings"`
}

// Run runs the driver with node (the app's Node.js) against the nft installed under nftDir
// (nftDir/node_modules/@vercel/nft), killing it after timeout. env is the process environment.
// An error carries the driver's stderr tail: callers fall back to the full tree.
func Run(ctx context.Context, node, nftDir string, env []string, req Request, timeout time.Duration) (Result, error) {
	tmp, err := os.MkdirTemp("", "distill-trace")
	if err != nil {
		return Result{}, fmt.Errorf("creating a directory for the trace request: %w", err)
	}
	defer os.RemoveAll(tmp)
	driver, reqFile := filepath.Join(tmp, "driver.cjs"), filepath.Join(tmp, "request.json")
	data, err := json.Marshal(req)
	if err != nil {
		return Result{}, fmt.Errorf("encoding the trace request: %w", err)
	}
	if err := os.WriteFile(driver, driverJS, 0o644); err != nil {
		return Result{}, fmt.Errorf("writing %s: %w", driver, err)
	}
	if err := os.WriteFile(reqFile, data, 0o644); err != nil {
		return Result{}, fmt.Errorf("writing %s: %w", reqFile, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, driver, nftDir, reqFile)
	cmd.Dir = req.Cwd
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Result{}, fmt.Errorf("the trace took longer than %s", timeout)
		}
		return Result{}, fmt.Errorf("%s %s: %v: %s", node, driver, err, tail(stderr.String(), 2000))
	}
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return Result{}, fmt.Errorf("reading the trace driver's output (%.200q): %w", stdout.String(), err)
	}
	return res, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Install installs nft pin's release and its dependencies into dir/node_modules with npm (npmArgv
// is the npm command line, env its environment: the registry and credentials are npm's own
// configuration; npm checks every tarball against the registry's integrity). No install scripts
// run: nft needs none.
func Install(ctx context.Context, npmArgv, env []string, dir string, pin Pin) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	args := append(append([]string{}, npmArgv[1:]...), "install", "--prefix", dir, "--no-save", "--no-package-lock",
		"--ignore-scripts", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error", Package+"@"+pin.Version)
	cmd := exec.CommandContext(ctx, npmArgv[0], args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm install %s@%s into %s: %v: %s", Package, pin.Version, dir, err, tail(string(out), 2000))
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(Package), "package.json")); err != nil {
		return fmt.Errorf("npm install %s@%s left no %s in %s", Package, pin.Version, Package, dir)
	}
	return nil
}
