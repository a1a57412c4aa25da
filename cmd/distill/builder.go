package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/distill-build/distill/internal/builder"
)

func newBuilderCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "builder", Short: "Create CNB builder images (the same contract as pack builder create)"}
	var (
		config     string
		outputs    []string
		daemonTags []string
		publish    []string
		lifecycle  string
		stackReg   string
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
			ctx := cmd.Context()
			log := cmd.ErrOrStderr()
			targets, err := parseTargets("builder", outputs, daemonTags, publish)
			if err != nil {
				return err
			}
			if len(outputs)+len(daemonTags)+len(publish) == 0 {
				return fmt.Errorf("say where the builder goes: -o oci:DIR, --publish REF or --daemon TAG")
			}
			cfgPath, err := findBuilder(config)
			if err != nil {
				return err
			}
			b, err := builder.Load(ctx, cfgPath, log)
			if err != nil {
				return err
			}
			images, err := builder.NewImages(b.Config.Path, log)
			if err != nil {
				return err
			}
			buildImg, err := images.Resolve(ctx, b.Config.Build.Image)
			if err != nil {
				return fmt.Errorf("%s: [build] image %s: %w", b.Config.Path, b.Config.Build.Image, err)
			}
			if err := checkRunImages(cmd, b, images); err != nil {
				return err
			}
			if stackReg != "" {
				if err := b.PublishStacks(ctx, images, stackReg, log); err != nil {
					return err
				}
			}
			staging, err := os.MkdirTemp("", "distill-builder-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(staging)
			img, err := builder.Create(ctx, b, buildImg, builder.CreateOptions{Lifecycle: lifecycle, Staging: staging, Log: log})
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
		},
	}
	f := create.Flags()
	f.StringVarP(&config, "config", "c", "", "builder.toml (default: the project's builder.toml)")
	f.StringArrayVarP(&outputs, "output", "o", nil, "write the builder to `TARGET`: oci:DIR, docker-archive:FILE")
	f.StringArrayVar(&daemonTags, "daemon", nil, "load the builder into the Docker API (podman or docker) as `TAG`")
	f.StringArrayVar(&publish, "publish", nil, "push the builder to a registry as `REF`")
	f.StringVar(&lifecycle, "lifecycle", "", "lifecycle tarball `FILE` (default: [lifecycle] uri of builder.toml)")
	f.StringVar(&stackReg, "stack-registry", "", "push the stack images to `PREFIX`/<repository>:<tag> and name those in the builder")
	cmd.AddCommand(create)
	return cmd
}

// checkRunImages resolves every run image (building stack images on first
// use) and checks their stack id against the builder's.
func checkRunImages(cmd *cobra.Command, b *builder.Builder, images *builder.Images) error {
	for _, r := range b.Config.RunImages() {
		img, err := images.Resolve(cmd.Context(), r.Image)
		if err != nil {
			return fmt.Errorf("%s: run image %s: %w", b.Config.Path, r.Image, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return err
		}
		if id, want := cf.Config.Labels[builder.LabelStackID], b.Config.Stack.ID; want != "" && id != "" && id != want {
			return fmt.Errorf("%s: run image %s has stack id %q, the builder %q", b.Config.Path, r.Image, id, want)
		}
	}
	return nil
}
