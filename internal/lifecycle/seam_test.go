package lifecycle

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/internal/cnbmeta"

	"github.com/BurntSushi/toml"

	"github.com/distill-build/distill/internal/buildpack"
)

// The tests in this file drive lifecycle.Build through sandbox.Runner with
// fakeRunner: every phase is real except the modules' binaries, which are Go
// functions reading and writing the files the CNB spec gives them.

// modules makes a fake buildpack for each id.
func modules(t *testing.T, ids ...string) map[string]*buildpack.Descriptor {
	t.Helper()
	out := map[string]*buildpack.Descriptor{}
	for _, id := range ids {
		out[id] = fakeModule(t, id, false)
	}
	return out
}

// list is mods in the order of ids.
func list(mods map[string]*buildpack.Descriptor, ids ...string) []*buildpack.Descriptor {
	var out []*buildpack.Descriptor
	for _, id := range ids {
		out = append(out, mods[id])
	}
	return out
}

// TestSeamBuild takes an app through every phase with two buildpacks: a
// plan entry one provides and the other requires (with metadata), layers of
// each kind, an SBOM, a process and a label, onto the default run image.
func TestSeamBuild(t *testing.T) {
	start := time.Now()
	mods := modules(t, "test/runtime", "test/app")
	rt, app := mods["test/runtime"], mods["test/app"]
	s := newSeam(t, list(mods, "test/runtime", "test/app"), nil)
	s.opts.Order = buildpack.Order{group("test/runtime", "test/app")}
	r := s.runner
	r.on(rt, "detect", passWith("[[provides]]\nname = \"runtime\"\n"))
	r.on(app, "detect", func(c *fakeCall) error {
		if _, err := c.read(c.path("CNB_APP_DIR", "app.txt")); err != nil {
			return exitCode(detectExitFail)
		}
		return c.write(c.env["CNB_BUILD_PLAN_PATH"], "[[requires]]\nname = \"runtime\"\n[requires.metadata]\nversion = \"1.2\"\n")
	})
	var plan string
	r.on(rt, "build", func(c *fakeCall) (err error) {
		if plan, err = c.read(c.env["CNB_BP_PLAN_PATH"]); err != nil {
			return err
		}
		return c.writeAll("CNB_LAYERS_DIR", map[string]string{
			"runtime.toml":                    "[types]\nlaunch = true\nbuild = true\n[metadata]\nversion = \"1.2\"\n",
			"runtime/bin/runtime":             "#!runtime",
			"runtime/env.launch/RUNTIME_HOME": "/layers/test_runtime/runtime",
			"runtime.sbom.cdx.json":           `{"bomFormat":"CycloneDX"}`,
			"cache.toml":                      "[types]\ncache = true\n",
			"cache/downloads":                 "cached",
			"tools.toml":                      "[types]\nbuild = true\n",
			"tools/bin/compile":               "#!compile",
		})
	})
	var appPath string
	r.on(app, "build", func(c *fakeCall) error {
		appPath = c.env["PATH"]
		if err := c.write(c.path("CNB_APP_DIR", "built.txt"), "built"); err != nil {
			return err
		}
		return c.write(c.path("CNB_LAYERS_DIR", "launch.toml"), "[[processes]]\ntype = \"web\"\ncommand = [\"runtime\", \"app.txt\"]\n"+
			"default = true\n[[labels]]\nkey = \"org.example.app\"\nvalue = \"yes\"\n")
	})

	res, err := s.build(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.phases("build"); !slices.Equal(got, []string{"test/runtime", "test/app"}) {
		t.Errorf("builds ran %v, want test/runtime then test/app", got)
	}
	if !strings.Contains(plan, `name = "runtime"`) || !strings.Contains(plan, `version = "1.2"`) {
		t.Errorf("test/runtime's plan lacks the entry test/app required:\n%s", plan)
	}
	if want := "/layers/test_runtime/tools/bin:/layers/test_runtime/runtime/bin:/usr/bin:/bin"; appPath != want {
		t.Errorf("test/app ran with PATH=%s, want %s (the build layers' bin/, newest first)", appPath, want)
	}
	if res.RunImage != "test/run:base" || !slices.Equal(s.fetched, []string{"test/run:base"}) {
		t.Errorf("run image %s (fetched %v), want the default test/run:base", res.RunImage, s.fetched)
	}
	checkSeamImage(t, res)
	t.Logf("lifecycle.Build through the fake runner: %v", time.Since(start))
}

// checkSeamImage checks TestSeamBuild's image: the launch layer, SBOM and
// app are in it, the cache and build-only layers are not, and the config
// carries the launch env, the process and the label.
func checkSeamImage(t *testing.T, res *Result) {
	t.Helper()
	files := imageFiles(t, res.Image)
	for name, want := range map[string]string{
		"layers/test_runtime/runtime/bin/runtime":               "#!runtime",
		"layers/sbom/launch/test_runtime/runtime/sbom.cdx.json": `{"bomFormat":"CycloneDX"}`,
		"workspace/app.txt":                                     "source",
		"workspace/built.txt":                                   "built",
	} {
		if files[name] != want {
			t.Errorf("image file %s = %q, want %q", name, files[name], want)
		}
	}
	for _, name := range []string{"layers/test_runtime/cache/downloads", "layers/test_runtime/tools/bin/compile"} {
		if _, ok := files[name]; ok {
			t.Errorf("%s is in the image: only launch layers are exported", name)
		}
	}
	cf, err := res.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg := cf.Config
	if !slices.Equal(cfg.Entrypoint, []string{"runtime", "app.txt"}) {
		t.Errorf("entrypoint %q, want the web process", cfg.Entrypoint)
	}
	if !slices.Contains(cfg.Env, "RUNTIME_HOME=/layers/test_runtime/runtime") || !slices.Contains(cfg.Env, "RUN_IMAGE_VAR=run") {
		t.Errorf("config env %q lacks the launch layer's or the run image's", cfg.Env)
	}
	if cfg.Labels["org.example.app"] != "yes" {
		t.Errorf("labels %v lack the buildpack's", cfg.Labels)
	}
	var bm struct {
		Processes []buildpack.Process `json:"processes"`
	}
	if err := json.Unmarshal([]byte(cfg.Labels[cnbmeta.LabelBuildMetadata]), &bm); err != nil || len(bm.Processes) != 1 || bm.Processes[0].BuildpackID != "test/app" {
		t.Errorf("%s = %s (%v), want test/app's web process", cnbmeta.LabelBuildMetadata, cfg.Labels[cnbmeta.LabelBuildMetadata], err)
	}
}

// TestSeamGroups: detect tries the order's groups in turn; the first group
// whose required members pass and whose plan resolves is built. A buildpack
// whose detect is not given passes alone (it provides and requires its id).
func TestSeamGroups(t *testing.T) {
	const noGroupText = "no buildpack group passed detection; this source tree is not an app the builder knows:\n" +
		"  test/a@1.0 (fail)\n    a: no a.txt\n" +
		"  test/c@1.0 (error: /cnb/buildpacks/test_c/1.0/bin/detect: exit status 1)\n    c crashed"
	requireMissing := passWith("[[requires]]\nname = \"missing\"\n")
	for _, tc := range []struct {
		name      string
		order     buildpack.Order
		detect    map[string]phaseFunc
		wantBuilt []string
		wantErr   string // the whole error text, or with wantPart, a part of it
		wantPart  bool
		detectsA  int // times test/a's detect runs, when not 0
	}{
		{name: "first group passes", order: buildpack.Order{group("test/a"), group("test/b")}, wantBuilt: []string{"test/a"}},
		{name: "a failing member skips the group", order: buildpack.Order{group("test/a", "test/b"), group("test/c")},
			detect: map[string]phaseFunc{"test/b": failDetect("no b")}, wantBuilt: []string{"test/c"}},
		{name: "a failing optional member is dropped", order: buildpack.Order{group("test/a?", "test/b")},
			detect: map[string]phaseFunc{"test/a": failDetect("no a")}, wantBuilt: []string{"test/b"}},
		{name: "a passing optional member is kept", order: buildpack.Order{group("test/a?", "test/b")}, wantBuilt: []string{"test/a", "test/b"}},
		{name: "an optional member with an unmet plan is dropped", order: buildpack.Order{group("test/a?", "test/b")},
			detect: map[string]phaseFunc{"test/a": requireMissing}, wantBuilt: []string{"test/b"}},
		{name: "an unresolvable plan skips the group", order: buildpack.Order{group("test/a"), group("test/b")},
			detect: map[string]phaseFunc{"test/a": requireMissing}, wantBuilt: []string{"test/b"}},
		{name: "a buildpack in two groups detects once", order: buildpack.Order{group("test/a", "test/b"), group("test/a", "test/c")},
			detect: map[string]phaseFunc{"test/b": failDetect("no b")}, wantBuilt: []string{"test/a", "test/c"}, detectsA: 1},
		{name: "no group passes", order: buildpack.Order{group("test/a", "test/b"), group("test/c")},
			detect:  map[string]phaseFunc{"test/a": failDetect("a: no a.txt"), "test/c": func(*fakeCall) error { return fmt.Errorf("c crashed") }},
			wantErr: noGroupText},
		{name: "a malformed plan is a detect error", order: buildpack.Order{group("test/a")},
			detect: map[string]phaseFunc{"test/a": passWith("[[provides]\n")}, wantPart: true,
			wantErr: "\n  test/a@1.0 (error: reading the build plan it wrote: "},
		{name: "an unknown buildpack", order: buildpack.Order{group("test/nope")}, wantPart: true,
			wantErr: "order names buildpack test/nope@, which the builder does not have"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids := []string{"test/a", "test/b", "test/c"}
			mods := modules(t, ids...)
			s := newSeam(t, list(mods, ids...), nil)
			s.opts.Order = tc.order
			for _, id := range ids {
				detect := passWith(selfPlan(id))
				if fn, ok := tc.detect[id]; ok {
					detect = fn
				}
				s.runner.on(mods[id], "detect", detect)
				s.runner.on(mods[id], "build", func(*fakeCall) error { return nil })
			}
			_, err := s.build(t)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("built %v, want the error %q", s.runner.phases("build"), tc.wantErr)
			case tc.wantErr != "" && !tc.wantPart && err.Error() != tc.wantErr:
				t.Fatalf("error:\n%s\nwant:\n%s", err, tc.wantErr)
			case tc.wantPart && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q lacks %q", err, tc.wantErr)
			}
			if got := s.runner.phases("build"); !slices.Equal(got, tc.wantBuilt) {
				t.Errorf("built %v, want %v", got, tc.wantBuilt)
			}
			detectsA := 0
			for _, id := range s.runner.phases("detect") {
				if id == "test/a" {
					detectsA++
				}
			}
			if tc.detectsA != 0 && detectsA != tc.detectsA {
				t.Errorf("test/a detected %d times, want %d", detectsA, tc.detectsA)
			}
		})
	}
}

