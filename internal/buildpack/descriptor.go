// Package buildpack holds the buildpack side of the CNB contract as the
// platform sees it: buildpack.toml and extension.toml descriptors, order
// groups, build plans, layer metadata, launch metadata and layer environment.
package buildpack

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// Descriptor is a parsed buildpack.toml or extension.toml.
type Descriptor struct {
	API       string   `toml:"api"`
	Buildpack Info     `toml:"buildpack"`
	Extension Info     `toml:"extension"`
	Order     Order    `toml:"order"`
	Targets   []Target `toml:"targets"`
	Stacks    []Stack  `toml:"stacks"`

	// Dir is the directory holding the descriptor and bin/.
	Dir string `toml:"-"`
}

// Info is the [buildpack] or [extension] table.
type Info struct {
	ID          string   `toml:"id"`
	Version     string   `toml:"version"`
	Name        string   `toml:"name,omitempty"`
	Homepage    string   `toml:"homepage,omitempty"`
	ClearEnv    bool     `toml:"clear-env,omitempty"`
	SBOMFormats []string `toml:"sbom-formats,omitempty"`
}

// Target is one [[targets]] entry.
type Target struct {
	OS      string   `toml:"os,omitempty" json:"os,omitempty"`
	Arch    string   `toml:"arch,omitempty" json:"arch,omitempty"`
	Variant string   `toml:"variant,omitempty" json:"variant,omitempty"`
	Distros []Distro `toml:"distros,omitempty" json:"distros,omitempty"`
}

// Distro is a [[targets.distros]] entry.
type Distro struct {
	Name    string `toml:"name" json:"name"`
	Version string `toml:"version,omitempty" json:"version,omitempty"`
}

// Stack is one [[stacks]] entry (Buildpack API < 0.10, still read by stack-era platforms).
type Stack struct {
	ID     string   `toml:"id"`
	Mixins []string `toml:"mixins,omitempty"`
}

// IsExtension reports whether the descriptor is an image extension.
func (d *Descriptor) IsExtension() bool { return d.Extension.ID != "" }

// Kind is "extension" or "buildpack".
func (d *Descriptor) Kind() string {
	if d.IsExtension() {
		return "extension"
	}
	return "buildpack"
}

// Info returns the [buildpack] or [extension] table, whichever is set.
func (d *Descriptor) Info() Info {
	if d.IsExtension() {
		return d.Extension
	}
	return d.Buildpack
}

// Key is "id@version".
func (d *Descriptor) Key() string { return d.Info().ID + "@" + d.Info().Version }

// EscapedID is the ID with '/' replaced by '_', as used for layer directories.
func EscapedID(id string) string { return strings.ReplaceAll(id, "/", "_") }

// ReadDescriptor reads buildpack.toml (or extension.toml) from dir.
func ReadDescriptor(dir string) (*Descriptor, error) {
	for _, name := range []string{"buildpack.toml", "extension.toml"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		var d Descriptor
		if _, err := toml.DecodeFile(p, &d); err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		d.Dir = dir
		if err := d.validate(name); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return &d, nil
	}
	return nil, fmt.Errorf("%s: no buildpack.toml or extension.toml", dir)
}

func (d *Descriptor) validate(file string) error {
	table := "buildpack"
	if file == "extension.toml" {
		table = "extension"
		if d.Extension.ID == "" {
			return fmt.Errorf("[extension] id is required")
		}
	} else if d.Buildpack.ID == "" {
		return fmt.Errorf("[buildpack] id is required")
	}
	if d.API == "" {
		return fmt.Errorf("api is required (for example api = \"0.10\")")
	}
	if d.Info().Version == "" {
		return fmt.Errorf("[%s] version is required", table)
	}
	return nil
}

// Ref names a buildpack in an order group.
type Ref struct {
	ID       string `toml:"id" json:"id"`
	Version  string `toml:"version,omitempty" json:"version,omitempty"`
	Optional bool   `toml:"optional,omitempty" json:"optional,omitempty"`
}

// Key is "id@version".
func (r Ref) Key() string { return r.ID + "@" + r.Version }

// Group is one [[order]] entry.
type Group struct {
	Group []Ref `toml:"group" json:"group"`
}

// Order is the list of groups tried in turn by detect.
type Order []Group

// OrderFile is order.toml: buildpack groups and, optionally, extension groups.
type OrderFile struct {
	Order           Order `toml:"order"`
	OrderExtensions Order `toml:"order-extensions,omitempty"`
}
