package python

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/dpkg"
	"github.com/distill-build/distill/internal/sharedlib"
)

// Layer names.
const (
	LayerCPython  = "cpython"   // the pruned interpreter and stdlib: launch + cache
	LayerVenv     = "venv"      // the dependencies, a venv over the cpython layer: launch + cache
	LayerProject  = "project"   // the app itself when it is a package (pip install --no-deps .): launch
	LayerPipCache = "pip-cache" // pip's HTTP and wheel cache: cache
)

// ExecScriptName is the process wrapper's file in the cpython layer.
const ExecScriptName = "libexec/distill_exec.py"

// toolDists are the packaging tools never left in the image unless the app asks for them.
var toolDists = []string{"pip", "setuptools", "wheel"}

// Builder builds a Python app.
type Builder struct {
	Logger log.Logger

	// Python is the build image's python3; empty means /usr/bin/python3 (else python3 on PATH).
	Python string

	config buildpack.Config
}

func (b *Builder) Build(ctx libcnb.BuildContext) (libcnb.BuildResult, error) {
	if b.Logger == nil {
		b.Logger = newLogger(os.Stdout)
	}
	b.config = buildpack.Config(ctx.Platform.Environment)
	start := time.Now()
	b.Logger.Titlef("%s %s", ctx.Buildpack.Info.Name, ctx.Buildpack.Info.Version)
	r := &buildRun{ctx: ctx, result: libcnb.NewBuildResult()}
	var err error
	if r.target, err = targetOf(ctx.TargetInfo.OS, ctx.TargetInfo.Arch); err != nil {
		return r.result, err
	}
	for _, step := range []func(*buildRun) error{b.readApp, b.cpythonStep, b.dependencies, b.projectStep, b.processes} {
		if err := step(r); err != nil {
			return r.result, err
		}
	}
	b.Logger.Bodyf("Built with CPython %s in %.1fs", r.py.Version, time.Since(start).Seconds())
	return r.result, nil
}

// buildRun is one Build's state, handed from step to step.
type buildRun struct {
	ctx    libcnb.BuildContext
	result libcnb.BuildResult

	sysPython  string           // the build image's python: runs pip and venv
	py         pythonInfo       // what sysPython is
	target     *foreignTarget   // nil for a native build
	imagePy    pythonInfo       // the CPython copied into the image: py, or the target's
	reqs       []versionRequest // the app's Python version requests
	rs         requirementSet   // what to install
	penv       processEnv       // what the processes run with
	pip        pipRunner
	venvPython string   // the venv's python; "" without a venv
	scripts    []string // console scripts the installed project declares
}

// readApp finds the build image's Python and reads everything that can be
// wrong with the app (version requests, requirements, Procfile) before any
// layer is written.
func (b *Builder) readApp(r *buildRun) error {
	appDir := r.ctx.ApplicationPath
	r.sysPython = b.Python
	if r.sysPython == "" {
		var err error
		if r.sysPython, err = findPython(); err != nil {
			return err
		}
	}
	var err error
	if r.py, err = inspectPython(r.sysPython); err != nil {
		return err
	}
	r.imagePy = r.py
	if r.target != nil {
		hostDeb, err := debianPackage("/", r.py.Bin)
		if err != nil {
			return err
		}
		var note string
		if r.imagePy, note, err = targetPython(r.target, r.py, hostDeb); err != nil {
			return err
		}
		if note != "" {
			b.Logger.Body(note)
		}
	}
	if r.reqs, err = versionRequests(appDir, b.config.Get("BP_CPYTHON_VERSION")); err != nil {
		return err
	}
	if err := checkVersion(r.reqs, r.py.Version); err != nil {
		return err
	}
	if r.rs, err = resolveRequirements(appDir); err != nil {
		return err
	}
	_, err = readProcfile(appDir)
	return err
}

