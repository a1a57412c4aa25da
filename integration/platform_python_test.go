package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/integration/pyindex"
	"github.com/distill-build/distill/internal/testenv"
)

// amd64OnlyNative is a distribution with an extension module whose wheel the two-platform index
// has for amd64 only: an arm64 build that asks for it has no wheel to install.
const amd64OnlyNative = "python3-psutil"

// pythonIndexBoth serves one index with the test wheels of amd64 and arm64 (pure wheels once)
// plus psutil for amd64 only.
func pythonIndexBoth(t *testing.T) *pyindex.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	sets := []pyindex.Set{
		{Arch: "amd64", Packages: append([]string{amd64OnlyNative}, pyindex.DebianPackages...)},
		{Arch: "arm64", Packages: pyindex.DebianPackages},
	}
	dir, err := pyindex.EnsureSets(ctx, filepath.Join(repoRoot, ".cache", "pyindex"), sets, t.Logf)
	if err != nil {
		t.Fatalf("building the two-platform test wheel index: %v", err)
	}
	s, err := pyindex.Serve(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPythonAppMultiPlatform builds a Flask app that is a package (pyproject.toml with a console
// script) for linux/amd64 and linux/arm64 in one run: one image index, every ELF file of each
// image for its architecture (CPython from the target's Debian packages, the wheels' extension
// modules, the copied libraries); the arm64 app answers HTTP under qemu-aarch64-static. An
// arm64 build of an app needing a native distribution without an aarch64 wheel fails, naming it.
func TestPythonAppMultiPlatform(t *testing.T) {
	testenv.Slow(t, "an integration test: builds a Python app for two platforms, runs the arm64 one under qemu")
	harness.RequireTools(t)
	qemu := testenv.NeedCommand(t, "qemu-aarch64-static", "scripts/setup installs qemu-user-static")
	idx := pythonIndexBoth(t)
	app := copyApp(t, "integration/testdata/python/pyproject")
	out := filepath.Join(t.TempDir(), "image")
	start := time.Now()
	b := pyBuild(t, idx, app, out, filepath.Join(t.TempDir(), "cache"), "--platform", "linux/amd64,linux/arm64").must(t)
	t.Logf("built both platforms in %.1fs:\n%s\n%s", time.Since(start).Seconds(), b.stderr, b.stdout)
	checkLog(t, b, "manylinux_2_17_aarch64, manylinux2014_aarch64, linux_aarch64", "pip wheel --no-deps")
	images := checkIndex(t, layoutIndex(t, out))
	checkPlatformReport(t, b.stdout, b.reportJSON, images)
	for arch, img := range images {
		t.Run("ELF files are "+arch, func(t *testing.T) {
			elves := checkELFs(t, img, wantMachine[arch], t.TempDir())
			triplet := map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}[arch]
			for _, p := range []string{
				"/layers/distill_python/cpython/bin/python3.13",
				"/layers/distill_python/cpython/lib/python3.13/lib-dynload/_ssl.cpython-313-" + triplet + ".so",
				"/layers/distill_python/cpython/lib/libssl.so.3",
				"/layers/distill_python/venv/lib/python3.13/site-packages/markupsafe/_speedups.cpython-313-" + triplet + ".so",
			} {
				if elves[p] == "" {
					t.Errorf("the %s image has no ELF file %s", arch, p)
				}
			}
		})
	}
	t.Run("arm64 app answers under qemu", func(t *testing.T) {
		root := extractImage(t, images["arm64"])
		for _, pkg := range []string{"python3.13-minimal", "libpython3.13-stdlib", "libssl3t64"} {
			rec, err := os.ReadFile(filepath.Join(root, "layers/distill_python/cpython/var/lib/dpkg/status.d", pkg))
			if err != nil || !strings.Contains(string(rec), "\nArchitecture: arm64\n") {
				t.Errorf("the cpython layer's dpkg record of %s is not arm64's: %v\n%s", pkg, err, rec)
			}
		}
		if script, err := os.ReadFile(filepath.Join(root, "layers/distill_python/venv/bin/flask")); err != nil ||
			!strings.HasPrefix(string(script), "#!/layers/distill_python/venv/bin/python\n") {
			t.Errorf("the venv's flask script does not run the venv's python: %v\n%.80s", err, script)
		}
		argv, env := qemuProcess(t, qemu, root, images["arm64"])
		check := append(append(slices.Clone(env), argv[:len(argv)-1]...), "-c", "import markupsafe._speedups, ssl")
		if out, err := exec.Command("env", check...).CombinedOutput(); err != nil {
			t.Errorf("the arm64 CPython does not import markupsafe's extension module and ssl: %v\n%s", err, out)
		}
		body := serveWith(t, append(append([]string{"env"}, env...), argv...), "/")
		if !strings.Contains(body, "hello from a pyproject.toml project") {
			t.Errorf("GET / = %q", body)
		}
	})
	t.Run("arm64 without a wheel for a native dependency", func(t *testing.T) {
		app := filepath.Join(t.TempDir(), "psutil-app")
		testenv.WriteFiles(t, app, map[string]string{"requirements.txt": "psutil\nflask\n", "main.py": "import psutil\n"})
		b := pyBuild(t, idx, app, filepath.Join(t.TempDir(), "image"), filepath.Join(t.TempDir(), "cache"), "--platform", "linux/arm64")
		if b.err == nil {
			t.Fatalf("built for linux/arm64 without an aarch64 psutil:\n%s", b.stdout)
		}
		checkLog(t, b, "psutil has no wheel for linux/arm64", "manylinux aarch64 wheels", "--platform linux/amd64")
	})
}

// qemuProcess is the image's default process as the launcher would start it, run under
// qemu with root (the extracted image) as its file system prefix: the argv (the process's
// script run by the interpreter its shebang names, as the kernel would with binfmt) and the
// environment the launcher adds (each launch layer's bin and lib, its env.launch files).
func qemuProcess(t *testing.T, qemu, root string, img v1.Image) (argv, env []string) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		Processes []struct {
			Type    string   `json:"type"`
			Command []string `json:"command"`
			Args    []string `json:"args"`
		} `json:"processes"`
	}
	if err := json.Unmarshal([]byte(cf.Config.Labels["io.buildpacks.build.metadata"]), &md); err != nil {
		t.Fatalf("the image's build metadata: %v", err)
	}
	var cmd []string
	for _, p := range md.Processes {
		if p.Type == "web" {
			cmd = append(append(cmd, p.Command...), p.Args...)
		}
	}
	if len(cmd) == 0 {
		t.Fatalf("the image has no web process: %+v", md.Processes)
	}
	script, err := os.ReadFile(filepath.Join(root, cmd[0]))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(script), "\n")
	interp := strings.TrimPrefix(first, "#!")
	if interp == first || !strings.HasPrefix(interp, "/layers/distill_python/venv/bin/python") {
		t.Fatalf("%s's shebang is %q, want the venv's python", cmd[0], first)
	}
	exe := resolveUnder(t, root, interp)
	argv = append([]string{qemu, "-L", root, "-0", interp, exe}, cmd...)
	return argv, launchEnv(t, root)
}

