package voicecall_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voicecall-go/voicecall/internal/readmecheck"
)

// readmeImports are the packages README snippets may use without
// importing them (internal/readmecheck adds the imports they need).
var readmeImports = map[string]string{
	"voicecall": "github.com/voicecall-go/voicecall",
	"voicetest": "github.com/voicecall-go/voicecall/voicetest",
	"otp":       "github.com/voicecall-go/voicecall/otp",
	"journal":   "github.com/voicecall-go/voicecall/journal",
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
	"github.com/voicecall-go/voicecall/journal"
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
	newMyStore       func(t *testing.T) otp.Store
)

// The journal a consumer reads (docs/JOURNAL.md) and the consumer's name.
var (
	j        journal.Journal
	hostname string
)

var _, _, _, _, _, _, _, _, _ = appKey, appSecret, baseURL, client, phone, myWrapper, pending, store, myApp
var _, _ = j, hostname
var _, _, _, _, _ = serverKey, clientIP, typed, spool, newMyStore
`

// TestREADMESnippets compiles every ```go block of README.md (see
// internal/readmecheck for how fragments are wrapped). Blocks that use a
// nested module (vcotel., redisstore., numberpolicy.) are compiled by
// that module's tests.
func TestREADMESnippets(t *testing.T) {
	readmecheck.Check(t, readmecheck.Docs("."), "README.md and docs/ have Go snippets", func(code string) bool {
		return !strings.Contains(code, "vcotel.") && !strings.Contains(code, "redisstore.") && !strings.Contains(code, "numberpolicy.")
	}, readmePrelude, readmeImports)
}

// TestREADMEInstall runs the go commands of the README's "Install" block
// in a new module beside a stand-in for the clone (this repository), then
// builds a program that uses the SDK: the install steps must work as
// written, while no version is published.
func TestREADMEInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy and go build")
	}
	t.Parallel()
	md, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, install, ok := strings.Cut(string(md), "\n## Install\n")
	require.True(t, ok, "README.md has an Install section")
	install, _, _ = strings.Cut(install, "\n## ")
	_, block, ok := strings.Cut(install, "```sh\n")
	require.True(t, ok, "the Install section has a sh block")
	block, _, _ = strings.Cut(block, "```")
	var cmds []string
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(line, "go ") {
			cmds = append(cmds, line)
		}
	}
	require.NotEmpty(t, cmds, "the Install block has go commands")

	root, err := filepath.Abs(".")
	require.NoError(t, err)
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	require.NoError(t, os.Symlink(root, filepath.Join(dir, "voicecall")), "the clone, beside the app")
	require.NoError(t, os.Mkdir(app, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(app, "main.go"), []byte(`package main

import "github.com/voicecall-go/voicecall"

func main() {
	_, err := voicecall.NewClient("https://rtccall.cn-north-1.myhuaweicloud.cn:443", "key", "secret")
	if err != nil {
		panic(err)
	}
}
`), 0o644))
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = app
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s:\n%s", strings.Join(args, " "), out)
	}
	run("go", "mod", "init", "example.com/app")
	for _, c := range cmds {
		run(strings.Fields(c)...)
	}
	run("go", "build", "-o", os.DevNull, ".")
}
