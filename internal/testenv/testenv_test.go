package testenv

import (
	"flag"
	"testing"
)

// recorder is a testing.TB that records how a test ended.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skipf(format string, args ...any)  { r.skipped = true }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = true }

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		ci                 string
		wantSkip, wantFail bool
	}{
		{"", true, false},
		{"false", true, false},
		{"true", false, true},
		{"1", false, true},
		{"TRUE", false, true},
	} {
		t.Setenv("CI", tc.ci)
		r := &recorder{TB: t}
		Unavailable(r, "no %s", "tool")
		if r.skipped != tc.wantSkip || r.failed != tc.wantFail {
			t.Errorf("CI=%q: skipped %v failed %v, want %v %v", tc.ci, r.skipped, r.failed, tc.wantSkip, tc.wantFail)
		}
	}
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	NeedCommand(r, "distill-no-such-command", "nothing installs it")
	if !r.failed {
		t.Error("a missing command under CI must fail the test")
	}
}

func TestSlow(t *testing.T) {
	short := flag.Lookup("test.short").Value.String()
	t.Cleanup(func() { flag.Set("test.short", short) })
	for _, tc := range []struct {
		short    string
		wantSkip bool
	}{{"true", true}, {"false", false}} {
		if err := flag.Set("test.short", tc.short); err != nil {
			t.Fatal(err)
		}
		r := &recorder{TB: t}
		Slow(r, "builds an image")
		if r.skipped != tc.wantSkip || r.failed {
			t.Errorf("-short=%s: skipped %v failed %v, want skipped %v", tc.short, r.skipped, r.failed, tc.wantSkip)
		}
	}
}
