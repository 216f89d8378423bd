package voicecall_test

import (
	"strings"
	"testing"

	"github.com/voicecall-go/voicecall/internal/readmecheck"
)

// readmeImports are the packages README snippets may use without
// importing them (internal/readmecheck adds the imports they need).
var readmeImports = map[string]string{
	"voicecall": "github.com/voicecall-go/voicecall",
	"voicetest": "github.com/voicecall-go/voicecall/voicetest",
	"otp":       "github.com/voicecall-go/voicecall/otp",
	"storetest": "github.com/voicecall-go/voicecall/storetest",
	"context":   "context",
	"errors":    "errors",
	"fmt":       "fmt",
	"log":       "log",
	"slog":      "log/slog",
	"http":      "net/http",
	"httptest":  "net/http/httptest",
	"os":        "os",
	"testing":   "testing",
	"time":      "time",
	"tls":       "crypto/tls",
	"x509":      "crypto/x509",
}

// readmePrelude declares what the README's snippets take from the
// application around them.
const readmePrelude = `import (
	"context"
	"net/http"
	"testing"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/otp"
)

// The application's credentials and app access address, from the console.
var appKey, appSecret, baseURL string

// The application's client, and a number it calls.
var (
	client *voicecall.Client
	phone  string
)

// The application's transport wrapper (tracing, say).
var myWrapper func(http.RoundTripper) http.RoundTripper

// The application's store of pending calls.
var pending interface {
	Save(ctx context.Context, token, phone string) error
}

// The application's storage.
var store interface {
	SaveEvent(ctx context.Context, sessionID string, t voicecall.EventType, code voicecall.StateCode) error
	SaveCDR(ctx context.Context, rec *voicecall.FeeRecord) error
}

// The application under test in the voicetest snippet.
var myApp struct {
	Client              *voicecall.Client
	NotificationHandler func() http.Handler
	SendCode            func(ctx context.Context, callee string) (sessionID string)
}

// The otp snippets' server key, the caller's IP address and what the user
// typed; the dead-letter spool; a store under test.
var (
	serverKey        []byte
	clientIP, typed  string
	spool            interface{ Append(body []byte) error }
	newMyStore       func(t *testing.T) otp.CodeStore
)

var _, _, _, _, _, _, _, _, _ = appKey, appSecret, baseURL, client, phone, myWrapper, pending, store, myApp
var _, _, _, _, _ = serverKey, clientIP, typed, spool, newMyStore
`

// TestREADMESnippets compiles every ```go block of README.md (see
// internal/readmecheck for how fragments are wrapped). Blocks that use a
// nested module (vcotel., redisstore.) are compiled by that module's
// tests.
func TestREADMESnippets(t *testing.T) {
	readmecheck.Check(t, readmecheck.Docs("."), "README.md and docs/ have Go snippets", func(code string) bool {
		return !strings.Contains(code, "vcotel.") && !strings.Contains(code, "redisstore.")
	}, readmePrelude, readmeImports)
}
