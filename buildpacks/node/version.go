package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// ltsCodenames maps the lts/<codename> aliases of .nvmrc to release lines.
var ltsCodenames = map[string]uint64{
	"argon": 4, "boron": 6, "carbon": 8, "dubnium": 10, "erbium": 12, "fermium": 14,
	"gallium": 16, "hydrogen": 18, "iron": 20, "jod": 22, "krypton": 24,
}

// versionRequest is the Node.js version the app asks for and where it asked.
type versionRequest struct {
	Raw        string              // as written
	Source     string              // "BP_NODE_VERSION", "/workspace/package.json engines.node", ...
	Constraint *semver.Constraints // nil: any version
	LTSOnly    bool                // lts/*: the newest LTS line
	Newest     bool                // node, latest, current: the newest release
}

func (r versionRequest) String() string {
	if r.Source == "" {
		return "the newest LTS line (default)"
	}
	return fmt.Sprintf("%q (%s)", r.Raw, r.Source)
}

// nodeVersionRequest decides which Node.js the app asks for: BP_NODE_VERSION, else package.json's
// engines.node, else .nvmrc, else .node-version, else the newest LTS line.
func nodeVersionRequest(appDir string, pkg packageJSON, bpNodeVersion string) (versionRequest, error) {
	if s := strings.TrimSpace(bpNodeVersion); s != "" {
		return parseVersionRequest(s, "BP_NODE_VERSION")
	}
	if s := strings.TrimSpace(pkg.Engines["node"]); s != "" {
		return parseVersionRequest(s, filepath.Join(appDir, "package.json")+" engines.node")
	}
	for _, name := range []string{".nvmrc", ".node-version"} {
		path := filepath.Join(appDir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return versionRequest{}, fmt.Errorf("unable to read %s: %w", path, err)
		}
		if s := firstMeaningfulLine(string(data)); s != "" {
			return parseVersionRequest(s, path)
		}
	}
	return versionRequest{LTSOnly: true}, nil
}

// firstMeaningfulLine is the first line that is not blank or a # comment, without a trailing comment.
func firstMeaningfulLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

func parseVersionRequest(s, source string) (versionRequest, error) {
	req := versionRequest{Raw: s, Source: source}
	lower := strings.ToLower(strings.TrimSpace(s))
	switch {
	case lower == "lts/*" || lower == "lts" || lower == "lts/latest":
		req.LTSOnly = true
		return req, nil
	case lower == "node" || lower == "latest" || lower == "current" || lower == "stable":
		req.Newest = true
		return req, nil
	case strings.HasPrefix(lower, "lts/"):
		major, ok := ltsCodenames[strings.TrimPrefix(lower, "lts/")]
		if !ok {
			return versionRequest{}, fmt.Errorf("%s: unknown LTS alias %q (known: lts/* and lts/<codename> from argon to krypton)", source, s)
		}
		c, _ := semver.NewConstraint(fmt.Sprintf("%d.x", major))
		req.Constraint = c
		return req, nil
	}
	// npm-style ranges; a leading v on versions ("v20.11.0", ">=v18") is allowed.
	norm := strings.NewReplacer(">=v", ">=", "<=v", "<=", ">v", ">", "<v", "<", "=v", "=", "^v", "^", "~v", "~", " v", " ").Replace(" " + lower)
	norm = strings.TrimSpace(norm)
	norm = strings.TrimPrefix(norm, "v")
	c, err := semver.NewConstraint(norm)
	if err != nil {
		return versionRequest{}, fmt.Errorf("%s: %q is not a Node.js version or range: %v", source, s, err)
	}
	req.Constraint = c
	return req, nil
}

// releases parses the versions the registry lists, keeping releases (no pre-releases) only.
func releases(listed []string) []*semver.Version {
	var out []*semver.Version
	for _, s := range listed {
		v, err := semver.StrictNewVersion(strings.TrimPrefix(strings.TrimSpace(s), "v"))
		if err != nil || v.Prerelease() != "" {
			continue
		}
		out = append(out, v)
	}
	sort.Sort(sort.Reverse(semver.Collection(out)))
	return out
}

// ltsLines returns the release lines that are LTS: even majors for which a newer major has been
// published (Node.js moves an even line to LTS when the next major comes out). The newest even line
// stays "Current" until then.
func ltsLines(vs []*semver.Version) map[uint64]bool {
	var newest uint64
	for _, v := range vs {
		if v.Major() > newest {
			newest = v.Major()
		}
	}
	lts := map[uint64]bool{}
	for _, v := range vs {
		if v.Major()%2 == 0 && v.Major() >= 4 && v.Major() < newest {
			lts[v.Major()] = true
		}
	}
	return lts
}

// pickNodeVersion chooses among the listed versions: the newest release satisfying the request,
// preferring LTS lines when the request allows several lines (">=18" gives the newest LTS, not a
// Current release).
func pickNodeVersion(req versionRequest, listed []string) (*semver.Version, error) {
	vs := releases(listed)
	if len(vs) == 0 {
		return nil, errors.New("the registry lists no Node.js release")
	}
	lts := ltsLines(vs)
	var match, ltsMatch []*semver.Version
	for _, v := range vs {
		if req.Constraint != nil && !req.Constraint.Check(v) {
			continue
		}
		match = append(match, v)
		if lts[v.Major()] {
			ltsMatch = append(ltsMatch, v)
		}
	}
	switch {
	case req.Newest && len(match) > 0:
		return match[0], nil
	case len(ltsMatch) > 0:
		return ltsMatch[0], nil
	case req.LTSOnly && req.Constraint == nil:
		// No line has reached LTS (a registry that lists a single line): its newest even release.
		for _, v := range vs {
			if v.Major()%2 == 0 {
				return v, nil
			}
		}
		return vs[0], nil
	case len(match) > 0:
		return match[0], nil
	}
	return nil, fmt.Errorf("no Node.js release satisfies %s; the newest is %s (releases from %s to %s are available)", req, vs[0], vs[len(vs)-1], vs[0])
}
