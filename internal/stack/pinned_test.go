package stack

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestTreeBytesPinned pins the bytes a root filesystem is written as: stack
// images are cached by digest, so a writer change that moves a byte would
// rebuild every stack (minutes) and change every run image's digest. The
// digest was taken from the writer stack images were first built with.
func TestTreeBytesPinned(t *testing.T) {
	long := "usr/share/" + strings.Repeat("long-directory-name/", 6) + "file-with-a-name-past-ustar-100-bytes.txt"
	src := stageTar(t, []member{
		{hdr: tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}},
		{hdr: tar.Header{Name: "./usr/bin/ping", Mode: 0o4755, Uid: 3, Gid: 4, PAXRecords: map[string]string{
			"SCHILY.xattr.security.capability": "\x01\x00\x00\x02", "atime": "1"}}, body: "PING"},
		{hdr: tar.Header{Name: "./usr/bin/ping6", Typeflag: tar.TypeLink, Linkname: "./usr/bin/ping"}},
		{hdr: tar.Header{Name: "./" + long, Mode: 0o644}, body: "long"},
		{hdr: tar.Header{Name: "./lib", Typeflag: tar.TypeSymlink, Linkname: "usr/lib"}},
		{hdr: tar.Header{Name: "./dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}},
	})
	rfs := rootfs{}
	for _, n := range src.names() {
		rfs[n] = src.entries[n]
	}
	rfs.addFile("etc/passwd", []byte("root:x:0:0::/root:/sbin/nologin\n"), 0o644, 0, 0)
	rfs.addDir("home/cnb", 0o750, 1000, 1000)
	rfs.addSymlink("etc/ssl/certs/ca-certificates.crt", "/etc/ssl/ca.pem")
	rfs.addParents(src)
	h := sha256.New()
	if err := rfs.writeTar(h, src); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != pinnedTreeDigest {
		t.Errorf("the root filesystem's bytes changed: sha256 %s, was %s; every stack image would change digest", got, pinnedTreeDigest)
	}
}

// pinnedTreeDigest is the sha256 of TestTreeBytesPinned's tar as the writer
// before archive.Writer (stack/tree.go's own) wrote it.
const pinnedTreeDigest = "62135e9737be64cfe385f66254af373114149bd9cdb474f31eb2931092a9f2a2"