// keptModules reads BP_PYTHON_KEEP_MODULES: optional stdlib parts
// (optionalParts) to keep, separated by ":".
func (b *Builder) keptModules() (map[string]bool, error) {
	keep := map[string]bool{}
	for _, k := range strings.Split(b.config.Get("BP_PYTHON_KEEP_MODULES"), ":") {
		if k = strings.TrimSpace(k); k != "" {
			if _, ok := optionalParts[k]; !ok {
				return nil, fmt.Errorf("BP_PYTHON_KEEP_MODULES: %q is not one of curses, readline, dbm, pydoc_data", k)
			}
			keep[k] = true
		}
	}
	return keep, nil
}

// cpythonStep contributes the cpython launch layer; processes run its
// python until a venv takes over.
func (b *Builder) cpythonStep(r *buildRun) error {
	b.Logger.Header("CPython")
	for _, q := range r.reqs {
		from := "the build image"
		if r.target != nil {
			from = "the " + r.target.platform() + " Debian packages"
		}
		b.Logger.Bodyf("%s asks for %s: CPython %s from %s satisfies it", q.Source, q.Spec, r.imagePy.Version, from)
	}
	keep, err := b.keptModules()
	if err != nil {
		return err
	}
	layer, err := r.ctx.Layers.Layer(LayerCPython)
	if err != nil {
		return err
	}
	if err := b.cpython(r.imagePy, r.target, r.sysPython, &layer, keep); err != nil {
		return err
	}
	r.result.Layers = append(r.result.Layers, layer)
	r.penv = processEnv{
		Python:     filepath.Join(layer.Path, "bin", "python"+r.py.MajorMinor),
		ExecScript: filepath.Join(layer.Path, ExecScriptName),
	}
	return nil
}

// dependencies installs the requirements into the venv launch layer (none
// without requirements), with pip's cache in a cache layer.
func (b *Builder) dependencies(r *buildRun) error {
	b.Logger.Header("Dependencies")
	for _, n := range r.rs.Notes {
		b.Logger.Body(n)
	}
	if r.rs.empty() && !r.rs.InstallProject {
		b.Logger.Body("No requirements (requirements.txt, a lock file, pyproject.toml dependencies): no venv")
		return nil
	}
	pipCache, err := r.ctx.Layers.Layer(LayerPipCache)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(pipCache.Path, 0o755); err != nil {
		return err
	}
	pipCache.LayerTypes = libcnb.LayerTypes{Cache: true}
	pipCache.Metadata = map[string]interface{}{"purpose": "PIP_CACHE_DIR"}
	r.result.Layers = append(r.result.Layers, pipCache)
	pipEnv, err := b.pipEnv(r.ctx.Platform.Bindings)
	if err != nil {
		return err
	}
	r.pip = pipRunner{Python: r.sysPython, Cache: pipCache.Path, Env: pipEnv, Target: r.target, MajorMinor: r.py.MajorMinor}
	venvLayer, err := r.ctx.Layers.Layer(LayerVenv)
	if err != nil {
		return err
	}
	if err := b.venv(r.py, r.penv.Python, r.rs, r.pip, &venvLayer); err != nil {
		return err
	}
	r.result.Layers = append(r.result.Layers, venvLayer)
	r.venvPython = filepath.Join(venvLayer.Path, "bin", "python")
	r.penv.Python = r.venvPython
	r.penv.BinDirs = append(r.penv.BinDirs, filepath.Join(venvLayer.Path, "bin"))
	return nil
}

