package platform

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DistroCADir is where Debian's (and Ubuntu's, Alpine's) ca-certificates
// package keeps the public CAs it puts into /etc/ssl/certs/ca-certificates.crt;
// update-ca-certificates(8) adds a site's own from /usr/local/share/ca-certificates.
const DistroCADir = "/usr/share/ca-certificates"

// siteCAs returns the certificates of the PEM bundle that no file under
// distroDir holds: what the machine's administrator added to its
// distribution's public set (a TLS-intercepting proxy's CA, a company root).
// The build image trusts its own, current, public set: passing the host's
// would bring back CAs its distribution has since dropped. It returns nil
// when the bundle holds nothing else, and the whole bundle when distroDir
// does not exist (the host's distribution keeps its CAs elsewhere).
func siteCAs(bundle []byte, distroDir string) ([]byte, error) {
	public := map[string]bool{} // DER
	err := filepath.WalkDir(distroDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".crt") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, der := range pemCertificates(data) {
			public[string(der)] = true
		}
		return nil
	})
	if os.IsNotExist(err) {
		return bundle, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the distribution's CAs in %s: %w", distroDir, err)
	}
	var out bytes.Buffer
	for _, der := range pemCertificates(bundle) {
		if !public[string(der)] {
			if err := pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: der}); err != nil {
				return nil, err
			}
		}
	}
	if out.Len() == 0 {
		return nil, nil
	}
	return out.Bytes(), nil
}

// pemCertificates are the DER bytes of each CERTIFICATE block of data.
func pemCertificates(data []byte) [][]byte {
	var ders [][]byte
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return ders
		}
		if b.Type == "CERTIFICATE" {
			ders = append(ders, b.Bytes)
		}
	}
}
