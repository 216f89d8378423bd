package redisstore_test

import (
	"strings"
	"testing"

	"github.com/voicecall-go/voicecall/internal/readmecheck"
)

// TestREADMESnippets compiles the Go blocks of the README and docs/ that
// use this module (the root package's test compiles the others; see
// internal/readmecheck).
func TestREADMESnippets(t *testing.T) {
	imports := map[string]string{
		"voicecall":  "github.com/voicecall-go/voicecall",
		"otp":        "github.com/voicecall-go/voicecall/otp",
		"journal":    "github.com/voicecall-go/voicecall/journal",
		"redisstore": "github.com/voicecall-go/voicecall/redisstore",
		"context":    "context",
		"errors":     "errors",
		"fmt":        "fmt",
		"log":        "log",
		"slog":       "log/slog",
		"http":       "net/http",
		"time":       "time",
		"redis":      "github.com/redis/go-redis/v9",
	}
	readmecheck.Check(t, readmecheck.Docs(".."), "README.md or docs/ shows the module", func(code string) bool {
		return strings.Contains(code, "redisstore.")
	}, "", imports)
}
