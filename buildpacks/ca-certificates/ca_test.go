package cacerts

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"

	"github.com/BurntSushi/toml"
	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

func writeFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name     string
		bindings libcnb.Bindings
		env      map[string]string
		pass     bool
	}{
		{name: "nothing", pass: false},
		{name: "ca binding", bindings: libcnb.Bindings{{Name: "proxy", Type: "ca-certificates"}}, pass: true},
		{name: "ca binding, type case and spaces", bindings: libcnb.Bindings{{Name: "proxy", Type: " CA-Certificates "}}, pass: true},
		{name: "other binding", bindings: libcnb.Bindings{{Name: "maven", Type: "maven"}}, pass: false},
		{name: "BP_EMBED_CERTS=true", env: map[string]string{"BP_EMBED_CERTS": "true"}, pass: true},
		{name: "BP_EMBED_CERTS=false", env: map[string]string{"BP_EMBED_CERTS": "false"}, pass: false},
	}
	os.Unsetenv("BP_EMBED_CERTS")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Detector{Logger: log.NewDiscardLogger()}.Detect(libcnb.DetectContext{
				Platform: libcnb.Platform{Bindings: tt.bindings, Environment: tt.env},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Pass != tt.pass {
				t.Errorf("pass = %v, want %v", res.Pass, tt.pass)
			}
			if len(res.Plans) != 0 {
				t.Errorf("plans = %+v, want none", res.Plans)
			}
		})
	}
}

type recordingExit struct{ err error }

func (r *recordingExit) Error(err error) { r.err = err }
func (r *recordingExit) Fail()           {}
func (r *recordingExit) Pass()           {}

// runBuild runs the buildpack's build entry point as the lifecycle would (libpak/libcnb main).
func runBuild(t *testing.T, platform, layers, systemBundle string) (string, error) {
	t.Helper()
	bpDir, _ := filepath.Abs(".")
	root := t.TempDir()
	t.Setenv("CNB_BUILDPACK_DIR", bpDir)
	t.Setenv("CNB_LAYERS_DIR", layers)
	t.Setenv("CNB_PLATFORM_DIR", platform)
	t.Setenv("CNB_BP_PLAN_PATH", filepath.Join(root, "plan.toml"))
	t.Setenv("SERVICE_BINDING_ROOT", "")
	os.Unsetenv("SERVICE_BINDING_ROOT")
	t.Chdir(root)
	var out bytes.Buffer
	exit := &recordingExit{}
	libpak.BuildpackMain(
		Detector{Logger: log.NewPaketoLogger(&out)}.Detect,
		Builder{Logger: log.NewPaketoLogger(&out), SystemBundle: systemBundle}.Build,
		libcnb.WithArguments([]string{"bin/build"}),
		libcnb.WithExitHandler(exit),
	)
	return out.String(), exit.err
}