// projectStep installs the app as a package when it is one (the project
// launch layer) and compiles the app's own bytecode (checked-hash: it stays
// right if a file changes).
func (b *Builder) projectStep(r *buildRun) error {
	appDir := r.ctx.ApplicationPath
	if r.rs.InstallProject {
		layer, err := r.ctx.Layers.Layer(LayerProject)
		if err != nil {
			return err
		}
		if err := b.project(appDir, r.py, r.venvPython, r.rs, r.pip, &layer); err != nil {
			return err
		}
		r.result.Layers = append(r.result.Layers, layer)
		r.penv.BinDirs = append(r.penv.BinDirs, filepath.Join(layer.Path, "bin"))
		if pp, _ := readPyproject(appDir); pp != nil {
			for s := range pp.Project.Scripts {
				r.scripts = append(r.scripts, s)
			}
			for s := range pp.Tool.Poetry.Scripts {
				r.scripts = append(r.scripts, s)
			}
		}
	}
	if out, _ := compileAll(r.compiler(), appDir, "checked-hash", true); len(strings.TrimSpace(string(out))) > 0 {
		b.Logger.Bodyf("Some app files do not compile (they are kept as they are):\n%s", strings.TrimSpace(string(out)))
	}
	return nil
}

// compiler is the python that byte-compiles the app: the one its processes run, or for a
// foreign target the build image's (the same version, so the same bytecode).
func (r *buildRun) compiler() string {
	if r.target != nil {
		return r.sysPython
	}
	return r.penv.Python
}

// processes decides the launch processes; web is the default, else the
// first.
func (b *Builder) processes(r *buildRun) error {
	b.Logger.Header("Processes")
	procs, err := decideProcesses(r.ctx.ApplicationPath, r.penv, r.scripts)
	if err != nil {
		return err
	}
	hasWeb := false
	for _, p := range procs {
		hasWeb = hasWeb || p.Type == "web"
	}
	for i, p := range procs {
		def := p.Type == "web" || (!hasWeb && i == 0)
		b.Logger.Bodyf("%s: %s (%s)", p.Type, p.shown(), p.Why)
		r.result.Processes = append(r.result.Processes, libcnb.Process{Type: p.Type, Command: p.Command, Default: def})
	}
	return nil
}

// cpython fills (or reuses) the cpython layer.
// For a foreign target, py is the target's CPython under t.Root and host (the build image's
// python) byte-compiles it.
func (b *Builder) cpython(py pythonInfo, target *foreignTarget, host string, layer *libcnb.Layer, keep map[string]bool) error {
	fp, err := pythonFingerprint(py)
	if err != nil {
		return err
	}
	var kept []string
	for k := range keep {
		kept = append(kept, k)
	}
	sort.Strings(kept)
	runner := sha256.Sum256([]byte(execScript))
	signals := sha256.Sum256(signalsModule)
	want := map[string]interface{}{"version": py.Version.String(), "fingerprint": fp, "layout": layoutVersion, "keep": strings.Join(kept, ":"),
		"exec-script-sha256": hex.EncodeToString(runner[:]), "signals-sha256": hex.EncodeToString(signals[:])}
	layer.LayerTypes = libcnb.LayerTypes{Launch: true, Cache: true}
	layer.LaunchEnvironment.Default("PYTHONUNBUFFERED", "1")
	if sameMetadata(layer.Metadata, want) && fileExists(filepath.Join(layer.Path, "bin", "python"+py.MajorMinor)) {
		layer.Metadata = want
		b.Logger.Bodyf("Reusing CPython %s (cached layer)", py.Version)
		debs, err := dpkg.ReadLayerRecords(layer.Path)
		if err != nil {
			return err
		}
		return writeCPythonSBOM(layer.SBOMPath(libcnb.CycloneDXJSON), py, debs)
	}
	if err := os.RemoveAll(layer.Path); err != nil {
		return err
	}
	t := time.Now()
	res, err := installCPython(py, target.root(), layer.Path, keep)
	if err != nil {
		return err
	}
	if err := copyScript(filepath.Join(layer.Path, ExecScriptName)); err != nil {
		return err
	}
	// Debian's site.py reads dist-packages beside the interpreter, upstream's site-packages.
	if err := addSignals(layer.Path, py.MajorMinor, "dist-packages", "site-packages"); err != nil {
		return err
	}
	if err := checkCPython(filepath.Join(layer.Path, "bin", "python"+py.MajorMinor), target, host, layer.Path); err != nil {
		return err
	}
	size, _ := dirSize(layer.Path)
	b.Logger.Bodyf("CPython %s from %s: pruned copy of %.1f MB (tests, idle, tkinter, ensurepip, pip, headers dropped) in %.1fs",
		py.Version, py.Bin, float64(size)/1e6, time.Since(t).Seconds())
	if len(res.Libs) > 0 {
		b.Logger.Bodyf("Copied libraries run:base lacks: %s", strings.Join(res.Libs, ", "))
	}
	debs, err := recordDebianFiles(target.root(), layer.Path, res.Files)
	if err != nil {
		return err
	}
	b.Logger.Bodyf("Debian packages recorded in %s for scanners: %s", dpkg.StatusDir, debianNames(debs))
	if err := writeCPythonSBOM(layer.SBOMPath(libcnb.CycloneDXJSON), py, debs); err != nil {
		return err
	}
	layer.Metadata = want
	return nil
}

