package lifecycle

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/distill-build/distill/internal/buildpack"
)

// generator runs bin/generate of the extensions that passed detection and
// reads the run.Dockerfile each may write. Only a run image switch (a single
// FROM) is supported: distill does not extend images with RUN instructions.
type generator struct {
	*container
	log io.Writer
}

// Generate returns the run image the extensions chose, or "" to keep the default.
func (g *generator) Generate(ctx context.Context, exts []*buildpack.Descriptor) (string, error) {
	runImage := ""
	for _, ext := range exts {
		out := filepath.Join(g.dirs.host.output, buildpack.EscapedID(ext.Info().ID))
		if err := os.MkdirAll(out, 0o755); err != nil {
			return "", err
		}
		if err := os.Chown(out, g.uid, g.gid); err != nil {
			return "", err
		}
		plan := filepath.Join(g.dirs.host.plan, "generate-"+buildpack.EscapedID(ext.Info().ID)+".toml")
		if err := buildpack.WriteTOML(plan, buildpack.BuildpackPlan{}); err != nil {
			return "", err
		}
		env := g.env.Clone()
		env["CNB_PLATFORM_DIR"] = g.dirs.box.platform
		env["CNB_EXTENSION_DIR"] = g.dirs.module(ext)
		env["CNB_OUTPUT_DIR"] = filepath.Join(g.dirs.box.output, filepath.Base(out))
		env["CNB_BP_PLAN_PATH"] = filepath.Join(g.dirs.box.plan, filepath.Base(plan))
		env["CNB_RUN_PATH"] = g.dirs.box.runTOML // the lifecycle's name for its run.toml
		if err := g.exec(ctx, ext, "generate", env, g.log); err != nil {
			return "", moduleFailed(ext, "generate", err)
		}
		if _, err := os.Stat(filepath.Join(out, "build.Dockerfile")); err == nil {
			return "", fmt.Errorf("extension %s wrote a build.Dockerfile: distill supports run image switches only", ext.Key())
		}
		ref, err := readRunDockerfile(filepath.Join(out, "run.Dockerfile"))
		if err != nil {
			return "", fmt.Errorf("extension %s: %w", ext.Key(), err)
		}
		if ref != "" {
			runImage = ref
		}
	}
	return runImage, nil
}

// readRunDockerfile returns the image a run.Dockerfile switches to: "" when the
// file is absent or keeps the current base (FROM ${base_image}). Instructions
// other than ARG and FROM are refused.
func readRunDockerfile(p string) (string, error) {
	f, err := os.Open(p)
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	from := ""
	s := bufio.NewScanner(f)
	for line := 1; s.Scan(); line++ {
		text := strings.TrimSpace(s.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		switch strings.ToUpper(fields[0]) {
		case "ARG":
		case "FROM":
			if len(fields) != 2 {
				return "", fmt.Errorf("%s:%d: FROM takes one image", p, line)
			}
			from = fields[1]
		default:
			return "", fmt.Errorf("%s:%d: %s is not supported; a run.Dockerfile may only switch the run image with FROM", p, line, fields[0])
		}
	}
	if err := s.Err(); err != nil {
		return "", fmt.Errorf("reading %s: %w", p, err)
	}
	if from == "${base_image}" || from == "$base_image" {
		return "", nil
	}
	return from, nil
}