// unset marks a variable that must not be in an environment.
const unset = "<unset>"

// TestSeamEnv: a build layer's bin/, lib/, env/ and env.build/ reach the
// buildpacks after it, as the spec's suffixes say; a launch layer's bin/,
// env/ and env.launch/ reach the image. The user's build env reaches every
// buildpack (as a variable and as a platform file) and never the image.
func TestSeamEnv(t *testing.T) {
	mods := modules(t, "test/a", "test/b")
	s := newSeam(t, list(mods, "test/a", "test/b"), nil)
	s.opts.Order = buildpack.Order{group("test/a", "test/b")}
	s.opts.BuildEnv = append(s.opts.BuildEnv, "OVERRIDE=image", "APPEND=image", "PREPEND=image", "NODELIM=a", "DEFAULT_SET=image")
	seen := map[string]buildpack.Env{}
	platformFile := ""
	for _, id := range []string{"test/a", "test/b"} {
		s.runner.on(mods[id], "detect", passWith(selfPlan(id)))
	}
	s.runner.on(mods["test/a"], "build", func(c *fakeCall) error {
		seen["test/a"] = c.env
		return c.writeAll("CNB_LAYERS_DIR", map[string]string{
			"tools.toml": "[types]\nbuild = true\nlaunch = true\n", "tools/bin/tool": "", "tools/lib/libtool.so": "",
			"tools/env/OVERRIDE.override": "layer", "tools/env/PLAIN": "plain",
			"tools/env/APPEND.append": "layer", "tools/env/APPEND.delim": ":",
			"tools/env/PREPEND.prepend": "layer", "tools/env/PREPEND.delim": ":", "tools/env/NODELIM.append": "b",
			"tools/env/DEFAULT_SET.default": "layer", "tools/env/DEFAULT_UNSET.default": "layer",
			"tools/env.build/BUILD_ONLY": "build", "tools/env.launch/LAUNCH_ONLY": "launch",
			"hidden.toml": "[types]\nlaunch = true\n", "hidden/env/HIDDEN": "launch only",
		})
	})
	s.runner.on(mods["test/b"], "build", func(c *fakeCall) (err error) {
		seen["test/b"] = c.env
		platformFile, err = c.read(c.path("CNB_PLATFORM_DIR", "env", "USER_VAR"))
		return err
	})
	res, err := s.build(t)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := res.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	launch := buildpack.NewEnv(cf.Config.Env)
	for _, tc := range []struct {
		name, build, launch string // in test/b's build env and in the image's
	}{
		{"OVERRIDE", "layer", "layer"},
		{"PLAIN", "plain", "plain"},
		{"APPEND", "image:layer", "layer"},
		{"PREPEND", "layer:image", "layer"},
		{"NODELIM", "ab", "b"},
		{"DEFAULT_SET", "image", "layer"},
		{"DEFAULT_UNSET", "layer", "layer"},
		{"BUILD_ONLY", "build", unset},
		{"LAUNCH_ONLY", unset, "launch"},
		{"HIDDEN", unset, "launch only"},
		{"PATH", "/layers/test_a/tools/bin:/usr/bin:/bin", "/layers/test_a/tools/bin:/usr/bin:/bin"},
		{"LD_LIBRARY_PATH", "/layers/test_a/tools/lib", "/layers/test_a/tools/lib"},
		{"LIBRARY_PATH", "/layers/test_a/tools/lib", unset},
		{"USER_VAR", "from --env", unset},
		{"RUN_IMAGE_VAR", unset, "run"},
		{ExtensionsOptIn, "true", unset},
		{"CNB_LAYERS_DIR", "/layers/test_b", "/layers"},
		{"CNB_PLATFORM_DIR", "/platform", unset},
		{"CNB_BP_PLAN_PATH", "/cnb/plan/build-test_b.toml", unset},
		{"CNB_TARGET_OS", "linux", unset},
	} {
		if got := lookup(seen["test/b"], tc.name); got != tc.build {
			t.Errorf("test/b's build env: %s = %q, want %q", tc.name, got, tc.build)
		}
		if got := lookup(launch, tc.name); got != tc.launch {
			t.Errorf("image env: %s = %q, want %q", tc.name, got, tc.launch)
		}
	}
	if got := lookup(seen["test/a"], "PLAIN"); got != unset {
		t.Errorf("test/a saw its own layer's env (PLAIN=%q): a layer's env reaches only later buildpacks", got)
	}
	if platformFile != "from --env" {
		t.Errorf("/platform/env/USER_VAR = %q, want the user's value", platformFile)
	}
}

