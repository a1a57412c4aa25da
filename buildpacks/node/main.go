// Package node is the distill/node buildpack (Node.js). It is compiled into the distill
// binary, which a builder installs as the buildpack's bin/build with bin/detect a
// symlink to it: Main dispatches on the base name of argv[0], as libcnb does.
package node

import (
	"os"

	"github.com/paketo-buildpacks/libpak/v2"
)

// Main runs bin/detect or bin/build, by the base name of os.Args[0], and exits.
func Main() {
	logger := newLogger(os.Stdout)
	libpak.BuildpackMain(
		Detector{Logger: logger}.Detect,
		(&Builder{Logger: logger}).Build,
	)
}
