package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"golang.org/x/sync/errgroup"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/sandbox"
)

// detectExitFail is the exit code of a bin/detect that does not apply.
const detectExitFail = 100

// DetectResult is a group that passed detection, with each member's
// resolved build plan.
type DetectResult struct {
	Group      []*buildpack.Descriptor
	Extensions []*buildpack.Descriptor
	Plans      map[string]buildpack.BuildpackPlan // by buildpack key
}

// detectOutcome is what one bin/detect run produced.
type detectOutcome struct {
	desc   *buildpack.Descriptor
	ref    buildpack.Ref
	passed bool
	plan   buildpack.DetectPlan
	output string
	err    error
}

// NoGroupError reports that no order group passed, with each buildpack's output.
type NoGroupError struct {
	Outcomes []detectOutcome
}

func (e *NoGroupError) Error() string {
	var b strings.Builder
	b.WriteString("no buildpack group passed detection; this source tree is not an app the builder knows:")
	seen := map[string]bool{}
	for _, o := range e.Outcomes {
		if seen[o.desc.Key()] {
			continue
		}
		seen[o.desc.Key()] = true
		status := "fail"
		switch {
		case o.err != nil:
			status = "error: " + o.err.Error()
		case o.passed:
			status = "pass"
		}
		fmt.Fprintf(&b, "\n  %s (%s)", o.desc.Key(), status)
		if out := strings.TrimSpace(ansi.ReplaceAllString(o.output, "")); out != "" && !o.passed {
			fmt.Fprintf(&b, "\n    %s", strings.ReplaceAll(out, "\n", "\n    "))
		}
	}
	return b.String()
}

// ansi matches terminal colour sequences, which buildpack loggers emit.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// detector runs bin/detect for the builder's order.
type detector struct {
	*container
	mu      sync.Mutex
	outcome map[string]*detectOutcome // memoised by key: a buildpack in several groups runs once
}

// Detect tries the order's groups in turn and returns the first that passes
// with a resolvable plan. Extensions in orderExt run first; those that pass
// join the result.
func (d *detector) Detect(ctx context.Context, order, orderExt buildpack.Order) (*DetectResult, error) {
	d.outcome = map[string]*detectOutcome{}
	if err := d.warm(ctx, order, orderExt); err != nil {
		return nil, err
	}
	var exts []*buildpack.Descriptor
	for _, g := range orderExt {
		for _, ref := range g.Group {
			o, err := d.run(ctx, ref, true)
			if err != nil {
				return nil, err
			}
			if o.passed {
				exts = append(exts, o.desc)
			}
		}
	}
	var all []detectOutcome
	for _, g := range order {
		var outcomes []*detectOutcome
		failed := false
		for _, ref := range g.Group {
			o, err := d.run(ctx, ref, false)
			if err != nil {
				return nil, err
			}
			all = append(all, *o)
			if !o.passed && !ref.Optional {
				failed = true
				break
			}
			if o.passed {
				outcomes = append(outcomes, o)
			}
		}
		if failed {
			continue
		}
		group, plans, ok := resolve(outcomes)
		if !ok {
			continue
		}
		return &DetectResult{Group: group, Extensions: exts, Plans: plans}, nil
	}
	return nil, &NoGroupError{Outcomes: all}
}

