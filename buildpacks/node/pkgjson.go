package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// packageJSON is what the buildpack reads from package.json.
type packageJSON struct {
	Name           string            `json:"name"`
	Version        string            `json:"version"`
	Main           string            `json:"main"`
	Scripts        map[string]string `json:"scripts"`
	Engines        map[string]string `json:"engines"`
	PackageManager string            `json:"packageManager"`

	Dependencies         map[string]string `json:"dependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`

	// raw holds the top-level fields that decide what an install produces (see installInputs).
	raw map[string]json.RawMessage
}

// readPackageJSON reads <app>/package.json; ok is false when there is none. A malformed file is an
// error naming the file, line and column.
func readPackageJSON(appDir string) (pkg packageJSON, ok bool, err error) {
	path := filepath.Join(appDir, "package.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return packageJSON{}, false, nil
	}
	if err != nil {
		return packageJSON{}, false, fmt.Errorf("unable to read %s: %w", path, err)
	}
	pkg, err = parsePackageJSON(path, data)
	return pkg, err == nil, err
}

func parsePackageJSON(path string, data []byte) (packageJSON, error) {
	var pkg packageJSON
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := json.Unmarshal(data, &pkg.raw); err != nil {
		return packageJSON{}, fmt.Errorf("%s is not valid JSON: %s", path, jsonErrorPosition(data, err))
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return packageJSON{}, fmt.Errorf("%s: %s", path, jsonErrorPosition(data, err))
	}
	return pkg, nil
}

// jsonErrorPosition renders a JSON error with line:column where the decoder gives an offset.
func jsonErrorPosition(data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return err.Error()
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

// hasDependencies reports whether package.json declares any dependency to install.
func (p packageJSON) hasDependencies() bool {
	return len(p.Dependencies)+len(p.DevDependencies)+len(p.OptionalDependencies) > 0
}

// installInputs are the package.json fields that change what an install produces: every
// dependency field, overrides/resolutions, workspaces, npm 12's allowScripts (which dependencies' install
// scripts run) and the root package's install scripts.
func (p packageJSON) installInputs() []byte {
	var b bytes.Buffer
	for _, k := range []string{"dependencies", "devDependencies", "optionalDependencies", "peerDependencies",
		"bundleDependencies", "bundledDependencies", "overrides", "resolutions", "pnpm", "workspaces", "packageManager", "allowScripts"} {
		if v, ok := p.raw[k]; ok {
			fmt.Fprintf(&b, "%s=%s\n", k, compactJSON(v))
		}
	}
	for _, s := range []string{"preinstall", "install", "postinstall", "prepare"} {
		if v, ok := p.Scripts[s]; ok {
			fmt.Fprintf(&b, "scripts.%s=%s\n", s, v)
		}
	}
	return b.Bytes()
}

// rootInstallScripts are the root package's scripts that the install of package manager kind
// runs, in the order it runs them (Yarn Berry runs no prepare on install).
func (p packageJSON) rootInstallScripts(kind string) []string {
	names := []string{"preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare"}
	if kind == PMBerry {
		names = []string{"preinstall", "install", "postinstall"}
	}
	var out []string
	for _, s := range names {
		if strings.TrimSpace(p.Scripts[s]) != "" {
			out = append(out, s)
		}
	}
	return out
}

// withoutHooks drops preX and postX where X is listed too: running X runs its hooks.
func withoutHooks(scripts []string) []string {
	has := map[string]bool{}
	for _, s := range scripts {
		has[s] = true
	}
	var out []string
	for _, s := range scripts {
		base := strings.TrimPrefix(strings.TrimPrefix(s, "pre"), "post")
		if base != s && has[base] {
			continue
		}
		out = append(out, s)
	}
	return out
}

func compactJSON(v json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v)
	}
	return b.String()
}

// hexDigestSize is the digest size in bytes of each algorithm a packageManager hash may name.
var hexDigestSize = map[string]int{"sha512": 64, "sha384": 48, "sha256": 32, "sha224": 28, "sha1": 20}

// packageManagerField is package.json's "packageManager": name@version[+hash].
type packageManagerField struct {
	Name, Version string
	HashAlgo      string // a key of hexDigestSize; empty if none
	Hash          string // lower-case hex of the digest's size
}

func parsePackageManager(s string) (packageManagerField, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return packageManagerField{}, nil
	}
	at := strings.LastIndex(s, "@")
	if at <= 0 {
		return packageManagerField{}, fmt.Errorf("packageManager %q: want <name>@<version>, e.g. pnpm@9.12.0", s)
	}
	f := packageManagerField{Name: s[:at], Version: s[at+1:]}
	if v, h, ok := strings.Cut(f.Version, "+"); ok {
		f.Version = v
		algo, hex, ok := strings.Cut(h, ".")
		if !ok || hex == "" {
			return packageManagerField{}, fmt.Errorf("packageManager %q: hash %q is not <algorithm>.<hex>", s, h)
		}
		f.HashAlgo, f.Hash = algo, strings.ToLower(hex)
		if size, ok := hexDigestSize[algo]; !ok || len(f.Hash) != 2*size || strings.Trim(f.Hash, "0123456789abcdef") != "" {
			return packageManagerField{}, fmt.Errorf("packageManager %q: hash %q is not a sha512, sha384, sha256, sha224 or sha1 digest in hex (corepack use writes it)", s, h)
		}
	}
	switch f.Name {
	case "npm", "pnpm", "yarn":
	default:
		return packageManagerField{}, fmt.Errorf("packageManager %q: %q is not npm, pnpm or yarn", s, f.Name)
	}
	if f.Version == "" {
		return packageManagerField{}, fmt.Errorf("packageManager %q names no version", s)
	}
	return f, nil
}
