package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/pflag"

	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/platform"
)

// outputFlags say where an image goes: -o, --daemon, --publish (shared by
// build, builder create and buildpack package).
type outputFlags struct {
	outputs, daemonTags, publish []string
}

func (o *outputFlags) register(fl *pflag.FlagSet, what string) {
	fl.StringArrayVarP(&o.outputs, "output", "o", nil, "write the "+what+" to `TARGET`: oci:DIR, docker-archive:FILE")
	fl.StringArrayVar(&o.daemonTags, "daemon", nil, "load the "+what+" into the Docker API (podman or docker) as `TAG`")
	fl.StringArrayVar(&o.publish, "publish", nil, "push the "+what+" to a registry as `REF` (credentials from the docker config)")
}

func (o outputFlags) empty() bool {
	return len(o.outputs)+len(o.daemonTags)+len(o.publish) == 0
}

// targets parses the flags; an empty list when none is given.
func (o outputFlags) targets() ([]image.Target, error) {
	var targets []image.Target
	for _, s := range o.outputs {
		t, err := image.ParseTarget(s)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	for _, d := range o.daemonTags {
		tag, err := name.NewTag(d)
		if err != nil {
			return nil, fmt.Errorf("--daemon %q: %w", d, err)
		}
		targets = append(targets, image.Daemon(tag))
	}
	for _, p := range o.publish {
		ref, err := name.ParseReference(p)
		if err != nil {
			return nil, fmt.Errorf("--publish %q: %w", p, err)
		}
		targets = append(targets, image.Registry(ref))
	}
	return targets, nil
}

// outputs are where a build's image goes.
type outputs struct {
	targets []image.Target
	daemon  bool   // one target is a daemon
	run     string // the reference a runtime runs the image by
}

// buildOutputs are the flags' targets or, without any, the default: the
// local daemon when one answers, else an OCI layout under the user cache
// directory, named by tag (default: the app directory's name).
func buildOutputs(ctx context.Context, app, tag string, o outputFlags) (outputs, error) {
	targets, err := o.targets()
	if err != nil {
		return outputs{}, err
	}
	if len(targets) > 0 {
		if tag != "" {
			return outputs{}, fmt.Errorf("-t names the default output: with -o, --daemon or --publish, name the image there")
		}
		out := outputs{targets: targets, daemon: len(o.daemonTags) > 0}
		if out.daemon {
			out.run = o.daemonTags[0]
		} else {
			out.run = runnableLayout(targets)
		}
		return out, nil
	}
	if tag == "" {
		abs, err := filepath.Abs(app)
		if err != nil {
			return outputs{}, err
		}
		tag = imageName(filepath.Base(abs))
	}
	ref, err := name.NewTag(localName(tag))
	if err != nil {
		return outputs{}, fmt.Errorf("-t %q: %w", tag, err)
	}
	ref = ref.Context().Tag(ref.TagStr()) // spelled out in full: localhost/myapp:latest
	if image.DaemonAnswers(ctx) {
		return outputs{targets: []image.Target{image.Daemon(ref)}, daemon: true, run: ref.Name()}, nil
	}
	dir := filepath.Join(platform.CacheRoot(), "out", strings.NewReplacer("/", "_", ":", "_").Replace(ref.Name()))
	return outputs{targets: []image.Target{image.OCILayout(dir)}, run: "oci:" + dir}, nil
}

// localName puts a name without a registry under localhost/, as podman
// names the images it builds (myapp → localhost/myapp:latest).
func localName(tag string) string {
	first, _, ok := strings.Cut(tag, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return tag
	}
	return "localhost/" + tag
}

// runnableLayout is "oci:<absolute dir>" of the first OCI layout target,
// which podman runs as it is, or "".
func runnableLayout(targets []image.Target) string {
	for _, t := range targets {
		if p, ok := t.(image.LocalTarget); ok && strings.HasPrefix(t.String(), "oci:") {
			if abs, err := filepath.Abs(p.Path()); err == nil {
				return "oci:" + abs
			}
		}
	}
	return ""
}

var notInName = regexp.MustCompile(`[^a-z0-9._-]+`)

// imageName makes a directory name a valid image repository name.
func imageName(dir string) string {
	n := strings.Trim(notInName.ReplaceAllString(strings.ToLower(dir), "-"), "._-")
	if n == "" {
		return "app"
	}
	return n
}

// howToRun is the report's last line: where the image went and how to run it.
func (o outputs) howToRun() string {
	where := make([]string, len(o.targets))
	for i, t := range o.targets {
		where[i] = t.String()
	}
	line := "Image written to " + strings.Join(where, ", ")
	if o.run == "" {
		return line
	}
	runtime := "podman"
	if _, err := exec.LookPath("podman"); err != nil {
		runtime = "docker"
	}
	return fmt.Sprintf("%s. Run it: %s run --rm -e PORT=8080 -p 8080:8080 %s", line, runtime, o.run)
}
