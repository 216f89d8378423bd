package vcotel_test

import (
	"strings"
	"testing"

	"github.com/voicecall-go/voicecall/internal/readmecheck"
)

// TestREADMESnippets compiles the README's Go blocks that use this module
// (the root package's test compiles the others).
func TestREADMESnippets(t *testing.T) {
	imports := map[string]string{
		"voicecall": "github.com/voicecall-go/voicecall",
		"vcotel":    "github.com/voicecall-go/voicecall/otel",
		"context":   "context",
		"http":      "net/http",
		"otel":      "go.opentelemetry.io/otel",
		"otp":       "github.com/voicecall-go/voicecall/otp",
	}
	prelude := `import (
	"context"

	"github.com/voicecall-go/voicecall"
)

// The application's credentials and callbacks.
var (
	appKey, appSecret string
	onStatus          func(ctx context.Context, ev *voicecall.StatusEvent) error
)

var _, _, _ = appKey, appSecret, onStatus
`
	readmecheck.Check(t, readmecheck.Docs(".."), "README.md or docs/ shows the module", func(code string) bool {
		return strings.Contains(code, "vcotel.")
	}, prelude, imports)
}