func TestBuild(t *testing.T) {
	proxyPEM, proxyCert := testenv.SelfSignedCA(t, "Test Intercepting Proxy CA")
	systemPEM, _ := testenv.SelfSignedCA(t, "Test System Root")
	for _, embed := range []bool{false, true} {
		t.Run(map[bool]string{false: "build only", true: "embedded"}[embed], func(t *testing.T) {
			root := t.TempDir()
			platform, layers := filepath.Join(root, "platform"), filepath.Join(root, "layers")
			system := filepath.Join(root, "system.crt")
			writeFile(t, system, systemPEM)
			writeFile(t, filepath.Join(platform, "bindings", "proxy", "type"), []byte("ca-certificates\n"))
			writeFile(t, filepath.Join(platform, "bindings", "proxy", "proxy-ca.pem"), proxyPEM)
			// A duplicate of a system certificate is skipped, not an error.
			writeFile(t, filepath.Join(platform, "bindings", "proxy", "dup.crt"), systemPEM)
			writeFile(t, filepath.Join(platform, "bindings", "maven", "type"), []byte("maven"))
			writeFile(t, filepath.Join(platform, "bindings", "maven", "settings.xml"), []byte("<settings/>"))
			if err := os.MkdirAll(filepath.Join(platform, "env"), 0o755); err != nil {
				t.Fatal(err)
			}
			if embed {
				writeFile(t, filepath.Join(platform, "env", "BP_EMBED_CERTS"), []byte("true"))
			}
			if err := os.MkdirAll(layers, 0o755); err != nil {
				t.Fatal(err)
			}
			os.Unsetenv("BP_EMBED_CERTS")

			logs, err := runBuild(t, platform, layers, system)
			t.Log(logs)
			if err != nil {
				t.Fatal(err)
			}

			bundlePath := filepath.Join(layers, LayerName, BundleFile)
			bundle, err := os.ReadFile(bundlePath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(bundle, systemPEM) || !bytes.Contains(bundle, proxyPEM) {
				t.Errorf("bundle lacks the system or the bound certificate:\n%s", bundle)
			}
			if n := bytes.Count(bundle, []byte("BEGIN CERTIFICATE")); n != 2 {
				t.Errorf("bundle holds %d certificates, want 2", n)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(bundle) {
				t.Fatal("bundle does not parse")
			}
			if _, err := proxyCert.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
				t.Errorf("bound CA not trusted by the bundle: %v", err)
			}

			envDir := filepath.Join(layers, LayerName, "env.build")
			if embed {
				envDir = filepath.Join(layers, LayerName, "env")
			}
			for _, name := range EnvVars {
				got, err := os.ReadFile(filepath.Join(envDir, name+".override"))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if string(got) != bundlePath {
					t.Errorf("%s = %q, want %q", name, got, bundlePath)
				}
			}

			var lt struct {
				Types struct{ Build, Cache, Launch bool } `toml:"types"`
			}
			if _, err := toml.DecodeFile(filepath.Join(layers, LayerName+".toml"), &lt); err != nil {
				t.Fatal(err)
			}
			if !lt.Types.Build || lt.Types.Launch != embed || lt.Types.Cache {
				t.Errorf("layer types = %+v, want build, launch=%v", lt.Types, embed)
			}
		})
	}
}

func TestBuildNonPEMFile(t *testing.T) {
	proxyPEM, _ := testenv.SelfSignedCA(t, "Test Proxy CA")
	tests := []struct {
		name    string
		file    string
		content []byte
		want    string
	}{
		{"not PEM", "readme.txt", []byte("this is not a certificate\n"), "no PEM certificate found"},
		{"private key", "key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), `"PRIVATE KEY", not a CERTIFICATE`},
		{"garbage certificate", "bad.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}), "certificate 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			platform, layers := filepath.Join(root, "platform"), filepath.Join(root, "layers")
			writeFile(t, filepath.Join(platform, "bindings", "proxy", "type"), []byte("ca-certificates"))
			writeFile(t, filepath.Join(platform, "bindings", "proxy", "ca.pem"), proxyPEM)
			bad := filepath.Join(platform, "bindings", "proxy", tt.file)
			writeFile(t, bad, tt.content)
			if err := os.MkdirAll(layers, 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := runBuild(t, platform, layers, filepath.Join(root, "missing.crt"))
			if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %s and say %q", err, bad, tt.want)
			}
		})
	}
}

func TestAddedLines(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  []string
	}{
		{nil, nil},
		{[]string{"a: CN=1", "a: CN=2", "a: CN=3"}, []string{"a: CN=1", "a: CN=2", "a: CN=3"}},
		{[]string{"a: CN=1", "a: CN=2", "a: CN=3", "b: CN=4", "b: CN=5"},
			[]string{"5 certificates not in the system bundle, e.g. a: CN=1; a: CN=2; a: CN=3 (and 2 more)"}},
	} {
		if got := addedLines(tc.names); !slices.Equal(got, tc.want) {
			t.Errorf("addedLines(%q) = %q, want %q", tc.names, got, tc.want)
		}
	}
}
