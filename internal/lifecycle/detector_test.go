package lifecycle

import (
	"testing"

	"github.com/distill-build/distill/internal/buildpack"
)

func outcome(id string, optional bool, alts ...buildpack.PlanSections) *detectOutcome {
	d := &buildpack.Descriptor{Buildpack: buildpack.Info{ID: id, Version: "1"}}
	p := buildpack.DetectPlan{}
	if len(alts) > 0 {
		p.PlanSections, p.Or = alts[0], alts[1:]
	}
	return &detectOutcome{desc: d, ref: buildpack.Ref{ID: id, Optional: optional}, passed: true, plan: p}
}

func provides(names ...string) []buildpack.Provide {
	var out []buildpack.Provide
	for _, n := range names {
		out = append(out, buildpack.Provide{Name: n})
	}
	return out
}

func requires(names ...string) []buildpack.Require {
	var out []buildpack.Require
	for _, n := range names {
		out = append(out, buildpack.Require{Name: n})
	}
	return out
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name      string
		outcomes  []*detectOutcome
		wantOK    bool
		wantGroup []string
		wantPlan  map[string][]string // buildpack id → entry names
	}{
		{
			name:      "provider and requirer in one buildpack",
			outcomes:  []*detectOutcome{outcome("go", false, buildpack.PlanSections{Provides: provides("go"), Requires: requires("go")})},
			wantOK:    true,
			wantGroup: []string{"go"},
			wantPlan:  map[string][]string{"go": {"go"}},
		},
		{
			name: "requirement provided by an earlier buildpack",
			outcomes: []*detectOutcome{
				outcome("node", false, buildpack.PlanSections{Provides: provides("node")}),
				outcome("npm", false, buildpack.PlanSections{Requires: requires("node")}),
			},
			wantOK: true, wantGroup: []string{"node", "npm"},
			wantPlan: map[string][]string{"node": {"node"}, "npm": nil},
		},
		{
			name: "requirement provided only later fails",
			outcomes: []*detectOutcome{
				outcome("npm", false, buildpack.PlanSections{Requires: requires("node")}),
				outcome("node", false, buildpack.PlanSections{Provides: provides("node")}),
			},
			wantOK: false,
		},
		{
			name:     "unrequired provision fails",
			outcomes: []*detectOutcome{outcome("node", false, buildpack.PlanSections{Provides: provides("node")})},
			wantOK:   false,
		},
		{
			name: "optional buildpack with an unmet plan is dropped",
			outcomes: []*detectOutcome{
				outcome("extra", true, buildpack.PlanSections{Provides: provides("thing")}),
				outcome("go", false, buildpack.PlanSections{Provides: provides("go"), Requires: requires("go")}),
			},
			wantOK: true, wantGroup: []string{"go"},
		},
		{
			name: "optional buildpack with an empty plan stays",
			outcomes: []*detectOutcome{
				outcome("ca", true),
				outcome("go", false, buildpack.PlanSections{Provides: provides("go"), Requires: requires("go")}),
			},
			wantOK: true, wantGroup: []string{"ca", "go"},
		},
		{
			name: "or alternative chosen when the first does not resolve",
			outcomes: []*detectOutcome{
				outcome("node", false,
					buildpack.PlanSections{Provides: provides("node"), Requires: requires("yarn")},
					buildpack.PlanSections{Provides: provides("node"), Requires: requires("node")}),
			},
			wantOK: true, wantGroup: []string{"node"},
			wantPlan: map[string][]string{"node": {"node"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			group, plans, ok := resolve(tc.outcomes)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tc.wantOK)
			}
			if !ok {
				return
			}
			var ids []string
			for _, d := range group {
				ids = append(ids, d.Buildpack.ID)
			}
			if len(ids) != len(tc.wantGroup) {
				t.Fatalf("group = %v, want %v", ids, tc.wantGroup)
			}
			for i := range ids {
				if ids[i] != tc.wantGroup[i] {
					t.Fatalf("group = %v, want %v", ids, tc.wantGroup)
				}
			}
			for id, want := range tc.wantPlan {
				var got []string
				for _, e := range plans[id+"@1"].Entries {
					got = append(got, e.Name)
				}
				if len(got) != len(want) {
					t.Errorf("plan of %s = %v, want %v", id, got, want)
				}
			}
		})
	}
}
