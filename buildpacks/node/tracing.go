package node

// Tracing: the production node_modules cut down to the files the start command reaches, traced
// with @vercel/nft (buildpacks/node/trace) and copied into the node-modules-traced launch layer;
// the full tree stays in the node-modules layer, cached for the next build's install and trace.

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/buildpacks/libcnb/v2"

	"github.com/distill-build/distill/buildpacks/node/trace"
	"github.com/distill-build/distill/internal/command"
)

const (
	LayerTracer = "node-file-trace"     // @vercel/nft, which traces the app at build time: cache
	LayerTraced = "node-modules-traced" // the production node_modules files the app reaches: launch
)

// traceTimeout bounds one trace; past it the image gets the full production tree.
const traceTimeout = 10 * time.Minute

// traceModules traces the app and, when that leaves files out, puts what stays in the
// node-modules-traced launch layer and makes node-modules cache-only. ok is false when the full
// production tree launches: tracing off (BP_NODE_TRACE=false), not possible (the log says why),
// failed (a WARNING says why) or left nothing out. It never fails the build.
func (b *Builder) traceModules(r *buildRun) (libcnb.Layer, string, bool) {
	if v, ok := b.config.Lookup("BP_NODE_TRACE"); ok && (strings.EqualFold(v, "false") || v == "0") {
		b.Logger.Body("node_modules: not traced (BP_NODE_TRACE=false): the full production tree goes into the image")
		return libcnb.Layer{}, "", false
	}
	// The app resolves its packages (and its start command's executables) through
	// <app>/node_modules, as it will in the image.
	if err := linkModules(r.appDir, r.plan.ProdTree); err != nil {
		b.Logger.Bodyf("WARNING: not traced: linking %s/node_modules to the production tree: %v", r.appDir, err)
		return libcnb.Layer{}, "", false
	}
	req, why, err := r.traceRequest()
	if err == nil && why == "" && r.version.Major() < trace.Pins[len(trace.Pins)-1].MinNode {
		why = fmt.Sprintf("%s needs Node.js %d or newer to run, the app runs %s", trace.Package, trace.Pins[len(trace.Pins)-1].MinNode, r.version)
	}
	if err != nil || why != "" {
		if err != nil {
			why = err.Error()
		}
		b.Logger.Bodyf("node_modules: not traced: %s; the full production tree goes into the image", why)
		return libcnb.Layer{}, "", false
	}
	layer, tree, err := b.trace(r, req)
	if err != nil {
		b.Logger.Bodyf("WARNING: tracing the files the app reaches failed, so the image gets the full production node_modules: %v", err)
		return libcnb.Layer{}, "", false
	}
	return layer, tree, tree != ""
}

