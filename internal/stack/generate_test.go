package stack

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

var cnb = User{Name: "cnb", UID: 1000, GID: 1000, Home: "/home/cnb"}

func TestPasswdGroup(t *testing.T) {
	wantPasswd := "root:x:0:0:root:/root:/usr/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" +
		"cnb:x:1000:1000:cnb:/home/cnb:/usr/sbin/nologin\n"
	if got := string(passwdFile(cnb)); got != wantPasswd {
		t.Errorf("passwd:\n%s\nwant:\n%s", got, wantPasswd)
	}
	if got, want := string(groupFile(cnb)), "root:x:0:\nnogroup:x:65534:\ncnb:x:1000:\n"; got != want {
		t.Errorf("group:\n%s\nwant:\n%s", got, want)
	}
	bash := cnb
	bash.Shell = "/bin/bash"
	if got := passwdLine(bash); got != "cnb:x:1000:1000:cnb:/home/cnb:/bin/bash\n" {
		t.Errorf("passwd line %q", got)
	}
}

func TestAppendAccount(t *testing.T) {
	base := "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	tests := []struct {
		name, existing, line, want, wantErr string
	}{
		{"append", base, "cnb:x:1000:1000:cnb:/home/cnb:/bin/bash\n", base + "cnb:x:1000:1000:cnb:/home/cnb:/bin/bash\n", ""},
		{"no trailing newline", strings.TrimSuffix(base, "\n"), "cnb:x:1000:1000::/:/x\n", base + "cnb:x:1000:1000::/:/x\n", ""},
		{"already there", base + "cnb:x:1000:1000:cnb:/home/cnb:/bin/bash\n", "cnb:x:1000:1000:cnb:/home/cnb:/bin/bash\n", base + "cnb:x:1000:1000:cnb:/home/cnb:/bin/bash\n", ""},
		{"name with other id", base + "cnb:x:1001:1001::/:/x\n", "cnb:x:1000:1000::/:/x\n", "", "cnb exists with id 1001"},
		{"id taken", base + "app:x:1000:1000::/:/x\n", "cnb:x:1000:1000::/:/x\n", "", "id 1000 is taken by app"},
		{"group", "root:x:0:\n", "cnb:x:1000:\n", "root:x:0:\ncnb:x:1000:\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appendAccount([]byte(tt.existing), tt.line, 2)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestCABundle(t *testing.T) {
	a, _ := testenv.SelfSignedCA(t, "A")
	b, _ := testenv.SelfSignedCA(t, "B")
	// Files may lack a trailing newline and carry comments: the bundle is normalised PEM.
	bundle, err := caBundle([]namedData{
		{"a.crt", append([]byte("# comment\n"), a[:len(a)-1]...)},
		{"b.crt", b},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(bundle) != string(a)+string(b) {
		t.Errorf("bundle:\n%s", bundle)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		t.Error("bundle does not parse")
	}

	for _, tt := range []struct {
		name    string
		in      []namedData
		wantErr string
	}{
		{"empty file", []namedData{{"x.crt", []byte("nothing here\n")}}, "x.crt: no PEM certificate"},
		{"bad der", []namedData{{"y.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")})}}, "y.crt:"},
	} {
		if _, err := caBundle(tt.in); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestInstalledPackages(t *testing.T) {
	status := "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.3\nDescription: x\n y: z\n\n" +
		"Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n" +
		"Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2-1\n"
	got := installedPackages([]byte(status))
	want := []PackageVersion{{"bash", "5.2-1"}, {"zlib1g", "1:1.3"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
