package node

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// FuzzParsePackageJSON: parsePackageJSON never panics; an error names the
// file (and, for a syntax error, the line and column); a file it accepts is
// JSON, and what the build reads of it (the install inputs, the root
// install scripts, packageManager, engines.node) is decided without a panic
// and with errors naming the file. Seeds: testdata/fuzz/FuzzParsePackageJSON.
func FuzzParsePackageJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"app","scripts":{"start":"node server.js","postinstall":"patch-package"},"engines":{"node":">=20 <23","npm":"^10"},"packageManager":"pnpm@9.12.0","dependencies":{"express":"^4"}}`,
		"\xef\xbb\xbf{\"main\":\"lib/index\",\"workspaces\":[\"a\",\"b\"],\"overrides\":{\"x\":\"1\"}}",
		`{"engines":{"node":"lts/iron"},"packageManager":"yarn@4.5.1+sha512.00"}`,
		"{\n  \"dependencies\": {\"a\": 1}\n}", `{"engines":"node 18"}`, `[1]`, `{"a":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const path = "/app/package.json"
		pkg, err := parsePackageJSON(path, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), path) {
				t.Fatalf("error %q does not name %s", err, path)
			}
			return
		}
		if !json.Valid(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if in := pkg.installInputs(); !bytes.Equal(in, pkg.installInputs()) {
			t.Fatalf("install inputs differ between two calls: %q", in)
		}
		for _, kind := range []string{PMNpm, PMYarn, PMBerry, PMPnpm} {
			for _, s := range pkg.rootInstallScripts(kind) {
				if strings.TrimSpace(pkg.Scripts[s]) == "" {
					t.Fatalf("%s runs the empty script %q", kind, s)
				}
			}
		}
		checkPackageManager(t, pkg.PackageManager)
		if _, err := nodeVersionRequest("/app", pkg, ""); err != nil && !strings.Contains(err.Error(), path+" engines.node") {
			t.Fatalf("engines.node error %q does not name %s engines.node", err, path)
		}
	})
}

// FuzzParsePackageManager: see checkPackageManager. Seeds:
// testdata/fuzz/FuzzParsePackageManager.
func FuzzParsePackageManager(f *testing.F) {
	for _, s := range []string{"pnpm@9.12.0", "yarn@4.5.1+sha512." + strings.Repeat("ab", 64), " npm@10 ", "pnpm@9+sha1.", "bun@1", "@", "yarn@1@2"} {
		f.Add(s)
	}
	f.Fuzz(checkPackageManager)
}

// checkPackageManager: parsePackageManager never panics; an error quotes
// the field; an accepted field names npm, pnpm or yarn with a version, a
// hash is lower-case hex of its algorithm's size, and the field written
// back parses to the same value.
func checkPackageManager(t *testing.T, s string) {
	f, err := parsePackageManager(s)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "packageManager ") {
			t.Fatalf("error %q does not say packageManager", err)
		}
		return
	}
	if strings.TrimSpace(s) == "" {
		if f != (packageManagerField{}) {
			t.Fatalf("empty field gave %+v", f)
		}
		return
	}
	if !slices.Contains([]string{"npm", "pnpm", "yarn"}, f.Name) || f.Version == "" {
		t.Fatalf("%q gave %+v", s, f)
	}
	written := f.Name + "@" + f.Version
	if f.HashAlgo != "" {
		if len(f.Hash) != 2*hexDigestSize[f.HashAlgo] || strings.Trim(f.Hash, "0123456789abcdef") != "" {
			t.Fatalf("%q: accepted hash %s.%s", s, f.HashAlgo, f.Hash)
		}
		written += "+" + f.HashAlgo + "." + f.Hash
	}
	if again, err := parsePackageManager(written); err != nil || again != f {
		t.Fatalf("%q → %+v → %q → %+v, %v", s, f, written, again, err)
	}
}