// trace installs the tracer, runs it and copies what stays; tree is "" when nothing was left out.
func (b *Builder) trace(r *buildRun, req trace.Request) (libcnb.Layer, string, error) {
	pin, _ := trace.PinFor(r.version.Major())
	nftDir, err := b.installTracer(r, pin)
	if err != nil {
		return libcnb.Layer{}, "", err
	}
	entries, err := trace.Scan(r.plan.ProdTree)
	if err != nil {
		return libcnb.Layer{}, "", err
	}
	realTree, err := filepath.EvalSymlinks(r.plan.ProdTree)
	if err != nil {
		return libcnb.Layer{}, "", fmt.Errorf("resolving %s: %w", r.plan.ProdTree, err)
	}
	for _, e := range entries { // native addons: kept whole, and what their code loads traced
		if pkg := trace.PackageRoot(e.Rel); !e.Symlink && pkg != "" && strings.HasSuffix(e.Rel, ".node") {
			req.Whole = append(req.Whole, trace.Whole{Dir: filepath.Join(realTree, pkg), Why: "it holds a native addon (" + e.Rel + ")"})
		}
	}
	var rels []string
	for _, e := range req.Entries {
		rels = append(rels, relTo(r.appDir, e))
	}
	b.Logger.Bodyf("Tracing the files %s reaches with %s %s", strings.Join(rels, ", "), trace.Package, pin.Version)
	start := time.Now()
	res, err := trace.Run(context.Background(), r.buildNode, nftDir, withoutVar(r.env.list(nil), "NODE_OPTIONS"), req, traceTimeout)
	if err != nil {
		return libcnb.Layer{}, "", err
	}
	traced, whole := r.tracedEntries(realTree, res)
	plan := trace.Decide(entries, traced, whole)
	b.logTrace(r, realTree, res, plan, time.Since(start))
	if plan.RemovedFiles == 0 {
		b.Logger.Body("node_modules: tracing left nothing out; the full production tree goes into the image")
		return libcnb.Layer{}, "", nil
	}
	layer, err := r.ctx.Layers.Layer(LayerTraced)
	if err != nil {
		return layer, "", fmt.Errorf("opening the %s layer: %w", LayerTraced, err)
	}
	if layer, err = layer.Reset(); err != nil {
		return layer, "", fmt.Errorf("resetting the %s layer: %w", LayerTraced, err)
	}
	tree := filepath.Join(layer.Path, "node_modules")
	if err := trace.Apply(r.plan.ProdTree, tree, entries, plan.Keep); err != nil {
		return layer, "", fmt.Errorf("copying the traced files into %s: %w", tree, err)
	}
	layer.LayerTypes = libcnb.LayerTypes{Launch: true}
	return layer, tree, nil
}

// installTracer puts nft in the node-file-trace cache layer (never in the image), reused while
// the pinned release is the same.
func (b *Builder) installTracer(r *buildRun, pin trace.Pin) (string, error) {
	layer, err := r.ctx.Layers.Layer(LayerTracer)
	if err != nil {
		return "", fmt.Errorf("opening the %s layer: %w", LayerTracer, err)
	}
	layer.LayerTypes = libcnb.LayerTypes{Cache: true}
	want := map[string]interface{}{"package": trace.Package, "version": pin.Version}
	if metadataEqual(layer.Metadata, want) && fileExists(filepath.Join(layer.Path, "node_modules", filepath.FromSlash(trace.Package), "package.json")) {
		b.Logger.Bodyf("Reusing cached %s %s", trace.Package, pin.Version)
	} else {
		b.Logger.Bodyf("Installing %s %s with npm (build only, to trace the files the app reaches)", trace.Package, pin.Version)
		if err := resetDir(layer.Path); err != nil {
			return "", err
		}
		if err := trace.Install(context.Background(), r.npm.Argv, r.npm.Env, layer.Path, pin); err != nil {
			return "", err
		}
		layer.Metadata = want
	}
	r.result.Layers = append(r.result.Layers, layer)
	return layer.Path, nil
}

// tracedEntries maps the trace's files and whole packages to paths below the production tree:
// real paths, and paths through the app's node_modules link as they are.
func (r *buildRun) tracedEntries(realTree string, res trace.Result) (map[string]bool, []string) {
	traced := map[string]bool{}
	for _, f := range res.Files {
		if real, err := filepath.EvalSymlinks(f); err == nil {
			if rel, ok := trace.Within(realTree, real); ok {
				traced[rel] = true
			}
		}
		for _, dir := range []string{filepath.Join(r.appDir, "node_modules"), r.plan.ProdTree, realTree} {
			if rel, ok := trace.Within(dir, f); ok {
				traced[rel] = true
			}
		}
	}
	var whole []string
	for _, w := range res.Whole {
		if rel, ok := trace.Within(realTree, w.Dir); ok {
			whole = append(whole, rel)
		}
	}
	return traced, whole
}