// resolveUnder is the host path of the file p (a path in the image) names in root, an
// image extracted by extractImage (whose absolute symbolic links point into root).
func resolveUnder(t *testing.T, root, p string) string {
	t.Helper()
	file, err := filepath.EvalSymlinks(filepath.Join(root, p))
	if err != nil {
		t.Fatalf("%s in the image: %v", p, err)
	}
	return file
}

// launchEnv is the environment the CNB launcher gives a process of the image at root: PATH
// and LD_LIBRARY_PATH with each launch layer's bin and lib, and the layers' env.launch files
// (NAME.default, NAME.override, NAME.prepend with NAME.delim), as NAME=value pairs.
func launchEnv(t *testing.T, root string) []string {
	t.Helper()
	layers, err := filepath.Glob(filepath.Join(root, "layers", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{"PATH": "/usr/bin:/bin"}
	for _, l := range layers {
		for dir, name := range map[string]string{"bin": "PATH", "lib": "LD_LIBRARY_PATH"} {
			if st, err := os.Stat(filepath.Join(l, dir)); err == nil && st.IsDir() {
				vals[name] = strings.TrimSuffix(strings.TrimPrefix(l, root)+"/"+dir+":"+vals[name], ":")
			}
		}
		files, _ := filepath.Glob(filepath.Join(l, "env.launch", "*"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				continue // a process-specific directory
			}
			name, op, _ := strings.Cut(filepath.Base(f), ".")
			switch op {
			case "default", "override", "":
				vals[name] = string(data)
			case "prepend":
				delim, _ := os.ReadFile(filepath.Join(l, "env.launch", name+".delim"))
				vals[name] = strings.TrimSuffix(string(data)+string(delim)+vals[name], string(delim))
			}
		}
	}
	var env []string
	for k, v := range vals {
		env = append(env, fmt.Sprintf("%s=%s", k, v))
	}
	return env
}
