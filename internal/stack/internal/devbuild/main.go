// Command devbuild builds one stack definition by hand:
//
//	go run ./internal/stack/internal/devbuild stacks/run-static.toml [oci-layout-dir]
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/distill-build/distill/internal/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 2 {
		return fmt.Errorf("usage: devbuild STACK.toml [OCI-LAYOUT-DIR]")
	}
	d, err := stack.Load(os.Args[1])
	if err != nil {
		return err
	}
	start := time.Now()
	img, err := stack.Build(context.Background(), d, stack.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	if err != nil {
		return err
	}
	built := time.Since(start)
	dg, err := img.Digest()
	if err != nil {
		return err
	}
	ls, err := img.Layers()
	if err != nil {
		return err
	}
	var comp, uncomp int64
	for _, l := range ls {
		sz, err := l.Size()
		if err != nil {
			return err
		}
		rc, err := l.Uncompressed()
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
		comp, uncomp = comp+sz, uncomp+n
	}
	fmt.Printf("%s %s layers=%d compressed=%d uncompressed=%d build=%s\n", d.Ref(), dg, len(ls), comp, uncomp, built.Round(time.Millisecond))
	if len(os.Args) > 2 {
		p, err := layout.Write(os.Args[2], empty.Index)
		if err != nil {
			return err
		}
		return p.AppendImage(img)
	}
	return nil
}
