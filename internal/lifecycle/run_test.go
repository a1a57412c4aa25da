package lifecycle

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/sandbox"
)

// shellBuildpack writes a buildpack whose bin/detect and bin/build are
// /bin/sh scripts: detect provides and requires "shell"; build writes a
// launch layer "app" recording the paths it was given, a file in the app
// and a web process.
func shellBuildpack(t *testing.T) *buildpack.Descriptor {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "shell")
	files := map[string]string{
		"buildpack.toml": "api = \"0.10\"\n[buildpack]\nid = \"test/shell\"\nversion = \"1.0\"\n",
		"bin/detect": `#!/bin/sh
test -f "$CNB_APP_DIR/app.txt" || exit 100
printf '[[provides]]\nname = "shell"\n[[requires]]\nname = "shell"\n' > "$CNB_BUILD_PLAN_PATH"
`,
		"bin/build": `#!/bin/sh
set -e
mkdir -p "$CNB_LAYERS_DIR/app"
printf 'layers=%s\napp=%s\nplatform=%s\ngreeting=%s\nhome-private=%s\n' "$CNB_LAYERS_DIR" "$CNB_APP_DIR" "$CNB_PLATFORM_DIR" \
  "$(cat "$CNB_PLATFORM_DIR/env/GREETING")" "$(test "$HOME" != /home/cnb && echo yes)" > "$CNB_LAYERS_DIR/app/paths"
printf '[types]\nlaunch = true\n' > "$CNB_LAYERS_DIR/app.toml"
printf '[[processes]]\ntype = "web"\ncommand = ["%s/app/paths"]\ndefault = true\n' "$CNB_LAYERS_DIR" > "$CNB_LAYERS_DIR/launch.toml"
echo built > "$CNB_APP_DIR/built.txt"
`,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d, err := buildpack.ReadDescriptor(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// recorder is a sandbox.Runner that records every process and hands it to
// next, or answers exit 100 (detect fails) when next is nil.
type recorder struct {
	next  sandbox.Runner
	mu    sync.Mutex
	procs []sandbox.Process
}

func (r *recorder) Run(ctx context.Context, p sandbox.Process) error {
	r.mu.Lock()
	r.procs = append(r.procs, p)
	r.mu.Unlock()
	if r.next == nil {
		return &sandbox.ExitError{Args: p.Args, Code: detectExitFail}
	}
	return r.next.Run(ctx, p)
}

// buildOptions are Options for the shell buildpack on app, run as the current user.
func buildOptions(t *testing.T, bp *buildpack.Descriptor, app string, layout Layout, runner sandbox.Runner) Options {
	run, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		AppDir: app, Modules: Modules{Buildpacks: []*buildpack.Descriptor{bp}},
		Order:    buildpack.Order{{Group: []buildpack.Ref{{ID: "test/shell"}}}},
		BuildEnv: []string{"PATH=/usr/bin:/bin", "HOME=/home/cnb"}, Runner: runner, Layout: layout,
		UID: os.Getuid(), GID: os.Getgid(), Env: map[string]string{"GREETING": "hi"},
		RunImages:    []string{"test/run:latest"},
		ResolveImage: func(context.Context, string) (v1.Image, error) { return run, nil },
	}
}

func sampleApp(t *testing.T) string {
	t.Helper()
	app := t.TempDir()
	if err := os.WriteFile(filepath.Join(app, "app.txt"), []byte("source"), 0o644); err != nil {
		t.Fatal(err)
	}
	return app
}

// inPlaceRoot is a stand-in for the build image's root: workspace, layers
// and platform holding leftovers of an earlier build.
func inPlaceRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"workspace/old", "layers/stale_bp", "platform/env"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "workspace", "leftover.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(root, "platform", "env", "STALE"), []byte("x"), 0o644)
	return root
}

// TestBuildLayouts runs detect and build through a runner that records what
// it was asked: mounted (runc's view: the spec's paths) and in place (real
// processes through sandbox.Direct, every mount an identity).
func TestBuildLayouts(t *testing.T) {
	bp := shellBuildpack(t)
	root := inPlaceRoot(t)
	for _, tc := range []struct {
		name      string
		layout    Layout
		next      sandbox.Runner
		wantDir   string // the process's working directory
		wantBin   string // bin/detect as the process sees it
		wantEnv   []string
		identity  bool // every mount has Source == Destination
		wantBuilt bool
	}{
		{name: "mounted", layout: Layout{}, wantDir: "/workspace", wantBin: "/cnb/buildpacks/test_shell/1.0/bin/detect",
			wantEnv: []string{"CNB_PLATFORM_DIR=/platform", "CNB_BUILD_PLAN_PATH=/cnb/plan/detect-test_shell.toml", "CNB_BUILDPACK_DIR=/cnb/buildpacks/test_shell/1.0"}},
		{name: "in place", layout: Layout{Root: root}, next: sandbox.Direct{}, wantDir: filepath.Join(root, "workspace"),
			wantBin: filepath.Join(bp.Dir, "bin", "detect"), identity: true, wantBuilt: true,
			wantEnv: []string{"CNB_PLATFORM_DIR=" + filepath.Join(root, "platform"), "CNB_BUILDPACK_DIR=" + bp.Dir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{next: tc.next}
			res, err := Build(context.Background(), buildOptions(t, bp, sampleApp(t), tc.layout, rec))
			var noGroup *NoGroupError
			switch {
			case tc.wantBuilt && err != nil:
				t.Fatalf("build: %v", err)
			case !tc.wantBuilt && !errors.As(err, &noGroup):
				t.Fatalf("err = %v, want no group (the recorder fails detect)", err)
			}
			if len(rec.procs) == 0 {
				t.Fatal("no process ran")
			}
			p := rec.procs[0]
			if p.Args[0] != tc.wantBin || p.Dir != tc.wantDir {
				t.Errorf("detect ran %s in %s, want %s in %s", p.Args[0], p.Dir, tc.wantBin, tc.wantDir)
			}
			env := strings.Join(p.Env, "\n") + "\n"
			for _, w := range tc.wantEnv {
				if !strings.Contains(env, w+"\n") {
					t.Errorf("detect env lacks %s:\n%s", w, env)
				}
			}
			for _, m := range p.Mounts {
				if same := filepath.Clean(m.Source) == filepath.Clean(m.Destination); same != tc.identity {
					t.Errorf("mount %s → %s: identity = %v, want %v", m.Source, m.Destination, same, tc.identity)
				}
			}
			if res != nil {
				checkInPlaceImage(t, res, root)
			}
		})
	}
}