// logTrace says what stays whole and why, nft's warnings, and what tracing left out.
func (b *Builder) logTrace(r *buildRun, realTree string, res trace.Result, plan trace.Plan, took time.Duration) {
	short := strings.NewReplacer(realTree+"/", "node_modules/", r.appDir+"/", "")
	byWhy := map[string][]string{}
	for _, w := range res.Whole {
		if rel, ok := trace.Within(realTree, w.Dir); ok {
			byWhy[w.Why] = append(byWhy[w.Why], trace.PackageRoot(rel+"/package.json"))
		}
	}
	whys := make([]string, 0, len(byWhy))
	for why := range byWhy {
		whys = append(whys, why)
	}
	sort.Strings(whys)
	for _, why := range whys {
		pkgs := byWhy[why]
		sort.Strings(pkgs)
		b.Logger.Bodyf("Keeping %d package(s) whole (%s): %s", len(pkgs), strings.Join(pkgs, ", "), short.Replace(why))
	}
	if n := len(res.Warnings); n > 0 {
		first := res.Warnings
		if len(first) > 3 {
			first = first[:3]
		}
		b.Logger.Bodyf("%s: %d warning(s), e.g. %s (the app's own files all stay: tracing removes files from node_modules only)",
			trace.Package, n, short.Replace(strings.Join(first, "; ")))
	}
	b.Logger.Bodyf("node_modules: tracing removed %d of %d file(s), %s of %s, in %.1fs", plan.RemovedFiles, plan.RemovedFiles+plan.KeptFiles,
		megabytes(plan.RemovedBytes), megabytes(plan.RemovedBytes+plan.KeptBytes), took.Seconds())
}

func megabytes(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// traceRequest gathers what the start commands run: each node script (and its --require/--import
// modules) and each package executable, whose package stays whole. why says why the app cannot be
// traced ("" when it can): Plug'n'Play, no start command, or a command the trace cannot follow.
func (r *buildRun) traceRequest() (trace.Request, string, error) {
	req := trace.Request{Base: "/", Cwd: r.appDir}
	if r.plan.PnP {
		return req, "Yarn Plug'n'Play keeps the packages in zip files, which the trace does not read (the production zips stay as they are)", nil
	}
	cmds, err := r.startCommands()
	if err != nil {
		return req, "", err
	}
	if len(cmds) == 0 {
		return req, "no start command to trace from", nil
	}
	seen := map[string]bool{}
	for _, c := range cmds {
		lines := c.scripts()
		argvs := [][]string{c.Argv}
		if c.Argv == nil {
			argvs = nil
		}
		for _, line := range lines {
			sc, err := parseScript(c.Source, line)
			if err != nil {
				return req, "", err
			}
			for _, cmd := range sc.Commands {
				for _, a := range cmd.Env {
					if a.Name == "NODE_OPTIONS" {
						return req, fmt.Sprintf("%s sets NODE_OPTIONS, whose modules the trace does not follow", c.Source), nil
					}
				}
			}
			argvs = append(argvs, wordsOf(sc)...)
		}
		dir := c.Dir
		for _, argv := range argvs {
			if len(argv) > 0 && argv[0] == "cd" && len(argv) == 2 && !strings.Contains(argv[1], "$") {
				dir = filepath.Join(dir, argv[1])
				continue
			}
			entries, whole, why := traceArgv(dir, argv)
			if why != "" {
				return req, c.Source + ": " + why, nil
			}
			for _, e := range entries {
				if !seen[e] {
					seen[e] = true
					req.Entries = append(req.Entries, e)
				}
			}
			req.Whole = append(req.Whole, whole...)
		}
	}
	if len(req.Entries) == 0 {
		return req, "the start command runs no node script", nil
	}
	return req, "", nil
}

// nodeModuleFlags are node's options whose value is a module node loads before the script.
var nodeModuleFlags = map[string]bool{"-r": true, "--require": true, "--import": true, "--loader": true, "--experimental-loader": true}

// traceArgv returns the files one command runs (absolute) and the packages it runs executables of
// (kept whole); why is set for a command the trace cannot follow (node -e, a script named by a
// variable, a program that is not node or a package executable).
func traceArgv(dir string, argv []string) ([]string, []trace.Whole, string) {
	if len(argv) > 0 && argv[0] == "exec" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return nil, nil, ""
	}
	name := argv[0]
	switch {
	case name == "node" || name == "nodejs":
		return nodeArgv(dir, argv[1:])
	case command.IsBuiltin(name):
		return nil, nil, ""
	}
	if strings.Contains(name, "$") || strings.Contains(name, "/") {
		return nil, nil, fmt.Sprintf("it runs %s, which the trace does not follow", name)
	}
	script, ok := binScript(dir, name)
	if !ok {
		return nil, nil, fmt.Sprintf("it runs %s, which is not node or a node_modules/.bin command", name)
	}
	pkg := packageDirOf(script)
	if pkg == "" {
		return []string{script}, nil, ""
	}
	return []string{script}, []trace.Whole{{Dir: pkg, Why: "the start command runs its executable " + name}}, ""
}

