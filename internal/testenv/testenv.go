// Package testenv says what a test needs from the machine. Where something
// is missing the test is skipped with the reason, except under CI (CI=true
// or CI=1), where scripts/test installs and starts everything: there a
// missing tool fails the test and names it, so a green CI never hides a test
// that did not run.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true or CI=1).
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

// Unavailable skips the test with the message, or fails it under CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s (CI=true: scripts/test should have provided it)", msg)
		return
	}
	t.Skipf("skipping: %s", msg)
}

// NeedCommand returns the path of the command name, or calls Unavailable
// with how to get it (hint, e.g. "apt-get install mmdebstrap").
func NeedCommand(t testing.TB, name, hint string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s is not on PATH (%s)", name, hint)
	}
	return p
}

// NeedGo returns the go command on PATH and its GOCACHE, for tests that
// compile with the host's Go in place of a build image's; a missing go is
// Unavailable.
func NeedGo(t testing.TB) (goCmd, goCache string) {
	t.Helper()
	goCmd = NeedCommand(t, "go", "a Go toolchain")
	out, err := exec.Command(goCmd, "env", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("%s env GOCACHE: %v", goCmd, err)
	}
	return goCmd, strings.TrimSpace(string(out))
}

// NeedRoot calls Unavailable unless the test runs as root.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Getuid() != 0 {
		Unavailable(t, "needs root: %s", why)
	}
}

// Slow skips the test under go test -short, saying why it is slow (it
// builds images, compiles, downloads or starts many processes: seconds to
// minutes). CI runs without -short, so there every slow test runs; and a
// test that needs a missing tool still goes through NeedCommand, which
// fails under CI.
func Slow(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("skipping under -short: %s", why)
	}
}
