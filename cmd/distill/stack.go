package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/stack"
)

func newStackCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "stack", Short: "Build stack images (build and run images) from Debian packages"}
	var outputs []string
	build := &cobra.Command{
		Use:   "build STACK_FILE",
		Short: "Build the image a stacks/*.toml file defines",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			def, err := stack.Load(args[0])
			if err != nil {
				return err
			}
			img, err := stack.Build(cmd.Context(), def, stack.WithProgress(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			if len(outputs) == 0 {
				dir, err := image.DefaultStoreDir()
				if err != nil {
					return err
				}
				store, err := image.OpenStore(dir)
				if err != nil {
					return err
				}
				if err := store.Put(cmd.Context(), def.Ref(), img); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s stored in %s\n", def.Ref(), store.Dir())
			}
			for _, o := range outputs {
				t, err := image.ParseTarget(o, image.WithRefName(def.Ref()))
				if err != nil {
					return err
				}
				if err := t.Write(cmd.Context(), img); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s written to %s\n", def.Ref(), t)
			}
			return nil
		},
	}
	build.Flags().StringArrayVarP(&outputs, "output", "o", nil, "write the image to `TARGET` (oci:DIR, docker-archive:FILE, daemon:TAG, registry:REF); default: the local image store")
	cmd.AddCommand(build)
	return cmd
}
