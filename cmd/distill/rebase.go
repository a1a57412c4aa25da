package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/distill-build/distill"
	"github.com/distill-build/distill/internal/platform"
)

func newRebaseCommand() *cobra.Command {
	o := platform.RebaseOptions{BuilderFiles: distill.BuilderFiles()}
	cmd := &cobra.Command{
		Use:   "rebase IMAGE",
		Short: "Put an app image on the newest run image without rebuilding it",
		Long: `Swap the run image layers of IMAGE (oci:DIR or a registry reference) for those
of the newest run image, keeping the app's layers byte for byte, as pack rebase
does, without a daemon. The run image is the one the image's metadata names
(distill/run:* is rebuilt from the stack definitions this binary carries when
they changed) unless --run-image names another; the result goes back to IMAGE
unless -o names a target. A run image of another stack, OS or architecture is
refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bin, err := binary()
			if err != nil {
				return err
			}
			o.Image, o.Binary, o.Log = args[0], bin, logWriter(cmd)
			rep, err := platform.Rebase(cmd.Context(), o)
			if err != nil {
				return err
			}
			if rep.Current {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is already on the newest %s (top layer %s); written to %s %s\n", o.Image, rep.NewRunImage, rep.NewTopLayer, rep.Target, rep.Digest)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Rebased %s from %s onto %s\n  run image top layer %s -> %s (%d run image layers replaced, %d app layers kept)\nImage written to %s %s in %.1f s\n",
				o.Image, rep.OldRunImage, rep.NewRunImage, rep.OldTopLayer, rep.NewTopLayer, rep.Replaced, rep.Kept, rep.Target, rep.Digest, rep.Duration.Seconds())
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.RunImage, "run-image", "", "new run image `REF` or oci:DIR (default: the run image the image names, resolved anew)")
	fl.StringVarP(&o.Output, "output", "o", "", "write the rebased image to `TARGET` (oci:DIR, registry:REF, docker-archive:FILE, daemon:TAG) instead of back to IMAGE")
	fl.BoolVar(&o.Force, "force", false, "rebase onto a run image other than the one the image names, or one marked io.buildpacks.rebasable=false")
	return cmd
}
