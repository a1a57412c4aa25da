package buildpack

import (
	"os"
	"strconv"
	"strings"
)

// Config is a buildpack's view of its configuration variables (BP_*,
// GOFLAGS, PIP_*...): the process environment first, since platforms export
// the user's build environment to buildpacks that do not clear it, then the
// files of <platform>/env, which it holds.
type Config map[string]string

// Lookup returns the variable's value and whether it is set at all.
func (c Config) Lookup(name string) (string, bool) {
	if v, ok := os.LookupEnv(name); ok {
		return v, true
	}
	v, ok := c[name]
	return v, ok
}

// Get returns the variable's value, "" when unset.
func (c Config) Get(name string) string {
	v, _ := c.Lookup(name)
	return v
}

// IsSet reports whether the variable is set, even to "".
func (c Config) IsSet(name string) bool {
	_, ok := c.Lookup(name)
	return ok
}

// Bool reports whether the variable holds a true value (1, t, true, ...).
func (c Config) Bool(name string) bool {
	b, err := strconv.ParseBool(strings.TrimSpace(c.Get(name)))
	return err == nil && b
}
