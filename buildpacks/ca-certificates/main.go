// Package cacerts is the distill/ca-certificates buildpack: it makes builds
// trust extra CA certificates from service bindings of type ca-certificates.
// It is compiled into the distill binary, which a builder installs as bin/build
// with bin/detect a symlink to it.
package cacerts

import (
	"os"

	"github.com/paketo-buildpacks/libpak/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

// Main runs bin/detect or bin/build, by the base name of os.Args[0], and exits.
func Main() {
	logger := log.NewPaketoLogger(os.Stdout)
	libpak.BuildpackMain(
		Detector{Logger: logger}.Detect,
		Builder{Logger: logger, SystemBundle: DefaultSystemBundle}.Build,
	)
}