func lookup(env buildpack.Env, name string) string {
	if v, ok := env[name]; ok {
		return v
	}
	return unset
}

// TestSeamProcesses: a later buildpack's process of a type replaces the
// earlier one; the last process marked default is the entrypoint, else web,
// else the only process (as the lifecycle's builder decides).
func TestSeamProcesses(t *testing.T) {
	proc := func(typ, cmd string, extra ...string) string {
		return fmt.Sprintf("[[processes]]\ntype = %q\ncommand = [%q]\n%s\n", typ, cmd, strings.Join(extra, "\n"))
	}
	for _, tc := range []struct {
		name           string
		a, b           string // launch.toml of test/a and test/b
		want           []string
		wantEntrypoint []string
		wantCmd        []string
	}{
		{name: "a later process of a type wins", a: proc("web", "a-web"), b: proc("web", "b-web"),
			want: []string{"web test/b b-web"}, wantEntrypoint: []string{"b-web"}},
		{name: "types of both kept, web is the default", a: proc("worker", "a-worker"), b: proc("web", "b-web"),
			want: []string{"worker test/a a-worker", "web test/b b-web"}, wantEntrypoint: []string{"b-web"}},
		{name: "a process marked default beats web", a: proc("web", "a-web"), b: proc("worker", "b-worker", "default = true"),
			want: []string{"web test/a a-web", "worker test/b b-worker"}, wantEntrypoint: []string{"b-worker"}},
		{name: "the last default wins", a: proc("web", "a-web", "default = true"), b: proc("worker", "b-worker", "default = true"),
			want: []string{"web test/a a-web", "worker test/b b-worker"}, wantEntrypoint: []string{"b-worker"}},
		{name: "an override not marked default is not the default",
			a: proc("worker", "a-worker", "default = true") + proc("web", "a-web"), b: proc("worker", "b-worker"),
			want: []string{"worker test/b b-worker", "web test/a a-web"}, wantEntrypoint: []string{"a-web"}},
		{name: "the only process is the default", a: proc("worker", "a-worker"),
			want: []string{"worker test/a a-worker"}, wantEntrypoint: []string{"a-worker"}},
		{name: "no default among several", a: proc("worker", "a-worker"), b: proc("cron", "b-cron"),
			want: []string{"worker test/a a-worker", "cron test/b b-cron"}},
		{name: "args become the command", a: proc("web", "srv", `args = ["--port", "8080"]`),
			want: []string{"web test/a srv"}, wantEntrypoint: []string{"srv"}, wantCmd: []string{"--port", "8080"}},
		{name: "a shell process runs through sh", a: proc("web", "echo hi", `args = ["there"]`, "direct = false"),
			want: []string{"web test/a echo hi"}, wantEntrypoint: []string{"/bin/sh", "-c", "echo hi there"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mods := modules(t, "test/a", "test/b")
			s := newSeam(t, list(mods, "test/a", "test/b"), nil)
			s.opts.Order = buildpack.Order{group("test/a", "test/b")}
			for id, launch := range map[string]string{"test/a": tc.a, "test/b": tc.b} {
				s.runner.on(mods[id], "detect", passWith(selfPlan(id)))
				s.runner.on(mods[id], "build", func(c *fakeCall) error {
					return c.write(c.path("CNB_LAYERS_DIR", "launch.toml"), launch)
				})
			}
			res, err := s.build(t)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range res.Processes {
				got = append(got, p.Type+" "+p.BuildpackID+" "+strings.Join(p.Command, " "))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("processes %q, want %q", got, tc.want)
			}
			cf, err := res.Image.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cf.Config.Entrypoint, tc.wantEntrypoint) || !slices.Equal(cf.Config.Cmd, tc.wantCmd) {
				t.Errorf("entrypoint %q cmd %q, want %q %q", cf.Config.Entrypoint, cf.Config.Cmd, tc.wantEntrypoint, tc.wantCmd)
			}
		})
	}
}