// checkInPlaceImage checks an in-place build's image and that Close leaves
// the directories empty.
func checkInPlaceImage(t *testing.T, res *Result, root string) {
	t.Helper()
	files := imageFiles(t, res.Image)
	paths := files["layers/test_shell/app/paths"]
	for _, w := range []string{"layers=" + filepath.Join(root, "layers", "test_shell"), "app=" + filepath.Join(root, "workspace"),
		"platform=" + filepath.Join(root, "platform"), "greeting=hi", "home-private=yes"} {
		if !strings.Contains(paths, w+"\n") {
			t.Errorf("the buildpack saw %q, want %s", paths, w)
		}
	}
	if files["workspace/built.txt"] != "built\n" || files["workspace/app.txt"] != "source" {
		t.Errorf("app layer lacks the app or what build wrote: %v", files)
	}
	if _, ok := files["workspace/leftover.txt"]; ok {
		t.Errorf("the workspace was not emptied before the build")
	}
	if _, err := os.Stat(filepath.Join(root, "platform", "env", "STALE")); err == nil {
		t.Errorf("the platform dir was not emptied before the build")
	}
	res.Close()
	for _, d := range []string{"workspace", "layers", "platform"} {
		entries, err := os.ReadDir(filepath.Join(root, d))
		if err != nil || len(entries) != 0 {
			t.Errorf("%s after Close: %v entries, err %v", d, len(entries), err)
		}
	}
}

// imageFiles maps the regular files of img (names without the leading
// slash) to their contents.
func imageFiles(t *testing.T, img v1.Image) map[string]string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			files[strings.TrimPrefix(hdr.Name, "/")] = string(b)
		}
	}
}

// TestInPlaceRefusals: an in-place build checks its directories and the
// app before touching anything.
func TestInPlaceRefusals(t *testing.T) {
	bp := shellBuildpack(t)
	for _, tc := range []struct {
		name    string
		setup   func(root string) (app string)
		wantErr string
	}{
		{name: "app is the workspace", wantErr: "overlaps",
			setup: func(root string) string { return filepath.Join(root, "workspace") }},
		{name: "app holds the layers", wantErr: "overlaps",
			setup: func(root string) string { return root }},
		{name: "no layers dir", wantErr: "building in place needs " + "%ROOT%/layers",
			setup: func(root string) string { os.RemoveAll(filepath.Join(root, "layers")); return sampleApp(t) }},
		{name: "layers is a file", wantErr: "not a directory",
			setup: func(root string) string {
				os.RemoveAll(filepath.Join(root, "layers"))
				os.WriteFile(filepath.Join(root, "layers"), nil, 0o644)
				return sampleApp(t)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := inPlaceRoot(t)
			app := tc.setup(root)
			_, err := Build(context.Background(), buildOptions(t, bp, app, Layout{Root: root}, &recorder{next: sandbox.Direct{}}))
			want := strings.ReplaceAll(tc.wantErr, "%ROOT%", root)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want %q", err, want)
			}
			if _, err := os.Stat(filepath.Join(root, "workspace", "leftover.txt")); err != nil && tc.wantErr == "overlaps" {
				t.Errorf("a refused build touched the workspace: %v", err)
			}
		})
	}
}

// TestGenerateInPlace: an extension run in place finds run.toml through
// CNB_RUN_PATH and writes its run.Dockerfile where CNB_OUTPUT_DIR says.
func TestGenerateInPlace(t *testing.T) {
	bp := shellBuildpack(t)
	dir := filepath.Join(t.TempDir(), "ext")
	files := map[string]string{
		"extension.toml": "api = \"0.10\"\n[extension]\nid = \"test/ext\"\nversion = \"1.0\"\n",
		"bin/detect":     "#!/bin/sh\n",
		"bin/generate": `#!/bin/sh
img=$(sed -n 's/^ *image = "\(.*\)"/\1/p' "$CNB_RUN_PATH" | head -n 1)
echo "FROM $img-switched" > "$CNB_OUTPUT_DIR/run.Dockerfile"
`,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ext, err := buildpack.ReadDescriptor(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := buildOptions(t, bp, sampleApp(t), Layout{Root: inPlaceRoot(t)}, sandbox.Direct{})
	o.Modules.Extensions = []*buildpack.Descriptor{ext}
	o.OrderExtensions = buildpack.Order{{Group: []buildpack.Ref{{ID: "test/ext"}}}}
	res, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if res.RunImage != "test/run:latest-switched" {
		t.Errorf("run image %q, want the extension's test/run:latest-switched", res.RunImage)
	}
}
