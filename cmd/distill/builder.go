package main

import (
	"context"
	"fmt"
	"os"

	"github.com/distill-build/distill/internal/cnbmeta"

	"github.com/spf13/cobra"

	"github.com/distill-build/distill"
	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/builderimage"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/platform"
	"github.com/distill-build/distill/internal/stack"
)

func newBuilderCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "builder", Short: "Create CNB builder images (the same contract as pack builder create)"}
	var (
		config    string
		out       outputFlags
		lifecycle string
		stackReg  string
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Build the builder image builder.toml describes, without a daemon",
		Long: `Build the builder image builder.toml describes: the build image plus the
lifecycle, one layer per buildpack and extension, /cnb/order.toml, run.toml and
stack.toml, and the labels pack, kpack and the lifecycle read.

--stack-registry PREFIX also pushes the stack images (stacks/*.toml) to
PREFIX/<repository>:<tag> and names those copies in run.toml and the labels,
so the builder's users can pull its run images.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out.empty() {
				return fmt.Errorf("say where the builder goes: -o oci:DIR, --publish REF or --daemon TAG")
			}
			targets, err := out.targets()
			if err != nil {
				return err
			}
			return createBuilder(cmd, config, lifecycle, stackReg, targets)
		},
	}
	f := create.Flags()
	f.StringVarP(&config, "config", "c", "", "builder.toml (default: the builder in this binary)")
	out.register(f, "builder")
	f.StringVar(&lifecycle, "lifecycle", "", "lifecycle tarball `FILE` (default: [lifecycle] uri of builder.toml)")
	f.StringVar(&stackReg, "stack-registry", "", "push the stack images to `PREFIX`/<repository>:<tag> and name those in the builder")
	cmd.AddCommand(create)
	return cmd
}

// createBuilder builds the builder image of builderTOML ("" for the builder
// this binary carries) and writes it to targets.
func createBuilder(cmd *cobra.Command, builderTOML, lifecycle, stackReg string, targets []image.Target) error {
	ctx, log := cmd.Context(), logWriter(cmd)
	bin, err := binary()
	if err != nil {
		return err
	}
	b, err := platform.LoadBuilder(ctx, builderTOML, distill.BuilderFiles(), bin, log)
	if err != nil {
		return err
	}
	images, err := platform.ResolveImages(ctx, b, "", log)
	if err != nil {
		return err
	}
	if err := checkRunImages(ctx, b, images); err != nil {
		return err
	}
	if stackReg != "" {
		stacks, err := stack.NewImages(b.StacksDir(), log)
		if err != nil {
			return err
		}
		if err := builderimage.PublishStacks(ctx, b, stacks, stackReg, log); err != nil {
			return err
		}
	}
	staging, err := os.MkdirTemp("", "distill-builder-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	buildImg, err := images.BuildImage(ctx)
	if err != nil {
		return err
	}
	img, err := builderimage.Create(ctx, b, buildImg, builderimage.CreateOptions{Lifecycle: lifecycle, Staging: staging, Log: log})
	if err != nil {
		return err
	}
	for _, t := range targets {
		if err := t.Write(ctx, img); err != nil {
			return fmt.Errorf("writing the builder to %s: %w", t, err)
		}
		fmt.Fprintf(log, "Wrote builder to %s\n", t)
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "builder %s\n", d)
	return nil
}

// checkRunImages checks the stack id of every run image against the builder's.
func checkRunImages(ctx context.Context, b *builder.Builder, images *platform.Images) error {
	for _, ref := range images.RunRefs {
		img, err := images.Resolve(ctx, ref)
		if err != nil {
			return fmt.Errorf("%s: run image %s: %w", b.Config.Path, ref, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return err
		}
		if id, want := cf.Config.Labels[cnbmeta.LabelStackID], b.Config.Stack.ID; want != "" && id != "" && id != want {
			return fmt.Errorf("%s: run image %s has stack id %q, the builder %q", b.Config.Path, ref, id, want)
		}
	}
	return nil
}
