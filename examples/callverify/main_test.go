package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
	"github.com/voicecall-go/voicecall/examples/internal/clitest"
	"github.com/voicecall-go/voicecall/voicetest"
)

// jsonContentType is the Content-Type the platform sends and requires.
const jsonContentType = "application/json;charset=UTF-8"

const (
	appKey    = "exampleKey"
	appSecret = "exampleSecret-DoNotPrint"
)

// fakePlatform checks the signature with the documented formula and
// answers like the platform; it counts what it received.
func fakePlatform(t *testing.T) (*httptest.Server, *atomic.Int64, func() []map[string]any) {
	t.Helper()
	var n atomic.Int64
	var mu sync.Mutex
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", jsonContentType)
		tok, err := aksk.Parse(r.Header.Get("X-AKSK"))
		if err != nil || aksk.Sign(appKey, appSecret, tok.Nonce, tok.Created).PasswordDigest != tok.PasswordDigest {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"resultcode":"1023006","resultdesc":"Authorization not contained in the HTTP header."}`)
			return
		}
		var m map[string]any
		body, _ := io.ReadAll(r.Body)
		assert.NoError(t, json.Unmarshal(body, &m)) // not require: this is the server's goroutine
		mu.Lock()
		bodies = append(bodies, m)
		mu.Unlock()
		io.WriteString(w, `{"resultcode":"0","resultdesc":"Success","sessionId":"1200_366_0_20161228102743@callenabler.home1.com"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n, func() []map[string]any {
		mu.Lock()
		defer mu.Unlock()
		return append([]map[string]any(nil), bodies...)
	}
}

func env(baseURL, secret string) func(string) string {
	return clitest.Env(baseURL, appKey, secret)
}

var allFlags = []string{
	"-display", "+8675528000088", "-callee", "+8613500000001", "-code", "123456", "-pretone", "pre.wav",
	"-postone", "post.wav", "-times", "0", "-lang", "2", "-status-url", "https://example.com/status",
	"-fee-url", "https://example.com/fee", "-user-data", "order-42", "-idle-port", "-timeout", "5s",
}

// runMain runs the program; it never prints the secret, a digest or the
// verification code.
func runMain(t *testing.T, args []string, getenv func(string) string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, run, args, getenv, appSecret, "PasswordDigest", "123456")
}

func TestSuccessWithEveryField(t *testing.T) {
	srv, n, bodies := fakePlatform(t)
	code, out, _ := runMain(t, allFlags, env(srv.URL, appSecret))
	assert.Equal(t, cli.ExitOK, code)
	assert.Equal(t, "1200_366_0_20161228102743@callenabler.home1.com\n", out)
	assert.Equal(t, int64(1), n.Load())
	got := bodies()
	require.Len(t, got, 1)
	b := got[0]
	assert.Equal(t, float64(0), b["times"])
	assert.Equal(t, "aHR0cHM6Ly9leGFtcGxlLmNvbS9mZWU=", b["feeUrl"])
	assert.Equal(t, "post.wav", b["posTone"])
	assert.Equal(t, "true", b["returnIdlePort"])
}

func TestWrongSecretExits1(t *testing.T) {
	srv, n, _ := fakePlatform(t)
	code, out, errOut := runMain(t, allFlags, env(srv.URL, "wrong-secret"))
	assert.Equal(t, cli.ExitRejected, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "1023006")
	assert.Equal(t, int64(1), n.Load())
}

func TestInvalidInputExits2WithoutSending(t *testing.T) {
	srv, n, _ := fakePlatform(t)
	tests := [][]string{
		{"-display", "+8675528000088", "-callee", "13500000001", "-code", "123456", "-pretone", "p.wav"},
		{"-display", "+8675528000088", "-callee", "+8613500000001", "-code", "12ab", "-pretone", "p.wav"},
		{"-display", "+8675528000088", "-callee", "+8613500000001", "-code", "123456789", "-pretone", "p.wav"},
		{"-times", "12", "-display", "+8675528000088", "-callee", "+8613500000001", "-code", "1", "-pretone", "p.wav"},
		{"-times", "-5"},
		{"-no-such-flag"},
		{"extra-argument"},
	}
	for _, args := range tests {
		code, _, errOut := runMain(t, args, env(srv.URL, appSecret))
		assert.Equal(t, cli.ExitUsage, code, "%v: %s", args, errOut)
	}
	code, _, errOut := runMain(t, allFlags, env("", appSecret))
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, "VOICECALL_BASE_URL")
	assert.Zero(t, n.Load(), "nothing reached the server")
}

func TestUnknownOutcomeExits3(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	}))
	t.Cleanup(srv.Close)
	code, out, errOut := runMain(t, allFlags, env(srv.URL, appSecret))
	assert.Equal(t, cli.ExitUnknown, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "outcome unknown")
	assert.Contains(t, errOut, `"order-42"`)
	assert.Equal(t, int64(1), n.Load())
	assert.False(t, strings.Contains(errOut, "\r"))
}

