package inspect

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The CNB labels as the lifecycle (and distill's exporter) write them,
// decoded leniently: images from `pack build` carry more fields (config,
// launcher, process-types layers; extensions) and older Platform APIs write
// a process command as a string.

// lifecycleMetadata is io.buildpacks.lifecycle.metadata.
type lifecycleMetadata struct {
	App          []layerRef                `json:"app"`
	Config       layerRef                  `json:"config"`
	Launcher     layerRef                  `json:"launcher"`
	ProcessTypes layerRef                  `json:"process-types"`
	SBOM         *layerRef                 `json:"sbom"`
	Buildpacks   []buildpackLayersMetadata `json:"buildpacks"`
	RunImage     struct {
		TopLayer  string `json:"topLayer"`
		Reference string `json:"reference"`
		Image     string `json:"image"`
	} `json:"runImage"`
	Stack struct {
		RunImage struct {
			Image string `json:"image"`
		} `json:"runImage"`
	} `json:"stack"`
}

type layerRef struct {
	SHA string `json:"sha"`
}

type buildpackLayersMetadata struct {
	Key     string `json:"key"`
	Version string `json:"version"`
	Layers  map[string]struct {
		SHA string `json:"sha"`
	} `json:"layers"`
}

// buildMetadata is io.buildpacks.build.metadata.
type buildMetadata struct {
	Processes  []processMetadata `json:"processes"`
	Buildpacks []Buildpack       `json:"buildpacks"`
}

type processMetadata struct {
	Type        string          `json:"type"`
	Command     json.RawMessage `json:"command"`
	Args        []string        `json:"args"`
	Direct      *bool           `json:"direct"`
	Default     bool            `json:"default"`
	BuildpackID string          `json:"buildpackID"`
}

// command is the process command: an array (Platform API 0.10+) or a string.
func (p processMetadata) command() ([]string, error) {
	if len(p.Command) == 0 || string(p.Command) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(p.Command, &list); err == nil {
		return list, nil
	}
	var s string
	if err := json.Unmarshal(p.Command, &s); err != nil {
		return nil, fmt.Errorf("process %q: command is neither a string nor a list of strings: %s", p.Type, p.Command)
	}
	return []string{s}, nil
}

// decodeLabel decodes the JSON label key of labels into v; ok is false when
// the label is absent.
func decodeLabel(labels map[string]string, key string, v any) (bool, error) {
	raw, ok := labels[key]
	if !ok || strings.TrimSpace(raw) == "" {
		return false, nil
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return true, fmt.Errorf("decoding label %s: %w", key, err)
	}
	return true, nil
}
