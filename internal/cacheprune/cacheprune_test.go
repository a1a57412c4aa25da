package cacheprune

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/distill-build/distill/internal/testenv"
)

func TestParseMaxAge(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"", DefaultMaxAge, false},
		{"off", 0, false},
		{"30d", 30 * 24 * time.Hour, false},
		{"36h", 36 * time.Hour, false},
		{"0d", 0, true},
		{"-1h", 0, true},
		{"soon", 0, true},
		{"d", 0, true},
	} {
		got, err := ParseMaxAge(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseMaxAge(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestPrune(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name    string
		entries map[string]time.Duration // entry path under root -> age of its last use
		maxAge  time.Duration
		kept    []string
		removed int
	}{
		{"unused entries of every kind go", map[string]time.Duration{
			"rootfs/old": 20 * day, "rootfs/new": day, "builder/old": 15 * day, "builders/old": 30 * day, "cache/app": 14*day + time.Second,
		}, DefaultMaxAge, []string{"rootfs/new"}, 4},
		{"off removes nothing", map[string]time.Duration{"rootfs/old": 400 * day}, 0, []string{"rootfs/old"}, 0},
		{"other directories of the cache stay", map[string]time.Duration{
			"images/trixie": 90 * day, "out/app": 90 * day, "sizes/x": 90 * day,
		}, DefaultMaxAge, []string{"images/trixie", "out/app", "sizes/x"}, 0},
		{"a temporary stays a day, an abandoned one goes", map[string]time.Duration{
			"rootfs/.x.tmp-1": 2 * time.Hour, "builder/.builder-2": 25 * time.Hour,
		}, time.Hour, []string{"rootfs/.x.tmp-1"}, 1},
		{"an entry used just now stays", map[string]time.Duration{"cache/app": 0}, time.Hour, []string{"cache/app"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for e, age := range tc.entries {
				testenv.WriteFile(t, filepath.Join(root, e, "data"), "0123456789")
				when := now.Add(-age)
				if err := os.Chtimes(filepath.Join(root, e), when, when); err != nil {
					t.Fatal(err)
				}
			}
			r, err := Prune(root, tc.maxAge, now)
			if err != nil {
				t.Fatal(err)
			}
			if r.Entries != tc.removed || r.Bytes != int64(10*tc.removed) {
				t.Errorf("removed %+v, want %d entries of 10 bytes", r, tc.removed)
			}
			for e := range tc.entries {
				_, err := os.Stat(filepath.Join(root, e))
				if kept := slices.Contains(tc.kept, e); kept != (err == nil) {
					t.Errorf("%s: kept %v, want %v", e, err == nil, kept)
				}
			}
		})
	}
}

func TestUseMarksNow(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rootfs", "x")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-30 * 24 * time.Hour)
	if err := os.Chtimes(dir, old, old); err != nil {
		t.Fatal(err)
	}
	if err := Use(dir); err != nil {
		t.Fatal(err)
	}
	if err := Use(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("Use of a missing entry: %v", err)
	}
	r, err := Prune(filepath.Dir(filepath.Dir(dir)), DefaultMaxAge, time.Now())
	if err != nil || r.Entries != 0 {
		t.Errorf("Prune after Use removed %+v (%v)", r, err)
	}
}
