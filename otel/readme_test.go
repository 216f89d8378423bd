package vcotel_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/internal/readmecheck"
)

// TestREADMESnippets compiles the README's Go blocks that use this module
// (the root package's test compiles the others).
func TestREADMESnippets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	t.Parallel()
	md, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	var blocks []readmecheck.Block
	for _, b := range readmecheck.Blocks(md) {
		if strings.Contains(b.Code, "vcotel.") {
			blocks = append(blocks, b)
		}
	}
	require.NotEmpty(t, blocks, "README.md shows the module")
	imports := map[string]string{
		"voicecall": "github.com/voicecall-go/voicecall",
		"vcotel":    "github.com/voicecall-go/voicecall/otel",
		"context":   "context",
		"http":      "net/http",
		"otel":      "go.opentelemetry.io/otel",
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
	require.NoError(t, readmecheck.Build(".", "testdata", blocks, prelude, imports))
}