// checkCPython byte-compiles the copied CPython in layerDir (python, its interpreter) and checks
// it runs on its own: it imports what the pruning kept. A foreign target's cannot run here: the
// build image's python (host) compiles it (the same version: the same bytecode).
func checkCPython(python string, t *foreignTarget, host, layerDir string) error {
	if t != nil {
		_, err := compileAll(host, layerDir, "unchecked-hash", false)
		return err
	}
	if _, err := compileAll(python, layerDir, "unchecked-hash", false); err != nil {
		return err
	}
	if out, err := exec.Command(python, "-I", "-c", "import ssl, hashlib, sqlite3, ctypes, lzma, bz2, zlib, json, uuid, decimal, xml.parsers.expat, asyncio, zoneinfo").CombinedOutput(); err != nil {
		return fmt.Errorf("the copied CPython does not work (%v):\n%s", err, out)
	}
	return nil
}

// signalsModule is distill_signals.py: as PID 1, exit on SIGTERM unless the app handles it.
//
//go:embed distill_signals.py
var signalsModule []byte

// addSignals puts distill_signals.py and the .pth file that imports it at
// startup into the site directories siteDirs (under lib/pythonX.Y) of
// layerDir (the CPython layer, or the venv for its console scripts'
// interpreter), which site.py reads at every start (not under -S).
func addSignals(layerDir, majorMinor string, siteDirs ...string) error {
	for _, dir := range siteDirs {
		site := filepath.Join(layerDir, "lib", "python"+majorMinor, dir)
		if err := os.MkdirAll(site, 0o755); err != nil {
			return fmt.Errorf("writing the SIGTERM handler: %w", err)
		}
		for name, data := range map[string][]byte{"distill_signals.py": signalsModule, "distill-signals.pth": []byte("import distill_signals\n")} {
			if err := os.WriteFile(filepath.Join(site, name), data, 0o644); err != nil {
				return fmt.Errorf("writing the SIGTERM handler: %w", err)
			}
		}
	}
	return nil
}

// recordDebianFiles writes the dpkg records (var/lib/dpkg/status.d in the layer) of the Debian
// packages that files were copied from (the build image's, root "/", or a foreign target's
// under root), so scanners report them, with the layer that carries them, as the Debian
// packages they are.
func recordDebianFiles(root, layerDir string, files []dpkg.File) ([]*dpkg.Package, error) {
	db, err := dpkg.Open(root)
	if err != nil {
		return nil, fmt.Errorf("recording the Debian packages of %s: %w", layerDir, err)
	}
	return db.WriteLayerRecords(layerDir, files)
}

func debianNames(pkgs []*dpkg.Package) string {
	names := make([]string, len(pkgs))
	for i, p := range pkgs {
		names[i] = p.Name + " " + p.Version
	}
	return strings.Join(names, ", ")
}

func copyScript(dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, []byte(execScript), 0o644)
}

