package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
)

const (
	appKey    = "exampleKey"
	appSecret = "exampleSecret-DoNotPrint"
)

// fakePlatform checks the signature with the documented formula and
// answers like the platform; it counts what it received.
func fakePlatform(t *testing.T) (*httptest.Server, *atomic.Int64, *[]map[string]any) {
	t.Helper()
	var n atomic.Int64
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", voicecall.ContentType)
		tok, err := voicecall.ParseToken(r.Header.Get("X-AKSK"))
		if err != nil || voicecall.Sign(appKey, appSecret, tok.Nonce, tok.Created).PasswordDigest != tok.PasswordDigest {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"resultcode":"1023006","resultdesc":"Authorization not contained in the HTTP header."}`)
			return
		}
		var m map[string]any
		body, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(body, &m))
		bodies = append(bodies, m)
		io.WriteString(w, `{"resultcode":"0","resultdesc":"Success","sessionId":"1200_366_0_20161228102743@callenabler.home1.com"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n, &bodies
}

func env(baseURL, secret string) func(string) string {
	return func(k string) string {
		return map[string]string{"VOICECALL_BASE_URL": baseURL, "VOICECALL_APP_KEY": appKey, "VOICECALL_APP_SECRET": secret}[k]
	}
}

var allFlags = []string{
	"-display", "+8675528000088", "-callee", "+8613500000001", "-code", "123456", "-pretone", "pre.wav",
	"-postone", "post.wav", "-times", "0", "-lang", "2", "-status-url", "https://example.com/status",
	"-fee-url", "https://example.com/fee", "-user-data", "order-42", "-idle-port", "-timeout", "5s",
}

func runMain(t *testing.T, args []string, getenv func(string) string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, getenv, &out, &errOut)
	for _, s := range []string{out.String(), errOut.String()} {
		assert.NotContains(t, s, appSecret)
		assert.NotContains(t, s, "PasswordDigest")
		assert.NotContains(t, s, "123456", "the verification code is never printed")
	}
	return code, out.String(), errOut.String()
}

func TestSuccessWithEveryField(t *testing.T) {
	srv, n, bodies := fakePlatform(t)
	code, out, _ := runMain(t, allFlags, env(srv.URL, appSecret))
	assert.Equal(t, exitOK, code)
	assert.Equal(t, "1200_366_0_20161228102743@callenabler.home1.com\n", out)
	assert.Equal(t, int64(1), n.Load())
	require.Len(t, *bodies, 1)
	b := (*bodies)[0]
	assert.Equal(t, float64(0), b["times"])
	assert.Equal(t, "aHR0cHM6Ly9leGFtcGxlLmNvbS9mZWU=", b["feeUrl"])
	assert.Equal(t, "post.wav", b["posTone"])
	assert.Equal(t, "true", b["returnIdlePort"])
}

func TestWrongSecretExits1(t *testing.T) {
	srv, n, _ := fakePlatform(t)
	code, out, errOut := runMain(t, allFlags, env(srv.URL, "wrong-secret"))
	assert.Equal(t, exitRejected, code)
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
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
	code, _, errOut := runMain(t, allFlags, env("", appSecret))
	assert.Equal(t, exitUsage, code)
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
	assert.Equal(t, exitUnknown, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "outcome unknown")
	assert.Contains(t, errOut, `"order-42"`)
	assert.Equal(t, int64(1), n.Load())
	assert.False(t, strings.Contains(errOut, "\r"))
}
