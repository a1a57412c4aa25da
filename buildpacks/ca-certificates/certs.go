package cacerts

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/buildpacks/libcnb/v2"
)

// boundCert is one CA certificate from a binding.
type boundCert struct {
	Source string // <binding>/<file>
	Cert   *x509.Certificate
	Block  *pem.Block
}

// readBindingCerts reads every PEM file of the given ca-certificates bindings (the binding's type
// and provider files aside). A file that is not PEM-encoded certificates is an error naming it.
func readBindingCerts(bindings []libcnb.Binding) ([]boundCert, error) {
	sort.Slice(bindings, func(i, j int) bool { return bindings[i].Name < bindings[j].Name })
	var certs []boundCert
	for _, b := range bindings {
		names := make([]string, 0, len(b.Secret))
		for k := range b.Secret {
			names = append(names, k)
		}
		sort.Strings(names)
		if len(names) == 0 {
			return nil, fmt.Errorf("binding %q (%s) of type ca-certificates holds no certificate files", b.Name, b.Path)
		}
		for _, n := range names {
			path := filepath.Join(b.Path, n)
			data, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("binding %q: unable to read %s: %w", b.Name, path, err)
			}
			found, err := parsePEMCerts(data)
			if err != nil {
				return nil, fmt.Errorf("binding %q: %s is not a PEM file of certificates: %w", b.Name, path, err)
			}
			for _, c := range found {
				certs = append(certs, boundCert{Source: b.Name + "/" + n, Cert: c.Cert, Block: c.Block})
			}
		}
	}
	return certs, nil
}

// parsePEMCerts parses data as one or more PEM CERTIFICATE blocks. Text between blocks (comments)
// is allowed; any other block type, an unparsable certificate or no block at all is an error.
func parsePEMCerts(data []byte) ([]boundCert, error) {
	var out []boundCert
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %q, not a CERTIFICATE", len(out)+1, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, boundCert{Cert: c, Block: &pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes}})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PEM certificate found")
	}
	if len(bytes.TrimSpace(rest)) > 0 && bytes.Contains(rest, []byte("-----BEGIN")) {
		return nil, fmt.Errorf("malformed PEM block after certificate %d", len(out))
	}
	return out, nil
}

// derSet returns the DER encodings of the certificates in a PEM bundle, to skip duplicates.
func derSet(bundle []byte) map[string]bool {
	set := map[string]bool{}
	rest := bundle
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return set
		}
		if block.Type == "CERTIFICATE" {
			set[string(block.Bytes)] = true
		}
	}
}
