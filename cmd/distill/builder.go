package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/distill-build/distill"
	"github.com/distill-build/distill/internal/platform"
)

func newBuilderCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "builder", Short: "Create CNB builder images (the same contract as pack builder create)"}
	var (
		config     string
		out        outputFlags
		platforms  []string
		lifecycles []string
		binaries   []string
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
so the builder's users can pull its run images.

--platform linux/amd64,linux/arm64 builds one builder per platform and writes
their image index (pack build --platform picks one). Every platform but this
machine's needs its lifecycle (--lifecycle linux/arm64=FILE) and a distill
binary built for it (--binary linux/arm64=PATH); its build image runs
maintainer scripts, so building it here needs QEMU user emulation
(binfmt_misc), or run this on a machine of that platform.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out.empty() {
				return fmt.Errorf("say where the builder goes: -o oci:DIR, --publish REF or --daemon TAG")
			}
			targets, err := out.targets()
			if err != nil {
				return err
			}
			o := platform.CreateBuilderOptions{Config: config, Files: distill.BuilderFiles(), StackRegistry: stackReg, Targets: targets, Log: logWriter(cmd)}
			if len(platforms) > 0 {
				if o.Platforms, err = platform.ParsePlatforms(platforms); err != nil {
					return err
				}
			}
			if o.Lifecycles, err = platform.PlatformFiles("--lifecycle", lifecycles); err != nil {
				return err
			}
			if o.Binaries, err = platform.PlatformFiles("--binary", binaries); err != nil {
				return err
			}
			if o.Binary, err = binary(); err != nil {
				return err
			}
			d, err := platform.CreateBuilder(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "builder %s\n", d)
			return nil
		},
	}
	f := create.Flags()
	f.StringVarP(&config, "config", "c", "", "builder.toml (default: the builder in this binary)")
	out.register(f, "builder")
	f.StringSliceVar(&platforms, "platform", nil, "build one builder per `OS/ARCH` (comma-separated or repeated: linux/amd64,linux/arm64) and write their image index (default: this machine's platform, one image)")
	f.StringArrayVar(&lifecycles, "lifecycle", nil, "lifecycle tarball `[OS/ARCH=]FILE`; repeat per platform, e.g. --lifecycle linux/arm64=lifecycle-arm64.tgz (default for this machine's platform: [lifecycle] uri of builder.toml)")
	f.StringArrayVar(&binaries, "binary", nil, "distill binary `OS/ARCH=PATH` for another platform's builder (its buildpacks' bin/); repeat per platform")
	f.StringVar(&stackReg, "stack-registry", "", "push the stack images to `PREFIX`/<repository>:<tag> and name those in the builder")
	cmd.AddCommand(create)
	return cmd
}
