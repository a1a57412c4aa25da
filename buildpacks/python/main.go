// Command distill/python is the distill Python buildpack. The same binary is installed as
// bin/build and bin/detect (a symlink); libcnb dispatches on the base name of argv[0].
package main

import (
	"os"

	"github.com/paketo-buildpacks/libpak/v2"
)

func main() {
	logger := newLogger(os.Stdout)
	libpak.BuildpackMain(
		Detector{Logger: logger}.Detect,
		(&Builder{Logger: logger}).Build,
	)
}
