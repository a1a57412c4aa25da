package node

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestExtractPackageRefusesHostileTarballs: crafted npm package tarballs
// aiming at a sentinel beside the destination are refused, naming the
// tarball and the entry, and the sentinel never changes.
func TestExtractPackageRefusesHostileTarballs(t *testing.T) {
	for _, tt := range []struct {
		name  string
		hdrs  func(sentinel string) []*tar.Header
		entry string
	}{
		{"symlink out, then a file through it", func(s string) []*tar.Header {
			return []*tar.Header{
				{Name: "package/bin", Typeflag: tar.TypeSymlink, Linkname: s},
				{Name: "package/bin/node", Typeflag: tar.TypeReg, Mode: 0o755},
			}
		}, "package/bin"},
		{"relative symlink out", func(string) []*tar.Header {
			return []*tar.Header{{Name: "package/lib", Typeflag: tar.TypeSymlink, Linkname: "../../sentinel"}}
		}, "package/lib"},
		{"dotdot name", func(string) []*tar.Header {
			return []*tar.Header{{Name: "package/../../sentinel/keep", Typeflag: tar.TypeReg, Mode: 0o644}}
		}, "package/../../sentinel/keep"},
		{"hard link to a file outside", func(string) []*tar.Header {
			return []*tar.Header{{Name: "package/passwd", Typeflag: tar.TypeLink, Linkname: "../sentinel/keep"}}
		}, "package/passwd"},
		{"setuid node", func(string) []*tar.Header {
			return []*tar.Header{{Name: "package/bin/node", Typeflag: tar.TypeReg, Mode: 0o4755}}
		}, "package/bin/node"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			sentinel := filepath.Join(parent, "sentinel")
			os.MkdirAll(sentinel, 0o755)
			os.WriteFile(filepath.Join(sentinel, "keep"), []byte("k"), 0o644)
			var buf bytes.Buffer
			gz := gzip.NewWriter(&buf)
			tw := tar.NewWriter(gz)
			for _, h := range tt.hdrs(sentinel) {
				if err := tw.WriteHeader(h); err != nil {
					t.Fatal(err)
				}
			}
			tw.Close()
			gz.Close()
			tarball := filepath.Join(parent, "evil.tgz")
			os.WriteFile(tarball, buf.Bytes(), 0o644)

			err := extractPackage(tarball, filepath.Join(parent, "dest"))
			if err == nil || !strings.Contains(err.Error(), "extracting "+tarball+": entry \""+tt.entry+"\"") {
				t.Fatalf("error = %v, want one naming %s and entry %q", err, tarball, tt.entry)
			}
			entries, _ := os.ReadDir(sentinel)
			b, _ := os.ReadFile(filepath.Join(sentinel, "keep"))
			if len(entries) != 1 || string(b) != "k" {
				t.Errorf("sentinel changed: %d entries, keep = %q", len(entries), b)
			}
		})
	}
}

func TestParseReleaseEngines(t *testing.T) {
	tests := []struct {
		name, out, want string
	}{
		{name: "several", out: `[{"version":"9.9.4","engines.node":"^14.17.0 || ^16.13.0 || >=18.0.0"},{"version":"6.14.18"}]`, want: "6.14.18=,9.9.4=^14.17.0 || ^16.13.0 || >=18.0.0"},
		{name: "one", out: `{"version":"7.24.2","engines.node":">=10"}`, want: "7.24.2=>=10"},
		{name: "none", out: "\n", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseReleaseEngines([]byte(tt.out))
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for v, e := range got {
				parts = append(parts, v+"="+e)
			}
			sort.Strings(parts)
			if g := strings.Join(parts, ","); g != tt.want {
				t.Errorf("got %q, want %q", g, tt.want)
			}
		})
	}
	if _, err := parseReleaseEngines([]byte("npm ERR")); err == nil {
		t.Error("garbage parsed")
	}
}
