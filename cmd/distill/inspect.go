package main

import (
	"fmt"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/spf13/cobra"

	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/inspect"
	"github.com/distill-build/distill/internal/platform"
	"github.com/distill-build/distill/internal/report"
)

func newInspectCommand() *cobra.Command {
	var (
		asJSON     bool
		reportHTML string
		platforms  []string
	)
	cmd := &cobra.Command{
		Use:   "inspect IMAGE",
		Short: "Show an image's run image, buildpacks, processes, layers with sizes and packages",
		Long: `Show what a buildpacks-built image (distill build or pack build) holds: its
run image and digest, buildpacks with versions, processes and the default one,
each layer with its compressed and uncompressed size and what put it there, the
packages each layer's SBOM lists, and the total size.

IMAGE is oci:DIR, a tag in the local podman or docker, or a registry reference.
For an image index (distill build --platform A,B), --platform picks the image
(default: this machine's platform).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := inspect.Options{SizeCache: filepath.Join(platform.CacheRoot(), "sizes")}
			if len(platforms) > 0 {
				// Any platform an index may hold, not only those distill builds for.
				if len(platforms) != 1 {
					return fmt.Errorf("--platform: inspect shows one image; name one platform")
				}
				p, err := v1.ParsePlatform(platforms[0])
				if err != nil || p.OS == "" || p.Architecture == "" {
					return fmt.Errorf("--platform %q: want OS/ARCH[/VARIANT], e.g. linux/arm64", platforms[0])
				}
				o.Image = append(o.Image, image.WithPlatform(*p))
			}
			ref, err := inspect.ResolveImage(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			img, err := inspect.Read(cmd.Context(), args[0], ref, o)
			if err != nil {
				return err
			}
			if reportHTML != "" {
				if err := img.Report().WriteHTMLFile(cmd.Context(), reportHTML, ref, report.HTMLOptions{Title: args[0]}); err != nil {
					return err
				}
			}
			if asJSON {
				return img.WriteJSON(cmd.OutOrStdout())
			}
			return img.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringSliceVar(&platforms, "platform", nil, "the `OS/ARCH` of the image to show from an image index (default: this machine's)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (sizes in bytes) instead of text")
	cmd.Flags().StringVar(&reportHTML, "report-html", "", "also write the layers' sizes as one self-contained HTML page to `FILE`: a treemap of the image (each layer, its directories and largest files) by compressed size, and the table")
	return cmd
}
