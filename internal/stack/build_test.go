package stack

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/cnbmeta"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/testenv"
)

// needMmdebstrap skips tests that fetch packages when mmdebstrap is missing.
func needMmdebstrap(t *testing.T) {
	t.Helper()
	testenv.NeedCommand(t, "mmdebstrap", "scripts/setup installs it: apt-get install mmdebstrap")
}

func loadStack(t *testing.T, name string) *Definition {
	t.Helper()
	d, err := Load(filepath.Join("..", "..", "stacks", name))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type built struct {
	img     v1.Image
	digest  v1.Hash
	size    int64 // compressed
	files   map[string]*tar.Header
	content map[string][]byte // regular files up to 1 MB
	usize   int64
}

func buildStack(t *testing.T, d *Definition, opts ...Option) *built {
	t.Helper()
	var log bytes.Buffer
	img, err := Build(context.Background(), d, append([]Option{WithProgress(&log), WithWorkDir(t.TempDir())}, opts...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	b := &built{img: img, files: map[string]*tar.Header{}, content: map[string][]byte{}}
	if b.digest, err = img.Digest(); err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		sz, err := l.Size()
		if err != nil {
			t.Fatal(err)
		}
		b.size += sz
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		cr := &countingReader{r: rc}
		tr := tar.NewReader(cr)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimSuffix(h.Name, "/")
			b.files[name] = h
			if h.Typeflag == tar.TypeReg && h.Size <= 1<<20 {
				b.content[name], _ = io.ReadAll(tr)
			}
		}
		io.Copy(io.Discard, cr)
		rc.Close()
		b.usize += cr.n
	}
	return b
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (b *built) has(name string) bool { _, ok := b.files[name]; return ok }

// checkCommon asserts what every run image must have.
func checkCommon(t *testing.T, d *Definition, b *built) {
	t.Helper()
	m, err := b.img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON || len(m.Layers) != 1 || m.Layers[0].MediaType != types.OCILayer {
		t.Errorf("media types: manifest %s config %s layers %d (%v)", m.MediaType, m.Config.MediaType, len(m.Layers), m.Layers)
	}
	cf, err := b.img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !cf.Created.Time.Equal(image.Epoch) || len(cf.History) != 1 || !cf.History[0].Created.Time.Equal(image.Epoch) {
		t.Errorf("created %v history %+v", cf.Created, cf.History)
	}
	if cf.OS != "linux" || cf.Architecture == "" || cf.Config.User != "1000:1000" {
		t.Errorf("os %q arch %q user %q", cf.OS, cf.Architecture, cf.Config.User)
	}
	env := strings.Join(cf.Config.Env, " ")
	if !strings.Contains(env, "CNB_USER_ID=1000") || !strings.Contains(env, "CNB_GROUP_ID=1000") {
		t.Errorf("env %q", env)
	}
	lb := cf.Config.Labels
	if lb[cnbmeta.LabelStackID] != "io.distill.stacks.trixie" || lb[cnbmeta.LabelDistroName] != "debian" || lb[cnbmeta.LabelDistroVersion] != "13" || lb[LabelTitle] == "" {
		t.Errorf("labels %v", lb)
	}
	var pkgs []PackageVersion
	if err := json.Unmarshal([]byte(lb[cnbmeta.LabelStackPackages]), &pkgs); err != nil || len(pkgs) != len(d.Packages) {
		t.Errorf("package label %q: %v", lb[cnbmeta.LabelStackPackages], err)
	}
	for _, p := range pkgs {
		rec := string(b.content["var/lib/dpkg/status.d/"+p.Name])
		if !strings.Contains(rec, "Package: "+p.Name+"\nStatus: install ok installed\n") || !strings.Contains(rec, "\nVersion: "+p.Version+"\n") {
			t.Errorf("status.d/%s:\n%s", p.Name, rec)
		}
	}
	for _, n := range []string{"bin/sh", "usr/bin/sh", "usr/bin/bash", "usr/bin/dpkg", "usr/bin/apt", "var/lib/dpkg/status", "usr/share/doc", "usr/share/man"} {
		if b.has(n) {
			t.Errorf("%s is in the image", n)
		}
	}
	if h := b.files["tmp"]; h == nil || h.Mode != 0o1777 || h.Typeflag != tar.TypeDir {
		t.Errorf("tmp: %+v", h)
	}
	if h := b.files["home/cnb"]; h == nil || h.Uid != 1000 || h.Gid != 1000 {
		t.Errorf("home/cnb: %+v", h)
	}
	if !strings.Contains(string(b.content["etc/passwd"]), "\ncnb:x:1000:1000:") || !strings.Contains(string(b.content["etc/group"]), "\ncnb:x:1000:") {
		t.Errorf("passwd/group:\n%s\n%s", b.content["etc/passwd"], b.content["etc/group"])
	}
	if h := b.files["etc/os-release"]; h == nil || h.Linkname != "../usr/lib/os-release" || !strings.Contains(string(b.content["usr/lib/os-release"]), "ID=debian") {
		t.Errorf("os-release: %+v", h)
	}
	bundle := b.content["etc/ssl/certs/ca-certificates.crt"]
	var n int
	for rest := bundle; ; {
		var c *x509.Certificate
		var err error
		c, rest, err = nextCert(rest)
		if err != nil {
			t.Fatalf("CA bundle: %v", err)
		}
		if c == nil {
			break
		}
		n++
	}
	if n <= 100 {
		t.Errorf("CA bundle has %d certificates", n)
	}
	for name, h := range b.files {
		if !h.ModTime.Equal(image.Epoch) || h.Uname != "" {
			t.Errorf("%s: mtime %v uname %q", name, h.ModTime, h.Uname)
			break
		}
		if strings.HasPrefix(name, "usr/share/ca-certificates") || strings.HasPrefix(name, "usr/share/zoneinfo/right") {
			t.Errorf("%s is in the image", name)
		}
	}
	if !b.has("usr/share/zoneinfo/Europe/Paris") || !b.has("usr/share/zoneinfo/UTC") {
		t.Error("zoneinfo missing")
	}
}

func TestBuildRunStatic(t *testing.T) {
	testenv.Slow(t, "mmdebstrap fetches and unpacks Debian packages twice (a minute)")
	needMmdebstrap(t)
	t.Parallel()
	d := loadStack(t, "run-static.toml")
	var a, b *built
	t.Run("twice", func(t *testing.T) {
		t.Run("1", func(t *testing.T) { t.Parallel(); a = buildStack(t, d) })
		t.Run("2", func(t *testing.T) { t.Parallel(); b = buildStack(t, d) })
	})
	if a == nil || b == nil {
		t.FailNow()
	}
	if a.digest != b.digest {
		t.Errorf("two builds, two digests: %s %s", a.digest, b.digest)
	}
	t.Logf("run:static %s: %d bytes compressed, %d uncompressed, %d entries", a.digest, a.size, a.usize, len(a.files))
	if a.size > 512<<10 {
		t.Errorf("run:static is %d bytes compressed, want <= 0.5 MB", a.size)
	}
	checkCommon(t, d, a)
	for name := range a.files {
		if strings.Contains(name, "libc.so") || strings.Contains(name, "ld-linux") || strings.HasPrefix(name, "usr/lib/x86_64-linux-gnu") {
			t.Errorf("%s: libc in run:static", name)
		}
	}
}

func TestBuildRunBase(t *testing.T) {
	testenv.Slow(t, "mmdebstrap fetches and unpacks Debian packages (half a minute)")
	needMmdebstrap(t)
	t.Parallel()
	d := loadStack(t, "run-base.toml")
	b := buildStack(t, d)
	t.Logf("run:base %s: %d bytes compressed, %d uncompressed, %d entries", b.digest, b.size, b.usize, len(b.files))
	checkCommon(t, d, b)
	// glibc and libgcc_s only: buildpacks copy any other library by need (internal/sharedlib).
	for _, n := range []string{
		"lib64", "usr/lib64/ld-linux-x86-64.so.2", "usr/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libm.so.6",
		"usr/lib/x86_64-linux-gnu/libgcc_s.so.1", "usr/lib/x86_64-linux-gnu/libresolv.so.2", "usr/lib/ssl/cert.pem",
	} {
		if !b.has(n) {
			t.Errorf("%s is missing", n)
		}
	}
	for _, n := range []string{
		"usr/lib/x86_64-linux-gnu/libssl.so.3", "usr/lib/x86_64-linux-gnu/libcrypto.so.3", "usr/lib/x86_64-linux-gnu/libstdc++.so.6",
		"usr/lib/x86_64-linux-gnu/libz.so.1", "usr/lib/x86_64-linux-gnu/libzstd.so.1", "usr/lib/x86_64-linux-gnu/libmvec.so.1",
	} {
		if b.has(n) {
			t.Errorf("%s is in run:base; its users copy it by need", n)
		}
	}
	for name := range b.files {
		if strings.Contains(name, "/gconv/") || strings.HasSuffix(name, "/gconv") {
			t.Errorf("%s: gconv is in run:base", name)
			break
		}
		if strings.HasPrefix(name, "usr/bin/") || strings.HasPrefix(name, "usr/sbin/") {
			t.Errorf("%s: no executables expected", name)
		}
	}
	if b.size > 8<<20 {
		t.Errorf("run:base is %d bytes compressed", b.size)
	}
}

// TestBuildBuildImage builds the full build image (~1 GB, minutes): only
// with DISTILL_TEST_BUILD_IMAGE=1.
func TestBuildBuildImage(t *testing.T) {
	testenv.Slow(t, "builds the full build image (~1 GB, minutes)")
	if os.Getenv("DISTILL_TEST_BUILD_IMAGE") == "" {
		t.Skip("set DISTILL_TEST_BUILD_IMAGE=1 to build distill/build:latest")
	}
	needMmdebstrap(t)
	d := loadStack(t, "build.toml")
	b := buildStack(t, d)
	t.Logf("build %s: %d bytes compressed, %d uncompressed, %d entries", b.digest, b.size, b.usize, len(b.files))
	for _, n := range []string{"usr/bin/bash", "usr/bin/gcc", "usr/bin/git", "usr/lib/go-1.24/bin/go", "usr/bin/node", "usr/bin/python3", "etc/ssl/certs/ca-certificates.crt", "var/lib/dpkg/status"} {
		if !b.has(n) {
			t.Errorf("%s is missing", n)
		}
	}
	if !strings.Contains(string(b.content["etc/passwd"]), "\ncnb:x:1000:1000:cnb:/home/cnb:/bin/bash\n") {
		t.Errorf("passwd:\n%s", b.content["etc/passwd"])
	}
	if h := b.files["home/cnb"]; h == nil || h.Uid != 1000 {
		t.Errorf("home/cnb: %+v", h)
	}
}

func TestBuildCleansUpOnFailure(t *testing.T) {
	testenv.Slow(t, "runs mmdebstrap to its failure (tens of seconds)")
	needMmdebstrap(t)
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(d *Definition)
		wantErr string
	}{
		{"mmdebstrap fails", func(d *Definition) {
			d.Packages = append(d.Packages, Package{Name: "no-such-package-distill", keepAll: true})
		}, "mmdebstrap"},
		{"selection fails", func(d *Definition) {
			d.CABundle = &CABundle{Path: "etc/x.crt", Certs: "usr/share/no/*.crt"}
		}, "stacks/run-static.toml): ca_bundle.certs: \"usr/share/no/*.crt\" matches no file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := loadStack(t, "run-static.toml")
			tt.edit(d)
			work := t.TempDir()
			_, err := Build(context.Background(), d, WithWorkDir(work))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if left, _ := os.ReadDir(work); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

func TestBuildCancelled(t *testing.T) {
	needMmdebstrap(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	work := t.TempDir()
	if _, err := Build(ctx, loadStack(t, "run-static.toml"), WithWorkDir(work)); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("err = %v", err)
	}
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func nextCert(b []byte) (*x509.Certificate, []byte, error) {
	blk, rest := pem.Decode(b)
	if blk == nil {
		return nil, nil, nil
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	return c, rest, err
}
