package redisstore_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/internal/readmecheck"
)

// TestREADMESnippets compiles the README's Go blocks that use this module
// (the root package's test compiles the others; see internal/readmecheck).
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
		if strings.Contains(b.Code, "redisstore.") {
			blocks = append(blocks, b)
		}
	}
	require.NotEmpty(t, blocks, "README.md shows the module")
	imports := map[string]string{
		"voicecall":  "github.com/voicecall-go/voicecall",
		"otp":        "github.com/voicecall-go/voicecall/otp",
		"redisstore": "github.com/voicecall-go/voicecall/redisstore",
		"context":    "context",
	}
	require.NoError(t, readmecheck.Build(".", "testdata", blocks, "", imports))
}
