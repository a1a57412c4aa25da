package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/builderimage"
)

func newBuildpackCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "buildpack", Short: "Prepare and package buildpacks and extensions"}

	cmd.AddCommand(&cobra.Command{
		Use:   "build DIR...",
		Short: "Install this binary as DIR/bin of each buildpack (or extension) it carries, as pack builder create expects them",
		Long: `Install this binary as DIR/bin/build (bin/generate for an extension), with
bin/detect linked to it, for each buildpack or extension directory whose
buildpack.toml (extension.toml) names one compiled into distill. Any other
directory must already carry its bin/.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bin, err := binary()
			if err != nil {
				return err
			}
			for _, dir := range args {
				d, err := builder.PrepareModule(dir, bin)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", d.Key(), dir)
			}
			return nil
		},
	})

	var out outputFlags
	pkg := &cobra.Command{
		Use:   "package DIR",
		Short: "Package a buildpack (or extension) as an OCI image, like pack buildpack package",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out.empty() {
				return fmt.Errorf("say where the buildpackage goes: -o oci:DIR, --publish REF or --daemon TAG")
			}
			targets, err := out.targets()
			if err != nil {
				return err
			}
			bin, err := binary()
			if err != nil {
				return err
			}
			d, err := builder.PrepareModule(args[0], bin)
			if err != nil {
				return err
			}
			staging, err := os.MkdirTemp("", "distill-package-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(staging)
			img, err := builderimage.Package(d, staging)
			if err != nil {
				return err
			}
			for _, t := range targets {
				if err := t.Write(cmd.Context(), img); err != nil {
					return fmt.Errorf("writing %s to %s: %w", d.Key(), t, err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Wrote %s to %s\n", d.Key(), t)
			}
			digest, err := img.Digest()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", d.Key(), digest)
			return nil
		},
	}
	out.register(pkg.Flags(), "buildpackage")
	cmd.AddCommand(pkg)
	return cmd
}
