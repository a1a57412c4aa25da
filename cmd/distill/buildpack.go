package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/distill-build/distill/internal/builder"
)

func newBuildpackCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "buildpack", Short: "Compile and package buildpacks and extensions"}

	cmd.AddCommand(&cobra.Command{
		Use:   "build DIR...",
		Short: "Compile buildpacks (or extensions) written in Go into DIR/bin, as pack builder create expects them",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, dir := range args {
				d, err := builder.PrepareModule(cmd.Context(), dir, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", d.Key(), dir)
			}
			return nil
		},
	})

	var outputs, daemonTags, publish []string
	pkg := &cobra.Command{
		Use:   "package DIR",
		Short: "Package a buildpack (or extension) as an OCI image, like pack buildpack package",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(outputs)+len(daemonTags)+len(publish) == 0 {
				return fmt.Errorf("say where the buildpackage goes: -o oci:DIR, --publish REF or --daemon TAG")
			}
			targets, err := parseTargets(args[0], outputs, daemonTags, publish)
			if err != nil {
				return err
			}
			d, err := builder.PrepareModule(cmd.Context(), args[0], cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			staging, err := os.MkdirTemp("", "distill-package-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(staging)
			img, err := builder.Package(d, staging)
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
	f := pkg.Flags()
	f.StringArrayVarP(&outputs, "output", "o", nil, "write the buildpackage to `TARGET`: oci:DIR, docker-archive:FILE")
	f.StringArrayVar(&daemonTags, "daemon", nil, "load it into the Docker API as `TAG`")
	f.StringArrayVar(&publish, "publish", nil, "push it to a registry as `REF`")
	cmd.AddCommand(pkg)
	return cmd
}