// nodeArgv reads node's arguments: the modules of --require/--import (files, or packages kept
// whole) and the script, a file as node finds it (with .js, .cjs or .mjs added when it has none).
func nodeArgv(dir string, args []string) ([]string, []trace.Whole, string) {
	var files []string
	var whole []trace.Whole
	file := func(spec string) string {
		p := spec
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		for _, ext := range []string{"", ".js", ".cjs", ".mjs"} {
			if ok, _ := isFile(p + ext); ok {
				files = append(files, p+ext)
				return ""
			}
		}
		return fmt.Sprintf("node runs %s, which is not a file after the build", spec)
	}
	module := func(spec string) string {
		if strings.HasPrefix(spec, ".") || strings.HasPrefix(spec, "/") {
			return file(spec)
		}
		if pkg := moduleDir(dir, spec); pkg != "" {
			whole = append(whole, trace.Whole{Dir: pkg, Why: "node loads it with --require or --import"})
			return ""
		}
		return fmt.Sprintf("node loads %s, which is neither a file nor an installed package", spec)
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		flag, val, hasVal := strings.Cut(a, "=")
		why := ""
		switch {
		case strings.Contains(a, "$"):
			return nil, nil, fmt.Sprintf("node's argument %s is a variable", a)
		case nodeModuleFlags[flag] && hasVal:
			why = module(val)
		case nodeModuleFlags[a] && i+1 < len(args):
			i++
			why = module(args[i])
		case a == "-e" || a == "--eval" || a == "-p" || a == "--print" || a == "-":
			return nil, nil, "node runs code given on the command line"
		case strings.HasPrefix(a, "-"):
		default:
			if why = file(a); why == "" {
				return files, whole, ""
			}
		}
		if why != "" {
			return nil, nil, why
		}
	}
	return nil, nil, "node runs no script file (a REPL or stdin)"
}

// moduleDir finds the installed package a bare specifier names, from dir up (Node.js's lookup).
func moduleDir(dir, spec string) string {
	name := spec
	if parts := strings.SplitN(spec, "/", 3); strings.HasPrefix(spec, "@") && len(parts) >= 2 {
		name = parts[0] + "/" + parts[1]
	} else {
		name = parts[0]
	}
	for d := dir; ; d = filepath.Dir(d) {
		if p := filepath.Join(d, "node_modules", name); fileExists(filepath.Join(p, "package.json")) {
			return p
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// packageDirOf is the directory of the package holding file, below a node_modules ("" for none).
func packageDirOf(file string) string {
	for d := filepath.Dir(file); filepath.Dir(d) != d; d = filepath.Dir(d) {
		parent := filepath.Dir(d)
		if filepath.Base(parent) == "node_modules" || strings.HasPrefix(filepath.Base(parent), "@") && filepath.Base(filepath.Dir(parent)) == "node_modules" {
			return d
		}
	}
	return ""
}
