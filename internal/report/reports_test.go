package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestReports(t *testing.T) {
	one := sample()
	amd, arm := sample(), sample()
	amd.Platform, arm.Platform = "linux/amd64", "linux/arm64/v8"
	arm.Digest = "sha256:def"
	for _, tc := range []struct {
		name      string
		reps      Reports
		wantText  []string
		wantJSON  string // a key the JSON's top level has
		platforms int
	}{
		{"one platform: as a lone report", Reports{one}, []string{"LAYER", "image sha256:abc"}, "digest", 0},
		{"two platforms: a section each", Reports{amd, arm}, []string{"PLATFORM linux/amd64\nLAYER", "\n\nPLATFORM linux/arm64/v8\nLAYER", "image sha256:def"}, "platforms", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var text, js bytes.Buffer
			if err := tc.reps.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.wantText {
				if !strings.Contains(text.String(), w) {
					t.Errorf("text lacks %q:\n%s", w, text.String())
				}
			}
			if len(tc.reps) == 1 {
				var lone bytes.Buffer
				_ = tc.reps[0].WriteText(&lone)
				if lone.String() != text.String() {
					t.Errorf("one report's text differs from Report.WriteText:\n%s", text.String())
				}
			}
			if err := tc.reps.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(js.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if _, ok := got[tc.wantJSON]; !ok {
				t.Fatalf("JSON lacks %q:\n%s", tc.wantJSON, js.String())
			}
			if tc.platforms == 0 {
				if _, ok := got["platform"]; ok {
					t.Errorf("a single-platform report names a platform:\n%s", js.String())
				}
				return
			}
			var list []struct {
				Platform, Digest string
			}
			if err := json.Unmarshal(got["platforms"], &list); err != nil || len(list) != tc.platforms {
				t.Fatalf("platforms %s: %v", got["platforms"], err)
			}
			if list[0].Platform != "linux/amd64" || list[1].Platform != "linux/arm64/v8" || list[1].Digest != "sha256:def" {
				t.Errorf("platforms %+v", list)
			}
		})
	}
}