// warm runs at once the detects the first pass surely needs (every
// extension's and the first group's: each container start costs a fraction
// of a second) and memoises their outcomes. Detect then reads them in order,
// so what it decides is what running them one by one would decide.
func (d *detector) warm(ctx context.Context, order, orderExt buildpack.Order) error {
	type job struct {
		ref       buildpack.Ref
		extension bool
	}
	var jobs []job
	seen := map[string]bool{}
	add := func(g buildpack.Group, extension bool) {
		for _, ref := range g.Group {
			if desc, err := d.mods.Lookup(ref, extension); err == nil && !seen[desc.Key()] {
				seen[desc.Key()] = true
				jobs = append(jobs, job{ref, extension})
			}
		}
	}
	for _, g := range orderExt {
		add(g, true)
	}
	if len(order) > 0 {
		add(order[0], false)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, j := range jobs {
		g.Go(func() error {
			_, err := d.run(gctx, j.ref, j.extension)
			return err
		})
	}
	return g.Wait()
}

func (d *detector) run(ctx context.Context, ref buildpack.Ref, extension bool) (*detectOutcome, error) {
	desc, err := d.mods.Lookup(ref, extension)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if o, ok := d.outcome[desc.Key()]; ok {
		d.mu.Unlock()
		o.ref = ref
		return o, nil
	}
	o := &detectOutcome{desc: desc, ref: ref}
	d.outcome[desc.Key()] = o
	d.mu.Unlock()

	planHost := filepath.Join(d.dirs.host.plan, "detect-"+buildpack.EscapedID(desc.Info().ID)+".toml")
	if err := writeOwned(planHost, nil, d.uid, d.gid); err != nil {
		return nil, err
	}
	env := d.env.Clone()
	for k, v := range map[string]string{
		"CNB_PLATFORM_DIR": d.dirs.box.platform, "CNB_BUILD_PLAN_PATH": filepath.Join(d.dirs.box.plan, filepath.Base(planHost)),
		"CNB_BUILDPACK_DIR": d.dirs.module(desc), "CNB_EXTENSION_DIR": d.dirs.module(desc), "CNB_APP_DIR": d.dirs.box.app,
	} {
		env[k] = v
	}
	var out bytes.Buffer
	err = d.exec(ctx, desc, "detect", env, &out)
	o.output = out.String()
	var exit *sandbox.ExitError
	switch {
	case err == nil:
		o.passed = true
		if _, err := toml.DecodeFile(planHost, &o.plan); err != nil {
			o.passed, o.err = false, fmt.Errorf("reading the build plan it wrote: %w", err)
		}
	case errors.As(err, &exit) && exit.Code == detectExitFail:
	case errors.As(err, &exit):
		o.err = err
	default:
		return nil, fmt.Errorf("detecting with %s: %w", desc.Key(), err)
	}
	return o, nil
}

// resolve picks, for the passing buildpacks of a group, one plan alternative
// each (or drops an optional buildpack) so that every requirement is
// provided by the same or an earlier buildpack and every provision is
// required by the same or a later one. The first valid choice in order wins.
func resolve(outcomes []*detectOutcome) ([]*buildpack.Descriptor, map[string]buildpack.BuildpackPlan, bool) {
	choice := make([]int, len(outcomes)) // index of alternative, -1 = dropped
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(outcomes) {
			return valid(outcomes, choice)
		}
		for a := range outcomes[i].plan.Alternatives() {
			choice[i] = a
			if try(i + 1) {
				return true
			}
		}
		if outcomes[i].ref.Optional {
			choice[i] = -1
			return try(i + 1)
		}
		return false
	}
	if !try(0) {
		return nil, nil, false
	}
	var group []*buildpack.Descriptor
	plans := map[string]buildpack.BuildpackPlan{}
	for i, o := range outcomes {
		if choice[i] < 0 {
			continue
		}
		group = append(group, o.desc)
		provides := map[string]bool{}
		for _, p := range o.plan.Alternatives()[choice[i]].Provides {
			provides[p.Name] = true
		}
		var plan buildpack.BuildpackPlan
		for j, other := range outcomes {
			if choice[j] < 0 {
				continue
			}
			for _, r := range other.plan.Alternatives()[choice[j]].Requires {
				if provides[r.Name] {
					plan.Entries = append(plan.Entries, buildpack.PlanEntry{Name: r.Name, Metadata: r.Metadata})
				}
			}
		}
		plans[o.desc.Key()] = plan
	}
	return group, plans, len(group) > 0
}

func valid(outcomes []*detectOutcome, choice []int) bool {
	provided := map[string]bool{}
	for i, o := range outcomes {
		if choice[i] < 0 {
			continue
		}
		alt := o.plan.Alternatives()[choice[i]]
		for _, p := range alt.Provides {
			provided[p.Name] = true
		}
		for _, r := range alt.Requires {
			if !provided[r.Name] {
				return false
			}
		}
	}
	required := map[string]bool{}
	for i := len(outcomes) - 1; i >= 0; i-- {
		if choice[i] < 0 {
			continue
		}
		alt := outcomes[i].plan.Alternatives()[choice[i]]
		for _, r := range alt.Requires {
			required[r.Name] = true
		}
		for _, p := range alt.Provides {
			if !required[p.Name] {
				return false
			}
		}
	}
	return true
}

func writeOwned(p string, data []byte, uid, gid int) error {
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	return os.Chown(p, uid, gid)
}
