// Package staticserver carries the static file server distill puts in images
// that are only files (a Next.js `output: 'export'` site): server/main.go,
// embedded as source and compiled at build time with the build image's Go
// through gocompile. `static-server DIR` serves DIR on :$PORT (default 8080);
// server/main.go documents what it answers.
package staticserver

import (
	_ "embed"

	"github.com/distill-build/distill/internal/gocompile"
)

//go:embed server/main.go
var source []byte

// Program is the server, compiled to bin/static-server.
var Program = gocompile.Program{Name: "static-server", Source: source}