// hashMismatchHint adds what to do to pip's error when a downloaded file does not match a hash
// the requirements (or the lock file they came from) pin: the index serves other bytes under
// that name, so the lock was made against another index or the file changed.
func hashMismatchHint(err error, source string) error {
	if !strings.Contains(err.Error(), "DO NOT MATCH THE HASHES") {
		return err
	}
	return fmt.Errorf("%w\n%s pins hashes that the package index does not serve: "+
		"if the index is the one you lock against, re-lock (for example `poetry lock`, `pipenv lock`, `uv lock`) "+
		"and commit the lock file; if the index was tampered with, do not build", err, source)
}

// pipRunner runs the build image's pip against a target interpreter.
type pipRunner struct {
	Python string // the build image's python3, which has pip
	Cache  string
	Env    []string
	// Target, for a foreign build, makes install put wheels for it into a site directory with
	// the build image's pip (the target's interpreter cannot run here).
	Target     *foreignTarget
	MajorMinor string // the Python version wheels are for: "3.13"
}

// run runs pip args against the interpreter target ("" for the build image's own).
func (p pipRunner) run(target string, args ...string) ([]byte, error) {
	full := []string{"-m", "pip"}
	if target != "" {
		full = append(full, "--python", target)
	}
	full = append(full, args...)
	cmd := exec.Command(p.Python, full...)
	cmd.Env = append(p.Env, "PIP_CACHE_DIR="+p.Cache, "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1", "PIP_PROGRESS_BAR=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("pip %s failed (%v):\n%s", strings.Join(shortArgs(args), " "), err, strings.TrimRight(string(out), "\n"))
	}
	return out, nil
}

// shortArgs is args for a message: a run of --platform options (a foreign target's tags) as its
// first and last tag and their count.
func shortArgs(args []string) []string {
	var out, tags []string
	flush := func() {
		switch {
		case len(tags) > 2:
			out = append(out, "--platform", fmt.Sprintf("%s…%s (%d tags)", tags[0], tags[len(tags)-1], len(tags)))
		case len(tags) > 0:
			for _, t := range tags {
				out = append(out, "--platform", t)
			}
		}
		tags = nil
	}
	for i := 0; i < len(args); i++ {
		if args[i] == "--platform" && i+1 < len(args) {
			tags = append(tags, args[i+1])
			i++
			continue
		}
		flush()
		out = append(out, args[i])
	}
	flush()
	return out
}

// install runs pip install with args (requirements and options) for the venv whose interpreter
// is venvPython: natively through it; for a foreign target with the build image's pip into
// site (targetInstallArgs), the console scripts moved into bin with venvPython as their
// interpreter, and a requirement without a target wheel an error naming it.
func (p pipRunner) install(venvPython, site, bin string, args ...string) ([]byte, error) {
	if p.Target == nil {
		return p.run(venvPython, append([]string{"install", "--no-compile", "--no-warn-script-location"}, args...)...)
	}
	out, err := p.run("", append(targetInstallArgs(p.Target, p.MajorMinor, site), args...)...)
	if err != nil {
		return out, noTargetWheel(err, out, p.Target)
	}
	if _, err := moveScripts(site, bin, venvPython); err != nil {
		return out, err
	}
	return out, nil
}

// compiler is the python that byte-compiles what pip installed for python: python itself, or
// for a foreign target the build image's (the same version, so the same bytecode).
func (p pipRunner) compiler(python string) string {
	if p.Target != nil {
		return p.Python
	}
	return python
}

