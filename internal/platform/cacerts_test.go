package platform

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

func TestSiteCAs(t *testing.T) {
	public1, _ := testenv.SelfSignedCA(t, "public 1")
	public2, _ := testenv.SelfSignedCA(t, "public 2")
	dropped, _ := testenv.SelfSignedCA(t, "dropped")
	site, _ := testenv.SelfSignedCA(t, "proxy")
	distro := filepath.Join(t.TempDir(), "ca-certificates")
	if err := os.MkdirAll(filepath.Join(distro, "mozilla"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"mozilla/p1.crt": public1, "mozilla/p2.crt": public2, "mozilla/dropped.crt": dropped, "README": site} {
		if err := os.WriteFile(filepath.Join(distro, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	key := []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
	for _, tc := range []struct {
		name      string
		bundle    []byte
		distroDir string
		want      []byte
	}{
		{"the site's CA alone is passed", join(public1, site, public2), distro, site},
		{"a CA the distribution ships is not, current or dropped since", join(dropped, public1), distro, nil},
		{"other PEM blocks are left out", join(key, site), distro, site},
		{"no distribution CA directory: the whole bundle", join(public1, site), filepath.Join(t.TempDir(), "none"), join(public1, site)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := siteCAs(tc.bundle, tc.distroDir)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("siteCAs = %d certificates (%q), want %d", len(pemCertificates(got)), got, len(pemCertificates(tc.want)))
			}
		})
	}
}
