// Command distill/ca-certificates makes builds trust extra CA certificates from service bindings of
// type ca-certificates. Installed as bin/build with bin/detect a symlink to it.
package main

import (
	"os"

	"github.com/paketo-buildpacks/libpak/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

func main() {
	logger := log.NewPaketoLogger(os.Stdout)
	libpak.BuildpackMain(
		Detector{Logger: logger}.Detect,
		Builder{Logger: logger, SystemBundle: DefaultSystemBundle}.Build,
	)
}
