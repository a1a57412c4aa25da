package stack

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/internal/image"
)

type member struct {
	hdr  tar.Header
	body string
}

// stageTar writes members (in the given, unsorted order) to a file and indexes it.
func stageTar(t *testing.T, members []member) *tree {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "rootfs.tar"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	tw := tar.NewWriter(f)
	for _, m := range members {
		h := m.hdr
		h.Size = int64(len(m.body))
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.ModTime.IsZero() {
			h.ModTime = time.Unix(1700000000, 0)
		}
		h.Uname, h.Gname = "someone", "somegroup"
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tr, err := indexTar(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

type written struct {
	hdr  *tar.Header
	body string
}

func readTar(t *testing.T, r io.Reader) []written {
	t.Helper()
	var out []written
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, written{h, string(b)})
	}
}

func TestTreeRoundTrip(t *testing.T) {
	src := stageTar(t, []member{
		{hdr: tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "./usr/bin/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "./usr/bin/perl5.40", Mode: 0o755}, body: "PERL"},
		{hdr: tar.Header{Name: "./usr/bin/perl", Typeflag: tar.TypeLink, Linkname: "./usr/bin/perl5.40"}},
		{hdr: tar.Header{Name: "./usr/bin/su", Mode: 0o4755}, body: "SU"},
		{hdr: tar.Header{Name: "./usr/bin/ping", Mode: 0o755, PAXRecords: map[string]string{
			"SCHILY.xattr.security.capability": "\x01\x00\x00\x02", "SCHILY.xattr.user.junk": "x", "atime": "1"}}, body: "PING"},
		{hdr: tar.Header{Name: "./etc/shadow", Mode: 0o640, Gid: 42}, body: "root:*:"},
		{hdr: tar.Header{Name: "./etc/passwd", Mode: 0o644}, body: "root:x:0:0::/root:/bin/sh\n"},
		{hdr: tar.Header{Name: "./bin", Typeflag: tar.TypeSymlink, Linkname: "usr/bin"}},
		{hdr: tar.Header{Name: "./dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}},
		{hdr: tar.Header{Name: "./usr/share/doc/x/README", Mode: 0o644}, body: "docs"},
	})
	if got := string(mustRead(t, src, "usr/bin/perl")); got != "PERL" {
		t.Errorf("read through hard link: %q", got)
	}

	rfs := rootfs{}
	for _, n := range src.names() {
		if !matchAny([]string{"usr/share/doc/**", "usr/bin/perl5.40"}, n) {
			rfs[n] = src.entries[n]
		}
	}
	rfs.addFile("etc/passwd", []byte("generated\n"), 0o644, 0, 0)
	rfs.addDir("home/cnb", 0o755, 1000, 1000)
	rfs.addSymlink("usr/lib/ssl/certs", "/etc/ssl/certs")
	rfs.addParents(src)

	var buf bytes.Buffer
	if err := rfs.writeTar(&buf, src); err != nil {
		t.Fatal(err)
	}
	first := buf.String()
	got := readTar(t, &buf)
	var names []string
	byName := map[string]written{}
	for _, w := range got {
		names = append(names, w.hdr.Name)
		byName[w.hdr.Name] = w
		if !w.hdr.ModTime.Equal(image.Epoch) {
			t.Errorf("%s: mtime %v", w.hdr.Name, w.hdr.ModTime)
		}
		if w.hdr.Uname != "" || w.hdr.Gname != "" {
			t.Errorf("%s: owner names %q/%q", w.hdr.Name, w.hdr.Uname, w.hdr.Gname)
		}
	}
	wantNames := "bin dev/ etc/ etc/passwd etc/shadow home/ home/cnb/ usr/ usr/bin/ usr/bin/perl usr/bin/ping usr/bin/su usr/lib/ usr/lib/ssl/ usr/lib/ssl/certs"
	if strings.Join(names, " ") != wantNames {
		t.Errorf("entries:\n%s\nwant\n%s", strings.Join(names, " "), wantNames)
	}
	// The hard link's first member was filtered out: it became a regular file.
	if w := byName["usr/bin/perl"]; w.hdr.Typeflag != tar.TypeReg || w.body != "PERL" || w.hdr.Mode != 0o755 {
		t.Errorf("perl: type %c mode %o body %q", w.hdr.Typeflag, w.hdr.Mode, w.body)
	}
	if w := byName["usr/bin/su"]; w.hdr.Mode != 0o4755 {
		t.Errorf("su mode %o", w.hdr.Mode)
	}
	if w := byName["usr/bin/ping"]; w.hdr.PAXRecords["SCHILY.xattr.security.capability"] != "\x01\x00\x00\x02" || w.hdr.PAXRecords["SCHILY.xattr.user.junk"] != "" {
		t.Errorf("ping xattrs %q", w.hdr.PAXRecords)
	}
	if w := byName["etc/shadow"]; w.hdr.Gid != 42 || w.hdr.Mode != 0o640 || w.body != "root:*:" {
		t.Errorf("shadow: gid %d mode %o", w.hdr.Gid, w.hdr.Mode)
	}
	if w := byName["etc/passwd"]; w.body != "generated\n" {
		t.Errorf("passwd %q", w.body)
	}
	if w := byName["home/cnb/"]; w.hdr.Uid != 1000 || w.hdr.Gid != 1000 {
		t.Errorf("home owner %d:%d", w.hdr.Uid, w.hdr.Gid)
	}
	if w := byName["usr/lib/ssl/certs"]; w.hdr.Typeflag != tar.TypeSymlink || w.hdr.Linkname != "/etc/ssl/certs" {
		t.Errorf("symlink %+v", w.hdr)
	}

	// Same input, same bytes.
	var again bytes.Buffer
	if err := rfs.writeTar(&again, src); err != nil {
		t.Fatal(err)
	}
	if again.String() != first {
		t.Error("two writes differ")
	}
}

func TestTreeHardLinkKept(t *testing.T) {
	src := stageTar(t, []member{
		{hdr: tar.Header{Name: "./z/data", Mode: 0o644}, body: "DATA"},
		{hdr: tar.Header{Name: "./a/link", Typeflag: tar.TypeLink, Linkname: "./z/data"}},
	})
	rfs := rootfs{"z/data": src.entries["z/data"], "a/link": src.entries["a/link"]}
	rfs.addParents(src)
	var buf bytes.Buffer
	if err := rfs.writeTar(&buf, src); err != nil {
		t.Fatal(err)
	}
	got := readTar(t, &buf)
	// Sorted: a/link comes first and carries the data; z/data links to it.
	if len(got) != 4 || got[1].hdr.Name != "a/link" || got[1].body != "DATA" ||
		got[3].hdr.Typeflag != tar.TypeLink || got[3].hdr.Linkname != "a/link" {
		for _, w := range got {
			t.Logf("%s %c %q %q", w.hdr.Name, w.hdr.Typeflag, w.hdr.Linkname, w.body)
		}
		t.Error("hard link not rewritten")
	}
}

func mustRead(t *testing.T, src *tree, name string) []byte {
	t.Helper()
	b, err := src.read(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
