package main

import (
	"bytes"
	"testing"

	"github.com/spf13/cobra"
)

func TestLogWriterStripsColour(t *testing.T) {
	for _, tc := range []struct {
		name    string
		noColor bool
	}{{"a pipe or file", false}, {"NO_COLOR", true}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.noColor {
				t.Setenv("NO_COLOR", "1")
			}
			var buf bytes.Buffer
			cmd := &cobra.Command{}
			cmd.SetErr(&buf)
			w := logWriter(cmd)
			if _, err := w.Write([]byte("\x1b[34mDistill Go Buildpack\x1b[0m\n\x1b[2m    Reusing\x1b[0m\n")); err != nil {
				t.Fatal(err)
			}
			if got, want := buf.String(), "Distill Go Buildpack\n    Reusing\n"; got != want {
				t.Errorf("wrote %q, want %q", got, want)
			}
		})
	}
}
