package buildpack

// PlanSections is what bin/detect writes to $CNB_BUILD_PLAN_PATH: what it
// provides and requires, with alternatives in [[or]].
type PlanSections struct {
	Provides []Provide `toml:"provides"`
	Requires []Require `toml:"requires"`
}

// DetectPlan is the full detect output.
type DetectPlan struct {
	PlanSections
	Or []PlanSections `toml:"or"`
}

// Alternatives lists the plan sections to try, in order.
func (p DetectPlan) Alternatives() []PlanSections {
	return append([]PlanSections{p.PlanSections}, p.Or...)
}

// Provide is a [[provides]] entry.
type Provide struct {
	Name string `toml:"name"`
}

// Require is a [[requires]] entry.
type Require struct {
	Name     string         `toml:"name"`
	Metadata map[string]any `toml:"metadata,omitempty"`
}

// BuildpackPlan is what bin/build reads from $CNB_BP_PLAN_PATH.
type BuildpackPlan struct {
	Entries []PlanEntry `toml:"entries"`
}

// PlanEntry is one resolved requirement handed to the buildpack that provides it.
type PlanEntry struct {
	Name     string         `toml:"name"`
	Metadata map[string]any `toml:"metadata,omitempty"`
}
