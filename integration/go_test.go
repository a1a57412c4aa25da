package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/testenv"
)

// sizeTarget is the size target for a small gorilla/mux app.
const sizeTarget = 3_000_000

func TestGoApp(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	app := copyApp(t, "samples/go-mux")
	cache := filepath.Join(t.TempDir(), "cache")
	out := filepath.Join(t.TempDir(), "image")

	first := distill(t, app, "-o", "oci:"+out, "--cache-dir", cache).must(t)
	t.Logf("cold build:\n%s", first.stdout)

	t.Run("serves on $PORT", func(t *testing.T) {
		ref := harness.LoadOCI(t, out)
		c := harness.Run(t, ref)
		status, body := c.WaitHTTP(t, "/hello/distill")
		if status != 200 || !strings.Contains(body, "hello, distill") {
			t.Fatalf("GET /hello/distill = %d %q", status, body)
		}
		cfg := harness.ImageConfig(t, ref)
		if cfg.User == "" || cfg.User == "0" || strings.HasPrefix(cfg.User, "root") || strings.HasPrefix(cfg.User, "0:") {
			t.Errorf("image user = %q, want the non-root CNB user", cfg.User)
		}
	})

	t.Run("static, shell-free and small", func(t *testing.T) {
		files := harness.Entries(t, out)
		for _, p := range []string{"/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/lib/x86_64-linux-gnu/libc.so.6"} {
			if _, ok := files[p]; ok {
				t.Errorf("image has %s", p)
			}
		}
		if len(files) < 10 {
			t.Fatalf("image lists only %d files", len(files))
		}
		if _, ok := files["/etc/ssl/certs/ca-certificates.crt"]; !ok {
			t.Errorf("image lacks the CA bundle")
		}
		if _, ok := files["/layers/distill_go/app/bin/go-mux"]; !ok {
			t.Errorf("image lacks the binary /layers/distill_go/app/bin/go-mux")
		}
		for p := range files {
			if strings.HasPrefix(p, "/workspace/") && strings.HasSuffix(p, ".go") {
				t.Errorf("source %s left in the image", p)
			}
		}
		if first.report.Total.Compressed > sizeTarget {
			t.Errorf("compressed size %d > target %d", first.report.Total.Compressed, sizeTarget)
		}
		if !strings.Contains(first.stdout, "run image  distill/run:static") {
			t.Errorf("the Go app is not on run:static:\n%s", first.stdout)
		}
	})

	t.Run("report matches the manifest", func(t *testing.T) {
		m, err := harness.Image(t, out).Manifest()
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, l := range m.Layers {
			sum += l.Size
		}
		if sum != first.report.Total.Compressed {
			t.Errorf("manifest layers total %d bytes, report says %d", sum, first.report.Total.Compressed)
		}
	})

	t.Run("one-line change reuses cached layers", func(t *testing.T) {
		main := filepath.Join(app, "main.go")
		src, err := os.ReadFile(main)
		if err != nil {
			t.Fatal(err)
		}
		changed := strings.Replace(string(src), "hello from distill", "hello again from distill", 1)
		if err := os.WriteFile(main, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		second := distill(t, app, "-o", "oci:"+out, "--cache-dir", cache).must(t)
		for _, want := range []string{"Restoring cached layer distill/go:go-mod", "Restoring cached layer distill/go:go-cache"} {
			if !strings.Contains(second.stderr, want) {
				t.Errorf("second build did not say %q:\n%s", want, second.stderr)
			}
		}
		before, after := first.layerDigests(), second.layerDigests()
		for name, d := range after {
			changed := before[name] != d
			if want := name == "distill/go:app"; changed != want {
				t.Errorf("layer %s changed = %v, want %v", name, changed, want)
			}
		}
		ref := harness.LoadOCI(t, out)
		if status, body := harness.Run(t, ref).WaitHTTP(t, "/"); status != 200 || !strings.Contains(body, "hello again") {
			t.Errorf("GET / = %d %q after the change", status, body)
		}
	})

	t.Run("two clean builds give the same digest", func(t *testing.T) {
		a := distill(t, copyApp(t, "samples/go-mux"), "-o", "oci:"+filepath.Join(t.TempDir(), "a"), "--cache-dir", filepath.Join(t.TempDir(), "c1")).must(t)
		b := distill(t, copyApp(t, "samples/go-mux"), "-o", "oci:"+filepath.Join(t.TempDir(), "b"), "--cache-dir", filepath.Join(t.TempDir(), "c2")).must(t)
		if a.report.Digest != b.report.Digest {
			t.Errorf("digests differ: %s vs %s", a.report.Digest, b.report.Digest)
		}
	})
}

func TestGoAppToDaemon(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	tag := "localhost/distill-it/go-mux:daemon"
	distill(t, copyApp(t, "samples/go-mux"), "--daemon", tag).must(t)
	t.Cleanup(func() { harness.Podman(t, "rmi", "--force", tag) })
	if status, _ := harness.Run(t, tag).WaitHTTP(t, "/"); status != 200 {
		t.Fatalf("GET / = %d", status)
	}
}

func TestBadInput(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)

	t.Run("nothing detects", func(t *testing.T) {
		app := t.TempDir()
		os.WriteFile(filepath.Join(app, "README.md"), []byte("not an app"), 0o644)
		b := distill(t, app, "-o", "oci:"+filepath.Join(t.TempDir(), "img"))
		if b.err == nil {
			t.Fatal("build of a README succeeded")
		}
		for _, want := range []string{"distill/go", "go.mod"} {
			if !strings.Contains(b.stderr, want) {
				t.Errorf("error does not mention %q:\n%s", want, b.stderr)
			}
		}
	})

	t.Run("compile error leaves the previous image", func(t *testing.T) {
		app := copyApp(t, "samples/go-mux")
		out := filepath.Join(t.TempDir(), "img")
		distill(t, app, "-o", "oci:"+out).must(t)
		index, err := os.ReadFile(filepath.Join(out, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(app, "broken.go"), []byte("package main\n\nfunc broken() { undefinedThing() }\n"), 0o644)
		b := distill(t, app, "-o", "oci:"+out)
		if b.err == nil {
			t.Fatal("build with a compile error succeeded")
		}
		if !strings.Contains(b.stderr, "undefined: undefinedThing") {
			t.Errorf("compiler output missing:\n%s", b.stderr)
		}
		after, err := os.ReadFile(filepath.Join(out, "index.json"))
		if err != nil || string(after) != string(index) {
			t.Errorf("the previous image was touched (err %v)", err)
		}
	})

	t.Run("broken builder.toml names the file", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "builder.toml")
		os.WriteFile(bad, []byte("[build]\nimage = \"x\"\n"), 0o644)
		b := distill(t, copyApp(t, "samples/go-mux"), "--builder", bad)
		if b.err == nil || !strings.Contains(b.stderr, bad) || !strings.Contains(b.stderr, "run.images") {
			t.Errorf("err = %v, stderr:\n%s", b.err, b.stderr)
		}
	})
}

func TestGoAppToRegistry(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	ref := harness.Registry(t) + "/distill-it/go-mux:publish"
	b := distill(t, copyApp(t, "samples/go-mux"), "--publish", ref).must(t)
	harness.Podman(t, "pull", "--tls-verify=false", ref)
	t.Cleanup(func() { harness.Podman(t, "rmi", "--force", ref) })
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(r)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest.String() != b.report.Digest {
		t.Errorf("registry digest %s, report says %s", desc.Digest, b.report.Digest)
	}
	if status, _ := harness.Run(t, ref).WaitHTTP(t, "/"); status != 200 {
		t.Fatalf("GET / = %d", status)
	}
}
