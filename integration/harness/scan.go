package harness

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Finding is one place a searched string appears: a file under the scanned
// directory (an OCI layout's blob, say) and, when that file is a tar archive
// (compressed or not), the entry inside it; Field says whether the entry's
// name, link target, PAX records or content hold it.
type Finding struct {
	Needle, File, Entry, Field string
}

func (f Finding) String() string {
	if f.Entry == "" {
		return fmt.Sprintf("%q in %s", f.Needle, f.File)
	}
	return fmt.Sprintf("%q in %s, entry %s (%s)", f.Needle, f.File, f.Entry, f.Field)
}

// FindStrings reads every byte of every file under dir — an OCI layout's
// index.json, manifests, configs and layers, or a build cache — and reports
// where any of needles appears. gzip and zstd files are decompressed first;
// tar archives are read entry by entry (names, link targets, PAX records and
// contents), and tar files nested in them too.
func FindStrings(t testing.TB, dir string, needles []string) []Finding {
	t.Helper()
	var found []Finding
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got, err := scanFile(p, needles, rel)
		if err != nil {
			// Not the archive it looks like (a fixture of the Go sources'
			// tests, say): search its bytes as they are.
			t.Logf("%s: %v; searching its bytes as they are", rel, err)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			got = match(data, needles, rel, "", "content")
		}
		found = append(found, got...)
		return nil
	})
	if err != nil {
		t.Fatalf("searching %s for secrets: %v", dir, err)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].String() < found[j].String() })
	return found
}

func scanFile(p string, needles []string, rel string) ([]Finding, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return scanStream(f, needles, rel, "")
}

// scanStream searches r, decompressed if it is gzip or zstd, as a tar archive
// if it is one, else as plain bytes. entry is the tar entry r is ("" for a
// file). An entry that only looks compressed (a truncated .gz, say) is
// searched as it is.
func scanStream(r io.Reader, needles []string, file, entry string) ([]Finding, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(512)
	var open func(io.Reader) (io.ReadCloser, error)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		open = func(r io.Reader) (io.ReadCloser, error) { return gzip.NewReader(r) }
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		open = func(r io.Reader) (io.ReadCloser, error) {
			zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
			if err != nil {
				return nil, err
			}
			return zr.IOReadCloser(), nil
		}
	case len(head) == 512 && bytes.Equal(head[257:262], []byte("ustar")):
		if entry == "" {
			return scanTar(br, needles, file, entry)
		}
		// A tar inside a tar: searched entry by entry when it parses, as
		// bytes when it does not.
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, err
		}
		if found, err := scanTar(bytes.NewReader(data), needles, file, entry); err == nil {
			return found, nil
		}
		return match(data, needles, file, entry, "content"), nil
	}
	if open == nil {
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, err
		}
		return match(data, needles, file, entry, "content"), nil
	}
	if entry == "" {
		zr, err := open(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		return scanStream(zr, needles, file, entry)
	}
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, err
	}
	found := match(data, needles, file, entry, "content")
	if zr, err := open(bytes.NewReader(data)); err == nil {
		defer zr.Close()
		if inner, err := scanStream(zr, needles, file, entry); err == nil {
			found = append(found, inner...)
		}
	}
	return found, nil
}

// scanTar searches every entry of a tar archive: its header fields, then its
// content (itself scanned as a stream, so archives inside are opened too).
func scanTar(r io.Reader, needles []string, file, outer string) ([]Finding, error) {
	tr := tar.NewReader(r)
	var found []Finding
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return found, nil
		}
		if err != nil {
			return nil, err
		}
		name := h.Name
		if outer != "" {
			name = outer + "!" + h.Name
		}
		found = append(found, match([]byte(h.Name), needles, file, name, "name")...)
		found = append(found, match([]byte(h.Linkname), needles, file, name, "link target")...)
		for k, v := range h.PAXRecords {
			found = append(found, match([]byte(k+"="+v), needles, file, name, "PAX record")...)
		}
		got, err := scanStream(tr, needles, file, name)
		if err != nil {
			return nil, fmt.Errorf("entry %s: %w", name, err)
		}
		found = append(found, got...)
	}
}

func match(data []byte, needles []string, file, entry, field string) []Finding {
	var found []Finding
	for _, n := range needles {
		if bytes.Contains(data, []byte(n)) {
			found = append(found, Finding{Needle: n, File: file, Entry: entry, Field: field})
		}
	}
	return found
}
