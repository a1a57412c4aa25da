package main

import (
	"io"
	"os"

	"github.com/mattn/go-colorable"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// logWriter is where a command's progress goes: stderr, with the buildpacks'
// ANSI colours removed when NO_COLOR is set (no-color.org) or stderr is not
// a terminal (a pipe, a CI log, a file).
func logWriter(cmd *cobra.Command) io.Writer {
	w := cmd.ErrOrStderr()
	if !colored(w) {
		return colorable.NewNonColorable(w)
	}
	return w
}

// colored reports whether w takes colour: a terminal, and NO_COLOR unset.
func colored(w io.Writer) bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