// The "done when" of the at-most-once issue, through this program and the
// fake platform: faults after sending exit 3 with exactly one request
// received; refusals exit 1; nothing listening is not exit 3; a platform
// that closes every connection without notice never fails a call.
func TestOutcomesAgainstTheFakePlatform(t *testing.T) {
	sandboxEnv := func(url string) func(string) string {
		return func(k string) string {
			return map[string]string{"VOICECALL_BASE_URL": url, "VOICECALL_APP_KEY": voicetest.DefaultAppKey,
				"VOICECALL_APP_SECRET": voicetest.DefaultAppSecret}[k]
		}
	}
	tests := []struct {
		name     string
		fault    voicetest.Fault
		exit     int
		contains string
	}{
		{"answer lost", voicetest.DropResponse(), cli.ExitUnknown, "outcome unknown"},
		{"502 HTML", voicetest.FailHTML(502), cli.ExitUnknown, "http 502"},
		{"truncated JSON", voicetest.TruncateResponse(), cli.ExitUnknown, "unexpected EOF"},
		{"reset", voicetest.ResetConnection(), cli.ExitUnknown, "outcome unknown"},
		{"flow control", voicetest.FailCode(voicecall.CodeFlowControl), cli.ExitRejected, "1010010"},
		{"port limit", voicetest.FailCode(voicecall.CodePortLimit), cli.ExitRejected, "1020165"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := voicetest.Start(t)
			require.NoError(t, srv.FailNext(1, tt.fault))
			code, out, errOut := runMain(t, allFlags, sandboxEnv(srv.URL))
			assert.Equal(t, tt.exit, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tt.contains)
			require.Len(t, srv.Requests(), 1, "exactly one request reached the platform")
			for _, r := range srv.Requests() {
				assert.NotContains(t, errOut, r.Signature.PasswordDigest)
				assert.NotContains(t, errOut, r.Signature.Nonce)
			}
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		srv := voicetest.Start(t)
		url := srv.URL
		srv.Close()
		code, _, errOut := runMain(t, allFlags, sandboxEnv(url))
		assert.Equal(t, cli.ExitRejected, code, errOut)
		assert.Contains(t, errOut, "request not sent")
	})
	t.Run("20 calls, connections closed without notice", func(t *testing.T) {
		srv := voicetest.Start(t, voicetest.WithConnMode(voicetest.CloseSilently))
		for i := range 20 {
			code, out, errOut := runMain(t, allFlags, sandboxEnv(srv.URL))
			require.Equal(t, cli.ExitOK, code, "call %d: %s", i, errOut)
			assert.NotEmpty(t, out)
		}
		assert.Len(t, srv.Calls(), 20)
	})
}

func TestHelpExits0(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &out, &errOut)
	assert.Equal(t, cli.ExitOK, code)
	assert.Contains(t, errOut.String(), "usage: callverify")
	assert.Contains(t, errOut.String(), "VOICECALL_APP_SECRET")
}

// TestCredentialHints: a refusal of the credentials, the app or the clock
// is explained; other refusals are not.
func TestCredentialHints(t *testing.T) {
	t.Parallel()
	sandboxEnv := func(url, key, secret string) func(string) string {
		return func(k string) string {
			return map[string]string{"VOICECALL_BASE_URL": url, "VOICECALL_APP_KEY": key, "VOICECALL_APP_SECRET": secret}[k]
		}
	}
	skewed := func() time.Time { return time.Now().Add(-time.Hour) }
	tests := []struct {
		name        string
		opts        []voicetest.Option
		fault       *voicetest.Fault
		key, secret string
		hint        string
	}{
		{name: "wrong secret", key: voicetest.DefaultAppKey, secret: "wrong-secret",
			hint: "check that the app key and the app secret"},
		{name: "unknown key", key: "someOtherAppKey", secret: voicetest.DefaultAppSecret,
			hint: "does not know the app key"},
		{name: "clock skew", opts: []voicetest.Option{voicetest.WithClock(skewed)},
			key: voicetest.DefaultAppKey, secret: voicetest.DefaultAppSecret, hint: "synchronise this machine's clock"},
		{name: "app of another type", fault: ptr(voicetest.FailCode(voicecall.CodeInvalidAppKey)),
			key: voicetest.DefaultAppKey, secret: voicetest.DefaultAppSecret, hint: "an app of another type is refused"},
		{name: "IP not white-listed", fault: ptr(voicetest.FailCode(voicecall.CodeIPNotWhitelisted)),
			key: voicetest.DefaultAppKey, secret: voicetest.DefaultAppSecret, hint: "white list"},
		{name: "IP blocked", fault: ptr(voicetest.FailCode(voicecall.CodeIPBlocked)),
			key: voicetest.DefaultAppKey, secret: voicetest.DefaultAppSecret, hint: "blocked for 30 minutes"},
		{name: "flow control: no hint", fault: ptr(voicetest.FailCode(voicecall.CodeFlowControl)),
			key: voicetest.DefaultAppKey, secret: voicetest.DefaultAppSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := voicetest.Start(t, tt.opts...)
			if tt.fault != nil {
				require.NoError(t, srv.FailNext(1, *tt.fault))
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), allFlags, sandboxEnv(srv.URL, tt.key, tt.secret), &out, &errOut)
			assert.Equal(t, cli.ExitRejected, code, errOut.String())
			if tt.hint == "" {
				assert.NotContains(t, errOut.String(), "hint:")
				return
			}
			assert.Contains(t, errOut.String(), "hint: ")
			assert.Contains(t, errOut.String(), tt.hint)
			if tt.key != voicetest.DefaultAppKey || tt.secret != voicetest.DefaultAppSecret {
				assert.Contains(t, errOut.String(), "VOICECALL_APP_KEY", "says where the credentials come from")
			}
			assert.NotContains(t, errOut.String(), tt.secret, "the secret is never printed")
		})
	}
}

func ptr[T any](v T) *T { return &v }
