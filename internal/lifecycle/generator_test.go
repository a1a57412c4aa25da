package lifecycle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadRunDockerfile(t *testing.T) {
	for _, tc := range []struct {
		name, content, want, wantErr string
	}{
		{name: "switch", content: "FROM distill/run:static\n", want: "distill/run:static"},
		{name: "keep base", content: "ARG base_image\nFROM ${base_image}\n", want: ""},
		{name: "comments", content: "# static\n\nFROM r:1\n", want: "r:1"},
		{name: "run refused", content: "FROM r:1\nRUN apt-get install x\n", wantErr: "RUN is not supported"},
		{name: "bad from", content: "FROM a AS b\n", wantErr: "FROM takes one image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "run.Dockerfile")
			if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := readRunDockerfile(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if got, err := readRunDockerfile(filepath.Join(t.TempDir(), "absent")); got != "" || err != nil {
		t.Fatalf("absent file: %q, %v", got, err)
	}
}