// pipEnv is the environment for pip: the build's, plus PIP_* from <platform>/env, plus index
// settings from bindings of type pip (pip.conf, index-url, extra-index-url), netrc and
// git-credentials (buildpack.CredentialEnv) — read from the bindings, never written to a layer.
func (b *Builder) pipEnv(bindings libcnb.Bindings) ([]string, error) {
	creds, err := buildpack.CredentialEnv(bindings)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), creds...)
	for k, v := range b.config {
		if _, ok := os.LookupEnv(k); !ok && strings.HasPrefix(k, "PIP_") {
			env = append(env, k+"="+v)
		}
	}
	for _, bd := range bindings {
		if strings.ToLower(strings.TrimSpace(bd.Type)) != "pip" {
			continue
		}
		if _, ok := bd.Secret["pip.conf"]; ok {
			env = append(env, "PIP_CONFIG_FILE="+filepath.Join(bd.Path, "pip.conf"))
		}
		if v, ok := bd.Secret["index-url"]; ok {
			env = append(env, "PIP_INDEX_URL="+strings.TrimSpace(v))
		}
		if v, ok := bd.Secret["extra-index-url"]; ok {
			env = append(env, "PIP_EXTRA_INDEX_URL="+strings.TrimSpace(v))
		}
	}
	return env, nil
}

// venv fills (or reuses) the venv layer with the requirement set.
func (b *Builder) venv(py pythonInfo, layerPython string, rs requirementSet, pip pipRunner, layer *libcnb.Layer) error {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%v\x00%s\x00", layoutVersion, py.Version, rs.Source, rs.Locked, strings.Join(rs.Lines, "\n"))
	h.Write(rs.KeyData)
	h.Write(signalsModule)
	key := hex.EncodeToString(h.Sum(nil))
	want := map[string]interface{}{"requirements-sha256": key, "python-version": py.Version.String(), "source": rs.Source}
	layer.LayerTypes = libcnb.LayerTypes{Launch: true, Cache: true}
	if !rs.NoReuse && sameMetadata(layer.Metadata, want) && fileExists(filepath.Join(layer.Path, "pyvenv.cfg")) {
		layer.Metadata = want
		b.Logger.Bodyf("Reusing the installed dependencies (%s and Python %s unchanged)", rs.Source, py.Version)
		// The SBOM is written every build: a platform need not restore it with the layer.
		dists, err := installedDistributions(layer.Path)
		if err != nil {
			return err
		}
		debs, err := dpkg.ReadLayerRecords(layer.Path)
		if err != nil {
			return err
		}
		return writeDistributionsSBOM(layer.SBOMPath(libcnb.CycloneDXJSON), dists, debs)
	}
	if rs.NoReuse {
		b.Logger.Bodyf("%s names local paths: reinstalling every build", rs.Source)
	}
	if err := os.RemoveAll(layer.Path); err != nil {
		return err
	}
	t := time.Now()
	if err := makeVenv(py, layerPython, pip.Target, layer.Path); err != nil {
		return err
	}
	if err := addSignals(layer.Path, py.MajorMinor, "site-packages"); err != nil { // for the venv's own interpreter (console scripts)
		return err
	}
	venvPython := filepath.Join(layer.Path, "bin", "python")
	if !rs.empty() {
		if err := b.installRequirements(py, rs, pip, layer.Path); err != nil {
			return err
		}
	}
	if err := b.removeTools(pip, venvPython, layer.Path, rs.Direct); err != nil {
		return err
	}
	debs, err := b.venvLibs(pip.Target, layer.Path, filepath.Join(filepath.Dir(filepath.Dir(layerPython)), "lib"))
	if err != nil {
		return err
	}
	if _, err := compileAll(pip.compiler(venvPython), filepath.Join(layer.Path, "lib"), "unchecked-hash", false); err != nil {
		return err
	}
	dists, err := installedDistributions(layer.Path)
	if err != nil {
		return err
	}
	var names []string
	for _, d := range dists {
		names = append(names, d.Name+" "+d.Version)
	}
	b.Logger.Bodyf("Installed %d distributions in %.1fs: %s", len(dists), time.Since(t).Seconds(), strings.Join(names, ", "))
	if err := writeDistributionsSBOM(layer.SBOMPath(libcnb.CycloneDXJSON), dists, debs); err != nil {
		return err
	}
	layer.Metadata = want
	return nil
}

