package integration

import (
	"strings"
	"testing"
)

// TestCompareSBOMs: the agreement check itself, without images (runs under -short).
func TestCompareSBOMs(t *testing.T) {
	deb := func(n, v string) sbomEntry { return entryFromPURL("pkg:deb/debian/"+n+"@"+v+"?arch=amd64", n, v) }
	exc := []syftException{{Eco: "generic", Name: "cpython", Only: "ours", Why: "named twice"}}
	for _, tt := range []struct {
		name        string
		syft, ours  []sbomEntry
		problems    []string // substrings, one per problem
		wantVerdict string   // of the first row
	}{
		{"same packages", []sbomEntry{deb("zlib1g", "1:1.3"), entryFromPURL("pkg:golang/stdlib@1.27.4", "stdlib", "go1.27.4")},
			[]sbomEntry{entryFromPURL("pkg:golang/stdlib@1.27.4", "stdlib", "1.27.4"), deb("zlib1g", "1:1.3")}, nil, "agree"},
		{"PEP 503 names", []sbomEntry{entryFromPURL("pkg:pypi/markupsafe@3.0.2", "MarkupSafe", "3.0.2")},
			[]sbomEntry{entryFromPURL("pkg:pypi/markupsafe@3.0.2", "markupsafe", "3.0.2")}, nil, "agree"},
		{"other version", []sbomEntry{deb("zlib1g", "1:1.3")}, []sbomEntry{deb("zlib1g", "1:1.2")},
			[]string{`deb zlib1g "1:1.3": only syft`, `deb zlib1g "1:1.2": only ours`}, "DISAGREE"},
		{"missing from ours", []sbomEntry{deb("libssl3t64", "3.5")}, nil, []string{"only syft lists it"}, "DISAGREE"},
		{"an exception", nil, []sbomEntry{entryFromPURL("pkg:generic/cpython@3.13.5", "cpython", "3.13.5")}, nil, "exception: named twice"},
		{"an exception is one-sided", []sbomEntry{entryFromPURL("pkg:generic/cpython@3.13.5", "cpython", "3.13.5")}, nil,
			[]string{"only syft"}, "DISAGREE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows, problems := compareSBOMs(tt.syft, tt.ours, exc)
			if len(problems) != len(tt.problems) {
				t.Fatalf("problems %q, want %d", problems, len(tt.problems))
			}
			for _, want := range tt.problems {
				if !strings.Contains(strings.Join(problems, "\n"), want) {
					t.Errorf("problems %q lack %q", problems, want)
				}
			}
			if rows[0].Verdict != tt.wantVerdict {
				t.Errorf("verdict %q, want %q", rows[0].Verdict, tt.wantVerdict)
			}
		})
	}
}
