package stack

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"

	"github.com/distill-build/distill/internal/dpkg"
)

// The nologin shell written for system accounts in generated files.
const nologin = "/usr/sbin/nologin"

// passwdFile returns a complete /etc/passwd for an image without one: root,
// nobody and the CNB user.
func passwdFile(u User) []byte {
	return []byte("root:x:0:0:root:/root:" + nologin + "\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:" + nologin + "\n" +
		passwdLine(u))
}

// groupFile returns a complete /etc/group: root, nogroup and the CNB group.
func groupFile(u User) []byte {
	return []byte("root:x:0:\nnogroup:x:65534:\n" + groupLine(u))
}

func passwdLine(u User) string {
	shell := u.Shell
	if shell == "" {
		shell = nologin
	}
	return fmt.Sprintf("%s:x:%d:%d:%s:%s:%s\n", u.Name, u.UID, u.GID, u.Name, u.Home, shell)
}

func groupLine(u User) string { return fmt.Sprintf("%s:x:%d:\n", u.Name, u.GID) }

// appendAccount adds line to an existing passwd or group file unless an
// entry with the same name exists; it refuses an id already taken by
// another name (field idField, 0-based).
func appendAccount(existing []byte, line string, idField int) ([]byte, error) {
	want := strings.Split(strings.TrimSpace(line), ":")
	for _, l := range strings.Split(string(existing), "\n") {
		f := strings.Split(l, ":")
		if len(f) <= idField {
			continue
		}
		if f[0] == want[0] {
			if f[idField] != want[idField] {
				return nil, fmt.Errorf("%s exists with id %s, not %s", f[0], f[idField], want[idField])
			}
			return existing, nil
		}
		if f[idField] == want[idField] {
			return nil, fmt.Errorf("id %s is taken by %s", f[idField], f[0])
		}
	}
	out := bytes.Clone(existing)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, line...), nil
}

// caBundle concatenates PEM certificates, as update-ca-certificates does for
// /etc/ssl/certs/ca-certificates.crt. Each input must hold at least one
// certificate; name labels errors.
func caBundle(certs []namedData) ([]byte, error) {
	var out bytes.Buffer
	for _, c := range certs {
		rest, n := c.data, 0
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			if _, err := x509.ParseCertificate(b.Bytes); err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			if err := pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: b.Bytes}); err != nil {
				return nil, err
			}
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: no PEM certificate", c.name)
		}
	}
	return out.Bytes(), nil
}

type namedData struct {
	name string
	data []byte
}

// PackageVersion is one entry of the io.distill.stack.packages label.
type PackageVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// installedPackages reads a dpkg status file and returns the installed
// packages with their versions, sorted by name.
func installedPackages(status []byte) []PackageVersion {
	var out []PackageVersion
	for _, p := range dpkg.ParseStatus(status) {
		out = append(out, PackageVersion{Name: p.Name, Version: p.Version})
	}
	sortPackages(out)
	return out
}

func sortPackages(p []PackageVersion) {
	sort.Slice(p, func(i, j int) bool { return p[i].Name < p[j].Name })
}
