package numberpolicy_test

import (
	"strings"
	"testing"

	"github.com/voicecall-go/voicecall/internal/readmecheck"
)

// TestREADMESnippets compiles the Go blocks that use this module: those of
// its own README.md, and any of the repository's README.md and docs/
// (whose test leaves them to this one; see internal/readmecheck).
func TestREADMESnippets(t *testing.T) {
	imports := map[string]string{
		"numberpolicy": "github.com/voicecall-go/voicecall/numberpolicy",
		"otp":          "github.com/voicecall-go/voicecall/otp",
		"errors":       "errors",
	}
	readmecheck.Check(t, append(readmecheck.Docs(".."), "README.md"), "numberpolicy/README.md shows the module", func(code string) bool {
		return strings.Contains(code, "numberpolicy.")
	}, "", imports)
}
