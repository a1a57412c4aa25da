// Command registryd serves a throwaway OCI distribution registry for the
// integration tests (started and stopped by scripts/registry). Manifests live
// in memory; blobs in -blobs (or memory when it is empty).
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "address to listen on")
	blobs := flag.String("blobs", "", "directory for blobs (default: memory)")
	verbose := flag.Bool("v", false, "log every request")
	flag.Parse()

	logger := log.New(io.Discard, "", 0)
	if *verbose {
		logger = log.New(os.Stderr, "registry: ", log.LstdFlags)
	}
	opts := []registry.Option{registry.Logger(logger), registry.WithReferrersSupport(true)}
	if *blobs != "" {
		if err := os.MkdirAll(*blobs, 0o755); err != nil {
			log.Fatal(err)
		}
		opts = append(opts, registry.WithBlobHandler(registry.NewDiskBlobHandler(*blobs)))
	}
	srv := &http.Server{
		Addr:              *addr,
		Handler:           registry.New(opts...),
		ReadHeaderTimeout: 30 * time.Second,
	}
	log.Printf("registry: serving on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
