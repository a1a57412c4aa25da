package buildpack

import "testing"

func TestConfig(t *testing.T) {
	t.Setenv("DISTILL_TEST_PROCESS", "from-process")
	t.Setenv("DISTILL_TEST_BOTH", "process wins")
	c := Config{"DISTILL_TEST_PLATFORM": "from-platform", "DISTILL_TEST_BOTH": "platform", "DISTILL_TEST_EMPTY": "", "DISTILL_TEST_FLAG": " true "}
	for _, tc := range []struct {
		name, want string
		set        bool
	}{
		{"DISTILL_TEST_PROCESS", "from-process", true},
		{"DISTILL_TEST_PLATFORM", "from-platform", true},
		{"DISTILL_TEST_BOTH", "process wins", true},
		{"DISTILL_TEST_EMPTY", "", true},
		{"DISTILL_TEST_UNSET", "", false},
	} {
		if got, ok := c.Lookup(tc.name); got != tc.want || ok != tc.set {
			t.Errorf("Lookup(%s) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.set)
		}
	}
	if !c.Bool("DISTILL_TEST_FLAG") || c.Bool("DISTILL_TEST_PLATFORM") || c.Bool("DISTILL_TEST_UNSET") {
		t.Error("Bool")
	}
}
