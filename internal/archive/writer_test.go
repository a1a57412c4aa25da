package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// headerLine is what a test compares of a written header.
func headerLine(h *tar.Header) string {
	line := fmt.Sprintf("%c %s %o %d:%d", h.Typeflag, h.Name, h.Mode, h.Uid, h.Gid)
	if h.Linkname != "" {
		line += " -> " + h.Linkname
	}
	if h.Size > 0 {
		line += fmt.Sprintf(" %dB", h.Size)
	}
	for k, v := range h.PAXRecords {
		line += " " + k + "=" + v
	}
	return line
}

// readBack lists the headers of a tar stream, checking what every entry must
// be: epoch times, no user or group names.
func readBack(t *testing.T, data []byte) []string {
	t.Helper()
	var lines []string
	err := Walk(context.Background(), "written", bytes.NewReader(data), func(_ string, h *tar.Header, _ io.Reader) error {
		if !h.ModTime.Equal(Epoch) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: times %v/%v/%v, names %q/%q; want the epoch and no names", h.Name, h.ModTime, h.AccessTime, h.ChangeTime, h.Uname, h.Gname)
		}
		lines = append(lines, headerLine(h))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestWriterHeaders(t *testing.T) {
	someTime := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name    string
		opts    []WriterOption
		headers []tar.Header
		want    []string
		err     error
		errText string
	}{
		{
			name: "normalised, parents added as root 0755",
			headers: []tar.Header{
				{Typeflag: tar.TypeReg, Name: "./usr/bin/tool", Mode: 0o104755, Uid: 7, Gid: 8, Size: 2, Uname: "u", Gname: "g", ModTime: someTime, AccessTime: someTime,
					PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "cap", "atime": "1", "mtime": "2"}},
				{Typeflag: tar.TypeLink, Name: "usr/bin/tool2", Linkname: "usr/bin/tool"},
				{Typeflag: tar.TypeSymlink, Name: "/usr/lib", Linkname: "../lib", Mode: 0o777},
			},
			want: []string{
				"5 usr/ 755 0:0", "5 usr/bin/ 755 0:0",
				"0 usr/bin/tool 4755 7:8 2B SCHILY.xattr.security.capability=cap",
				"1 usr/bin/tool2 0 0:0 -> usr/bin/tool",
				"2 usr/lib 777 0:0 -> ../lib",
			},
		},
		{
			name: "Owner applies to entries and parents",
			opts: []WriterOption{Owner(1000, 1001)},
			headers: []tar.Header{
				{Typeflag: tar.TypeDir, Name: "layers/app", Mode: 0o750},
				{Typeflag: tar.TypeRegA, Name: "layers/app/x", Mode: 0o644, Uid: 5},
			},
			want: []string{"5 layers/ 755 1000:1001", "5 layers/app/ 750 1000:1001", "0 layers/app/x 644 1000:1001"},
		},
		{
			name:    "unsorted",
			headers: []tar.Header{{Typeflag: tar.TypeDir, Name: "b"}, {Typeflag: tar.TypeDir, Name: "a"}},
			errText: "comes after",
		},
		{
			name:    "twice",
			headers: []tar.Header{{Typeflag: tar.TypeDir, Name: "a"}, {Typeflag: tar.TypeDir, Name: "a/"}},
			errText: "comes after",
		},
		{name: "device", headers: []tar.Header{{Typeflag: tar.TypeChar, Name: "dev/null"}}, err: ErrRefused},
		{name: "fifo", headers: []tar.Header{{Typeflag: tar.TypeFifo, Name: "run/pipe"}}, err: ErrRefused},
		{name: "climbing name", headers: []tar.Header{{Typeflag: tar.TypeReg, Name: "a/../../etc/passwd"}}, err: ErrEscape},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf, tc.opts...)
			var err error
			for i := range tc.headers {
				h := tc.headers[i]
				if err = w.WriteHeader(&h); err != nil {
					break
				}
				if _, err = w.Write(bytes.Repeat([]byte("x"), int(h.Size))); err != nil {
					break
				}
			}
			if err == nil {
				err = w.Close()
			}
			switch {
			case tc.err != nil || tc.errText != "":
				if err == nil || (tc.err != nil && !errors.Is(err, tc.err)) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err = %v, want %v %q", err, tc.err, tc.errText)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if got := readBack(t, buf.Bytes()); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("wrote\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestWriterWriteDir(t *testing.T) {
	src := t.TempDir()
	for name, body := range map[string]string{"a/b": "1", "a-c": "22", "a.d/e": "333", "skip/x": "", "run": "4"} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(src, "run"), 0o755|fs.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(src, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a/b", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	keep := func(rel string, _ fs.DirEntry) bool { return rel != "skip" }
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		// Sorted by name as strings: "a" < "a-c" < "a.d" < "a.d/e" < "a/b".
		{"", []string{"5 a/ 755 9:9", "0 a-c 644 9:9 2B", "5 a.d/ 755 9:9", "0 a.d/e 644 9:9 3B", "0 a/b 644 9:9 1B", "2 link 777 9:9 -> a/b", "0 run 2755 9:9 1B"}},
		{"/layers/bp/app", []string{"5 layers/ 755 9:9", "5 layers/bp/ 755 9:9", "5 layers/bp/app/ 750 9:9",
			"5 layers/bp/app/a/ 755 9:9", "0 layers/bp/app/a-c 644 9:9 2B", "5 layers/bp/app/a.d/ 755 9:9", "0 layers/bp/app/a.d/e 644 9:9 3B",
			"0 layers/bp/app/a/b 644 9:9 1B", "2 layers/bp/app/link 777 9:9 -> a/b", "0 layers/bp/app/run 2755 9:9 1B"}},
	} {
		t.Run("prefix "+tc.prefix, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf, Owner(9, 9))
			if err := w.WriteDir(src, strings.Trim(tc.prefix, "/"), keep); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := readBack(t, buf.Bytes()); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("wrote\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestIndex(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.tar")
	if err := os.WriteFile(p, tarBytes(t, dir("./"), dir("./etc/"), file("./etc/hostname", "box\n"), file("/etc/motd", "hi\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	err = Index(context.Background(), p, f, func(name string, h *tar.Header, off int64) error {
		body := ""
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(io.NewSectionReader(f, off, h.Size))
			if err != nil {
				return err
			}
			body = string(data)
		}
		got = append(got, fmt.Sprintf("%s=%q", name, body))
		return nil
	}, Layer())
	if err != nil {
		t.Fatal(err)
	}
	want := `etc="" etc/hostname="box\n" etc/motd="hi\n"`
	if strings.Join(got, " ") != want {
		t.Errorf("Index gave %s, want %s", strings.Join(got, " "), want)
	}
	climbing := filepath.Join(t.TempDir(), "climb.tar")
	if err := os.WriteFile(climbing, tarBytes(t, file("../x", "")), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := os.Open(climbing)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := Index(context.Background(), climbing, g, func(string, *tar.Header, int64) error { return nil }, Layer()); !errors.Is(err, ErrEscape) {
		t.Errorf("Index of a climbing name: %v, want ErrEscape", err)
	}
}
