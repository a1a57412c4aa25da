package harness

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// tarOf is a tar of name → content; a name "pax:NAME" gets content as a PAX
// record instead.
func tarOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if n, ok := strings.CutPrefix(name, "pax:"); ok {
			hdr.Name, hdr.Size, hdr.PAXRecords = n, 0, map[string]string{"SCHILY.xattr.user.note": content}
			content = ""
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipOf(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdOf(t *testing.T, data []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(data, nil)
}

func TestFindStrings(t *testing.T) {
	const needle = "canary-1234"
	corrupt := tarOf(t, map[string]string{"x": "a " + needle})
	corrupt[148] ^= 0xff // the header checksum
	for _, tc := range []struct {
		name string
		blob []byte
		want string // the Finding's String, "" for none
	}{
		{name: "plain json", blob: []byte(`{"Env":["X=` + needle + `"]}`), want: `"canary-1234" in blob`},
		{name: "gzip layer content", blob: gzipOf(t, tarOf(t, map[string]string{"app/.npmrc": "token=" + needle})), want: `"canary-1234" in blob, entry app/.npmrc (content)`},
		{name: "zstd layer name", blob: zstdOf(t, tarOf(t, map[string]string{"app/" + needle: "x"})), want: `"canary-1234" in blob, entry app/canary-1234 (name)`},
		{name: "PAX record", blob: tarOf(t, map[string]string{"pax:app/f": needle}), want: `"canary-1234" in blob, entry app/f (PAX record)`},
		{name: "a tgz inside a layer", blob: zstdOf(t, tarOf(t, map[string]string{"cache/pkg.tgz": string(gzipOf(t, tarOf(t, map[string]string{"package/.npmrc": needle})))})),
			want: `"canary-1234" in blob, entry cache/pkg.tgz!package/.npmrc (content)`},
		{name: "a corrupt tar is read as bytes", blob: corrupt, want: `"canary-1234" in blob`},
		{name: "clean layer", blob: gzipOf(t, tarOf(t, map[string]string{"app/main": "hello"}))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "blob"), tc.blob, 0o644); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range FindStrings(t, dir, []string{needle}) {
				got = append(got, f.String())
			}
			want := []string{}
			if tc.want != "" {
				want = []string{tc.want}
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("FindStrings = %q, want %q", got, want)
			}
		})
	}
}