// staticGenerate is distill/run-static's bin/generate: the first image of
// run.toml (CNB_RUN_PATH) with the tag extension.toml's [metadata]
// static-tag names, as a one-line run.Dockerfile in CNB_OUTPUT_DIR.
func staticGenerate(c *fakeCall) error {
	var ext struct {
		Metadata struct {
			StaticTag string `toml:"static-tag"`
		} `toml:"metadata"`
	}
	var run runTOML
	for p, v := range map[string]any{c.path("CNB_EXTENSION_DIR", "extension.toml"): &ext, c.env["CNB_RUN_PATH"]: &run} {
		data, err := c.read(p)
		if err != nil {
			return err
		}
		if _, err := toml.Decode(data, v); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	if len(run.Images) == 0 {
		return fmt.Errorf("run.toml lists no image")
	}
	repo, _, _ := strings.Cut(run.Images[0].Image, ":")
	return c.write(c.path("CNB_OUTPUT_DIR", "run.Dockerfile"), "FROM "+repo+":"+ext.Metadata.StaticTag+"\n")
}

// TestSeamRunImage: extensions that pass detect run bin/generate in order; a
// run.Dockerfile's FROM switches the run image (the last switch wins),
// FROM ${base_image} keeps it, and anything that would extend an image is
// refused.
func TestSeamRunImage(t *testing.T) {
	dockerfile := func(content string) phaseFunc {
		return func(c *fakeCall) error { return c.write(c.path("CNB_OUTPUT_DIR", "run.Dockerfile"), content) }
	}
	for _, tc := range []struct {
		name          string
		optIn         string    // BP_RUN_IMAGE_EXTENSIONS from the user, "" for the platform's default
		other         phaseFunc // bin/generate of test/other, after test/static; nil: not in the order
		wantRun       string    // the run image of the result
		wantGenerated []string  // extensions whose generate ran
		wantErr       string
	}{
		{name: "the extension switches the run image", wantRun: "test/run:static", wantGenerated: []string{"test/static"}},
		{name: "an extension that does not detect does not generate", optIn: "false", wantRun: "test/run:base"},
		{name: "the last switch wins", other: dockerfile("FROM test/run:other\n"), wantRun: "test/run:other",
			wantGenerated: []string{"test/static", "test/other"}},
		{name: "FROM base_image keeps the image chosen before", other: dockerfile("ARG base_image\nFROM ${base_image}\n"),
			wantRun: "test/run:static", wantGenerated: []string{"test/static", "test/other"}},
		{name: "RUN is refused", other: dockerfile("FROM test/run:other\nRUN apt-get install -y curl\n"),
			wantErr: "extension test/other@1.0: %OUT%/test_other/run.Dockerfile:2: RUN is not supported"},
		{name: "a build.Dockerfile is refused",
			other: func(c *fakeCall) error {
				return c.write(c.path("CNB_OUTPUT_DIR", "build.Dockerfile"), "FROM x\nRUN true\n")
			},
			wantErr: "extension test/other@1.0 wrote a build.Dockerfile: distill supports run image switches only"},
		{name: "a failing generate fails the build", other: func(*fakeCall) error { return fmt.Errorf("no network") },
			wantErr: "extension test/other@1.0 failed in bin/generate (exit status 1): its output above says why"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			static, other := fakeModule(t, "test/static", true), fakeModule(t, "test/other", true)
			bps := modules(t, "test/app")
			s := newSeam(t, list(bps, "test/app"), []*buildpack.Descriptor{static, other})
			s.opts.Order = buildpack.Order{group("test/app")}
			s.opts.OrderExtensions = buildpack.Order{group("test/static")}
			if tc.optIn != "" {
				s.opts.Env[ExtensionsOptIn] = tc.optIn
			}
			r := s.runner
			r.on(bps["test/app"], "detect", passWith(selfPlan("app")))
			r.on(bps["test/app"], "build", func(*fakeCall) error { return nil })
			r.on(static, "detect", func(c *fakeCall) error {
				if c.env[ExtensionsOptIn] != "true" {
					return failDetect(ExtensionsOptIn + " is not true")(c)
				}
				return nil
			})
			r.on(static, "generate", staticGenerate)
			if tc.other != nil {
				s.opts.OrderExtensions = buildpack.Order{group("test/static", "test/other")}
				r.on(other, "detect", func(*fakeCall) error { return nil })
				r.on(other, "generate", tc.other)
			}
			res, err := s.build(t)
			if tc.wantErr != "" {
				checkParts(t, err, tc.wantErr)
				if len(s.fetched) != 0 {
					t.Errorf("a refused build fetched run images %v", s.fetched)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.RunImage != tc.wantRun || !slices.Equal(s.fetched, []string{tc.wantRun}) {
				t.Errorf("run image %s (fetched %v), want %s", res.RunImage, s.fetched, tc.wantRun)
			}
			if got := r.phases("generate"); !slices.Equal(got, tc.wantGenerated) {
				t.Errorf("generate ran for %v, want %v", got, tc.wantGenerated)
			}
		})
	}
}

// checkParts checks that err holds the parts of want around each %OUT%
// (the build's output directory, a temporary path), in order.
func checkParts(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	rest := err.Error()
	for _, part := range strings.Split(want, "%OUT%") {
		i := strings.Index(rest, part)
		if i < 0 {
			t.Fatalf("error %q lacks %q (want %q)", err, part, want)
		}
		rest = rest[i+len(part):]
	}
}

// TestSeamReadOnly: the platform directory and the modules are mounted
// read-only, so a buildpack that writes there fails the build, naming it.
func TestSeamReadOnly(t *testing.T) {
	for _, dirVar := range []string{"CNB_PLATFORM_DIR", "CNB_BUILDPACK_DIR"} {
		t.Run(dirVar, func(t *testing.T) {
			mods := modules(t, "test/a")
			s := newSeam(t, list(mods, "test/a"), nil)
			s.opts.Order = buildpack.Order{group("test/a")}
			s.runner.on(mods["test/a"], "detect", passWith(selfPlan("a")))
			s.runner.on(mods["test/a"], "build", func(c *fakeCall) error { return c.write(c.path(dirVar, "x"), "x") })
			_, err := s.build(t)
			checkParts(t, err, "buildpack test/a@1.0 failed in bin/build (exit status 1): its output above says why (its /workspace is the app directory /")
		})
	}
}
