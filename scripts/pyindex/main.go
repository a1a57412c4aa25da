// Command pyindex builds wheels from Debian trixie's python3-* packages and serves them as a
// PEP 503 index on 127.0.0.1, for trying the Python buildpack without PyPI:
//
//	go run ./scripts/pyindex                    # build (cached in .cache/pyindex), serve on a free port
//	go run ./scripts/pyindex -addr 127.0.0.1:8765
//	go run ./scripts/pyindex -build-only
//	go run ./scripts/pyindex -arm64             # arm64 wheels too, for --platform linux/amd64,linux/arm64
//
// then: distill build ./app --env PIP_INDEX_URL=http://127.0.0.1:8765/simple
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/distill-build/distill/integration/pyindex"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to serve the index on")
	cache := flag.String("cache", filepath.Join(".cache", "pyindex"), "directory for the built wheels")
	buildOnly := flag.Bool("build-only", false, "build the wheels, print their directory, and exit")
	arm64 := flag.Bool("arm64", false, "serve the arm64 wheels too (native ones tagged linux_aarch64)")
	flag.Parse()
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
	sets := []pyindex.Set{{Arch: "amd64", Packages: pyindex.DebianPackages}}
	if *arm64 {
		sets = append(sets, pyindex.Set{Arch: "arm64", Packages: pyindex.DebianPackages})
	}
	dir, err := pyindex.EnsureSets(context.Background(), *cache, sets, logf)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *buildOnly {
		fmt.Println(dir)
		return
	}
	s, err := pyindex.Serve(dir, *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("PIP_INDEX_URL=%s\n", s.URL)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	s.Close()
}
