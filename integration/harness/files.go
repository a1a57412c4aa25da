package harness

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Entry is one path of an image's flattened filesystem.
type Entry struct {
	Path     string      // absolute, cleaned: "/usr/bin/node"
	Type     byte        // tar type flag: tar.TypeReg, tar.TypeDir, tar.TypeSymlink, …
	Mode     fs.FileMode // permission and special bits (no type bits)
	Size     int64
	Linkname string // symlink or hard link target
	UID, GID int
}

// IsDir, IsRegular and IsSymlink classify the entry.
func (e Entry) IsDir() bool     { return e.Type == tar.TypeDir }
func (e Entry) IsRegular() bool { return e.Type == tar.TypeReg || e.Type == tar.TypeRegA } //nolint:staticcheck // TypeRegA still appears in old layers
func (e Entry) IsSymlink() bool { return e.Type == tar.TypeSymlink }

// Files lists every path in an image's flattened filesystem (whiteouts
// applied), sorted, as absolute paths ("/", the root, is left out).
// layoutOrRef is an OCI layout directory (read directly, no daemon) or an
// image reference known to podman (saved to a temporary layout first).
func Files(t testing.TB, layoutOrRef string) []string {
	t.Helper()
	entries := Entries(t, layoutOrRef)
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// Entries is Files with each path's type, mode, size, link target and owner.
func Entries(t testing.TB, layoutOrRef string) map[string]Entry {
	t.Helper()
	img := Image(t, layoutOrRef)
	entries, err := flatten(img)
	if err != nil {
		t.Fatalf("reading the filesystem of %s: %v", layoutOrRef, err)
	}
	return entries
}

// Image opens an image as a go-containerregistry v1.Image: the single image
// of an OCI layout directory (for a multi-platform index, the linux/amd64
// one), or an image reference known to podman.
func Image(t testing.TB, layoutOrRef string) v1.Image {
	t.Helper()
	dir := layoutOrRef
	if !isLayout(dir) {
		RequireTools(t)
		dir = filepath.Join(t.TempDir(), "oci")
		Podman(t, "image", "save", "--quiet", "--format", "oci-dir", "--output", dir, layoutOrRef)
	}
	img, err := layoutImage(dir)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func isLayout(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "index.json"))
	return err == nil && st.Mode().IsRegular()
}

// layoutImage returns the image of the OCI layout at dir: its only image, or
// its linux/amd64 image.
func layoutImage(dir string) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	descs, err := imageDescriptors(idx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	d, err := pickImage(descs)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return d.open()
}

type imageDesc struct {
	desc v1.Descriptor
	open func() (v1.Image, error)
}

// imageDescriptors lists the images an index holds, nested indexes included.
func imageDescriptors(idx v1.ImageIndex) ([]imageDesc, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []imageDesc
	for _, d := range m.Manifests {
		switch {
		case d.MediaType.IsImage():
			h := d.Digest
			out = append(out, imageDesc{desc: d, open: func() (v1.Image, error) { return idx.Image(h) }})
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			nested, err := imageDescriptors(child)
			if err != nil {
				return nil, err
			}
			out = append(out, nested...)
		}
	}
	return out, nil
}

func pickImage(descs []imageDesc) (imageDesc, error) {
	switch len(descs) {
	case 0:
		return imageDesc{}, errors.New("holds no image")
	case 1:
		return descs[0], nil
	}
	var match []imageDesc
	for _, d := range descs {
		if p := d.desc.Platform; p != nil && p.OS == "linux" && p.Architecture == "amd64" {
			match = append(match, d)
		}
	}
	if len(match) == 1 {
		return match[0], nil
	}
	return imageDesc{}, fmt.Errorf("holds %d images and %d for linux/amd64: cannot tell which to use", len(descs), len(match))
}

// flatten reads the image's flattened filesystem.
func flatten(img v1.Image) (map[string]Entry, error) {
	return flattenVisit(img, nil)
}

// flattenVisit reads the image's flattened filesystem, calling visit (when not nil) with each
// regular file's entry and contents.
func flattenVisit(img v1.Image, visit func(e Entry, r io.Reader) error) (map[string]Entry, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	entries := map[string]Entry{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries, nil
		}
		if err != nil {
			return nil, err
		}
		p := cleanPath(h.Name)
		if p == "/" {
			continue
		}
		link := h.Linkname
		if h.Typeflag == tar.TypeLink {
			link = cleanPath(link)
		}
		e := Entry{
			Path: p, Type: h.Typeflag, Mode: fs.FileMode(h.Mode) & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky),
			Size: h.Size, Linkname: link, UID: h.Uid, GID: h.Gid,
		}
		entries[p] = e
		if visit != nil && e.IsRegular() {
			if err := visit(e, tr); err != nil {
				return nil, err
			}
		}
	}
}

// cleanPath turns a tar entry name ("./usr/bin/", "usr/bin", "/usr/bin")
// into an absolute cleaned path ("/usr/bin").
func cleanPath(name string) string {
	return path.Clean("/" + name)
}
