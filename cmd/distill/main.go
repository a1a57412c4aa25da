// Command distill builds application source into small OCI images with Cloud
// Native Buildpacks, without a Docker daemon.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/distill-build/distill"
	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/image"
)

// binary is this program as the runner of the buildpacks and extensions
// compiled into it.
func binary() (*builder.Binary, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the distill executable: %w", err)
	}
	return &builder.Binary{Path: exe, Runs: distill.Runs}, nil
}

func main() {
	// Installed as a buildpack's bin/detect or bin/build (or an extension's
	// bin/generate), the binary is that buildpack.
	if run := distill.ModuleMain(os.Args[0]); run != nil {
		run()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "distill",
		Short:         "Build source into the smallest correct OCI image, no Dockerfile, no daemon",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newBuildCommand(), newInspectCommand(), newRebaseCommand(), newStackCommand(), newBuilderCommand(), newBuildpackCommand(), newVersionCommand())
	err := root.ExecuteContext(ctx)
	image.RemoveTemporaries()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ERROR:", err)
		os.Exit(1)
	}
}
