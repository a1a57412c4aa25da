package cacerts

import (
	"strings"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"

	"github.com/distill-build/distill/internal/buildpack"
)

// BindingType is the service binding type this buildpack consumes.
const BindingType = "ca-certificates"

// Detector passes when there is a ca-certificates binding or BP_EMBED_CERTS is true. It provides
// and requires nothing, so it can sit (optional) at the front of every order group.
type Detector struct {
	Logger log.Logger
}

func (d Detector) Detect(ctx libcnb.DetectContext) (libcnb.DetectResult, error) {
	bindings := caBindings(ctx.Platform.Bindings)
	embed := embedCerts(ctx.Platform.Environment)
	if len(bindings) == 0 && !embed {
		if d.Logger != nil {
			d.Logger.Body("SKIPPED: no binding of type ca-certificates and BP_EMBED_CERTS is not true")
		}
		return libcnb.DetectResult{Pass: false}, nil
	}
	return libcnb.DetectResult{Pass: true}, nil
}

// caBindings returns the bindings of type ca-certificates (the type is matched case-insensitively).
func caBindings(all libcnb.Bindings) []libcnb.Binding {
	var out []libcnb.Binding
	for _, b := range all {
		if strings.EqualFold(strings.TrimSpace(b.Type), BindingType) {
			out = append(out, b)
		}
	}
	return out
}

// embedCerts reads BP_EMBED_CERTS from the process environment, else <platform>/env.
func embedCerts(platformEnv map[string]string) bool {
	return buildpack.Config(platformEnv).Bool("BP_EMBED_CERTS")
}