// installRequirements installs rs (not empty) with pip into the venv at dir (py's), from rs.File
// or a requirements file written from rs.Lines; hash mismatches name the file that pins them.
func (b *Builder) installRequirements(py pythonInfo, rs requirementSet, pip pipRunner, dir string) error {
	file := rs.File
	if file == "" {
		tmp, err := os.MkdirTemp("", "distill-python-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		file = filepath.Join(tmp, "requirements.txt")
		if err := os.WriteFile(file, []byte(strings.Join(rs.Lines, "\n")+"\n"), 0o644); err != nil {
			return err
		}
	}
	args := []string{"-r", file}
	if rs.Locked {
		args = append(args, "--no-deps")
	}
	b.Logger.Bodyf("pip install %s (from %s)", strings.Join(args, " "), rs.Source)
	if pip.Target != nil {
		tags := pip.Target.Tags
		b.Logger.Bodyf("For %s: binary wheels only, for %s … %s (the build image's pip, into the venv's site-packages)",
			pip.Target.platform(), tags[0], strings.Join(tags[len(tags)-3:], ", "))
	}
	out, err := pip.install(filepath.Join(dir, "bin", "python"), sitePackages(dir, py), filepath.Join(dir, "bin"), args...)
	if err != nil {
		return hashMismatchHint(err, rs.Source)
	}
	b.logPip(out)
	return nil
}

// venvLibs copies into the venv's lib/ the shared libraries that installed extension modules
// load and neither run:base nor the cpython layer's lib/ provides (manylinux wheels may rely on
// the system's libstdc++, for example), and records their Debian packages in the layer. They
// come from the build image, or for a foreign target t from its root.
func (b *Builder) venvLibs(t *foreignTarget, venv, cpythonLib string) ([]*dpkg.Package, error) {
	var exts []string
	err := filepath.WalkDir(venv, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && (strings.HasSuffix(p, ".so") || strings.Contains(filepath.Base(p), ".so.")) {
			exts = append(exts, p)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing the extension modules in %s: %w", venv, err)
	}
	libs, err := sharedlib.NeededIn(t.root(), exts, func(soname string) bool {
		return sharedlib.RunBase(soname) || fileExists(filepath.Join(cpythonLib, soname))
	})
	if err != nil || len(libs) == 0 {
		return nil, err
	}
	if _, err := sharedlib.CopyInto(libs, filepath.Join(venv, "lib")); err != nil {
		return nil, err
	}
	b.Logger.Bodyf("Copied libraries the installed packages load and run:base lacks: %s", strings.Join(sharedlib.Sonames(libs), ", "))
	files := make([]dpkg.File, len(libs))
	for i, l := range libs {
		files[i] = dpkg.File{Src: l.Path, Dest: filepath.Join(venv, "lib", l.Soname)}
	}
	return recordDebianFiles(t.root(), venv, files)
}

// removeTools uninstalls pip, setuptools and wheel when they came in as dependencies only.
func (b *Builder) removeTools(pip pipRunner, venvPython, root string, direct []string) error {
	asked := map[string]bool{}
	for _, d := range direct {
		asked[d] = true
	}
	dists, err := installedDistributions(root)
	if err != nil {
		return err
	}
	var drop []string
	for _, d := range dists {
		n := normalize(d.Name)
		for _, t := range toolDists {
			if n == t && !asked[n] {
				drop = append(drop, n)
			}
		}
	}
	if len(drop) == 0 {
		return nil
	}
	b.Logger.Bodyf("Removing packaging tools from the image: %s", strings.Join(drop, ", "))
	if pip.Target != nil {
		return uninstallRecorded(root, drop)
	}
	_, err = pip.run(venvPython, append([]string{"uninstall", "--yes"}, drop...)...)
	return err
}

// project installs the app itself (a package) into the project layer, without dependencies
// (they are in the venv) unless the buildpack could not read them (setup.py only).
func (b *Builder) project(appDir string, py pythonInfo, venvPython string, rs requirementSet, pip pipRunner, layer *libcnb.Layer) error {
	if err := os.RemoveAll(layer.Path); err != nil {
		return err
	}
	if err := os.MkdirAll(layer.Path, 0o755); err != nil {
		return err
	}
	before := map[string]bool{}
	if entries, err := os.ReadDir(appDir); err == nil {
		for _, e := range entries {
			before[e.Name()] = true
		}
	}
	out, err := b.installProject(appDir, py, venvPython, rs, pip, layer.Path)
	if err != nil {
		return err
	}
	b.logPip(out)
	// Build leftovers pip's in-tree build wrote into the app (build/, *.egg-info).
	if entries, err := os.ReadDir(appDir); err == nil {
		for _, e := range entries {
			if !before[e.Name()] && (e.Name() == "build" || strings.HasSuffix(e.Name(), ".egg-info")) {
				os.RemoveAll(filepath.Join(appDir, e.Name()))
			}
		}
	}
	if _, err := compileAll(pip.compiler(venvPython), filepath.Join(layer.Path, "lib"), "unchecked-hash", false); err != nil {
		return err
	}
	site := sitePackages(layer.Path, py)
	layer.LayerTypes = libcnb.LayerTypes{Launch: true}
	layer.LaunchEnvironment.Prepend("PYTHONPATH", string(os.PathListSeparator), site)
	dists, err := installedDistributions(layer.Path)
	if err != nil {
		return err
	}
	layer.Metadata = map[string]interface{}{"python-version": py.Version.String()}
	return writeDistributionsSBOM(layer.SBOMPath(libcnb.CycloneDXJSON), dists, nil)
}

// installProject installs the app in appDir into the prefix dir (the project layer), without
// dependencies unless rs.ProjectDeps: natively with pip install --prefix; for a foreign target
// the build image's pip builds the app's wheel first and installs that for the target (a wheel
// with native code built here is for the build image's machine, and pip refuses it).
func (b *Builder) installProject(appDir string, py pythonInfo, venvPython string, rs requirementSet, pip pipRunner, dir string) ([]byte, error) {
	var deps []string
	if !rs.ProjectDeps {
		deps = []string{"--no-deps"}
	}
	if pip.Target == nil {
		args := append(append([]string{"--prefix", dir}, deps...), appDir)
		b.Logger.Bodyf("pip install %s", strings.Join(args, " "))
		return pip.install(venvPython, "", "", args...)
	}
	wheels, err := os.MkdirTemp("", "distill-wheel-")
	if err != nil {
		return nil, fmt.Errorf("building the app's wheel: %w", err)
	}
	defer os.RemoveAll(wheels)
	b.Logger.Bodyf("pip wheel --no-deps -w %s %s (the app's wheel, for %s)", wheels, appDir, pip.Target.platform())
	if _, err := pip.run("", "wheel", "--no-deps", "-w", wheels, appDir); err != nil {
		return nil, err
	}
	built, err := filepath.Glob(filepath.Join(wheels, "*.whl"))
	if err != nil || len(built) != 1 {
		return nil, fmt.Errorf("pip wheel %s wrote %d wheels into %s, want one (%v)", appDir, len(built), wheels, err)
	}
	args := append(deps, built[0])
	b.Logger.Bodyf("pip install %s", strings.Join(args, " "))
	return pip.install(venvPython, sitePackages(dir, py), filepath.Join(dir, "bin"), args...)
}

// logPip shows pip's summary line.
func (b *Builder) logPip(out []byte) {
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Successfully installed") || strings.HasPrefix(l, "WARNING") || strings.HasPrefix(l, "ERROR") {
			b.Logger.Body(strings.TrimSpace(l))
		}
	}
}

func sameMetadata(have map[string]interface{}, want map[string]interface{}) bool {
	if have == nil {
		return false
	}
	for k, v := range want {
		if fmt.Sprint(have[k]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// shellJoin renders args for the log, quoting those with spaces.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'$\\") {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}
