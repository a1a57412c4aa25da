// Package runstatic is the distill/run-static image extension: it detects
// apps that compile to a static binary (a Go project of any shape distill/go
// builds — go.mod, go.work, or a main package — and no Node or Python project
// next to it) and switches their run image to the builder's static
// run image with a one-line run.Dockerfile. It is compiled into the distill
// binary, which a builder installs as bin/generate and bin/detect.
package runstatic

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	golang "github.com/distill-build/distill/buildpacks/go"
)

const exitFail = 100

// needsLibc are files that mean another runtime will run the app.
var needsLibc = []string{"package.json", "requirements.txt", "pyproject.toml", "setup.py", "Pipfile", "runtime.txt"}

// Main runs bin/detect or bin/generate, by the base name of os.Args[0], and exits.
func Main() {
	var err error
	switch filepath.Base(os.Args[0]) {
	case "detect":
		if !detect(".") {
			os.Exit(exitFail)
		}
		return
	case "generate":
		err = generate(os.Getenv("CNB_OUTPUT_DIR"), os.Getenv("CNB_EXTENSION_DIR"))
	default:
		err = fmt.Errorf("run as bin/detect or bin/generate, not %s", os.Args[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "distill/run-static:", err)
		os.Exit(1)
	}
}

// optIn is the variable a platform sets when it applies run image extensions.
// The lifecycle's creator (kpack, the Tekton buildpacks task, pack with a
// trusted builder) refuses any detected extension, so the extension stays
// silent unless asked: there, Go apps run on the default run image.
const optIn = "BP_RUN_IMAGE_EXTENSIONS"

func detect(app string) bool {
	if v := os.Getenv(optIn); v != "true" && v != "1" {
		fmt.Printf("%s is not true: keeping the default run image\n", optIn)
		return false
	}
	if os.Getenv("CGO_ENABLED") == "1" {
		fmt.Println("CGO_ENABLED=1: the app links libc, keeping the default run image")
		return false
	}
	if golang.DetectShape(app) == golang.ShapeNone {
		return false
	}
	for _, f := range needsLibc {
		if _, err := os.Stat(filepath.Join(app, f)); err == nil {
			fmt.Printf("%s found: keeping the default run image\n", f)
			return false
		}
	}
	return true
}

type runTOML struct {
	Images []struct {
		Image string `toml:"image"`
	} `toml:"images"`
}

type extensionTOML struct {
	Metadata struct {
		StaticTag string `toml:"static-tag"`
	} `toml:"metadata"`
}

func generate(out, extDir string) error {
	ref := os.Getenv("BP_STATIC_RUN_IMAGE")
	if ref == "" {
		var ext extensionTOML
		if _, err := toml.DecodeFile(filepath.Join(extDir, "extension.toml"), &ext); err != nil {
			return fmt.Errorf("reading extension.toml: %w", err)
		}
		runPath := os.Getenv("CNB_RUN_PATH")
		if runPath == "" {
			runPath = "/cnb/run.toml"
		}
		var run runTOML
		if _, err := toml.DecodeFile(runPath, &run); err != nil {
			return fmt.Errorf("reading %s: %w", runPath, err)
		}
		if len(run.Images) == 0 || run.Images[0].Image == "" {
			return fmt.Errorf("%s lists no run image", runPath)
		}
		ref = withTag(run.Images[0].Image, ext.Metadata.StaticTag)
	}
	fmt.Printf("Static binary: run image %s\n", ref)
	return os.WriteFile(filepath.Join(out, "run.Dockerfile"), []byte("FROM "+ref+"\n"), 0o644)
}

// withTag replaces the tag (and drops any digest) of an image reference.
func withTag(ref, tag string) string {
	ref, _, _ = strings.Cut(ref, "@")
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		ref = ref[:colon]
	}
	return ref + ":" + tag
}
