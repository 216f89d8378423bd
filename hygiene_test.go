package voicecall

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes by slog.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSecretHygiene drives every failure path with a debug-level logger
// and checks that no log record and no error string contains the app
// secret, a digest, a nonce, the X-AKSK value or the verification code,
// and that phone numbers appear only masked (SEC-1).
func TestSecretHygiene(t *testing.T) {
	t.Parallel()
	const (
		secret  = "hygiene-S3CRET-b9f2"
		code    = "739184"
		callee  = "+8613512345678"
		display = "+8675528999911"
	)
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	handlers := map[string]rawHandler{
		"success": func(c net.Conn, _ *http.Request, _ []byte) { writeJSON(c, 200, okAnswer) },
		"rejected": func(c net.Conn, _ *http.Request, _ []byte) {
			writeJSON(c, 400, `{"resultcode":"1023006","resultdesc":"x"}`)
		},
		"throttled": func(c net.Conn, _ *http.Request, _ []byte) {
			writeJSON(c, 200, `{"resultcode":"1010010","resultdesc":"flow control"}`)
		},
		"lost":  func(net.Conn, *http.Request, []byte) {},
		"reset": func(c net.Conn, _ *http.Request, _ []byte) { _ = c.(*net.TCPConn).SetLinger(0) },
		"html": func(c net.Conn, _ *http.Request, _ []byte) {
			io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 6\r\n\r\n<html>")
		},
		"truncated": func(c net.Conn, _ *http.Request, _ []byte) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"resu")
		},
		"garbage": func(c net.Conn, _ *http.Request, _ []byte) { writeJSON(c, 200, `{"resultcode":"0"}`) },
		"redirect": func(c net.Conn, _ *http.Request, _ []byte) {
			io.WriteString(c, "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n")
		},
	}
	var errs []string
	var sent []string // X-AKSK values the servers received
	req := func() *CallVerifyRequest {
		r := validRequest()
		r.VerifyCode, r.CalleeNumber, r.DisplayNumber = code, callee, display
		return r
	}
	for name, h := range handlers {
		srv := newRawServer(t, h)
		c, err := NewClient(srv.URL(), "hygieneKey", secret, WithLogger(logger), WithRetry(RetryPolicy{Throttled: true}))
		require.NoError(t, err, name)
		noSleep(c)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = c.CallVerify(ctx, req())
		cancel()
		if err != nil {
			errs = append(errs, err.Error())
		}
		for _, r := range srv.Seen() {
			sent = append(sent, r.Header.Get(HeaderXAKSK))
		}
	}
	// Never sent: invalid input, nothing listening, wrong key and secret.
	c, err := NewClient("http://127.0.0.1:1", "hygieneKey", secret, WithLogger(logger))
	require.NoError(t, err)
	noSleep(c)
	bad := req()
	bad.Times = PlayTimes(99)
	bad.CalleeNumber = callee + "x"
	for _, r := range []*CallVerifyRequest{req(), bad} {
		_, err = c.CallVerify(context.Background(), r)
		require.Error(t, err)
		errs = append(errs, err.Error())
	}
	_, err = NewClient("http://example.com", "", secret)
	errs = append(errs, err.Error())
	// And printing the client and the request.
	logger.Debug("objects", "client", c, "request", req(), "token", Sign("k", secret, "n0nce", "c"))

	out := logs.String() + "\n" + strings.Join(errs, "\n")
	require.Contains(t, out, "outcome unknown", "the failure paths were driven")
	require.Contains(t, out, `"level":"DEBUG"`, "debug records were written")
	forbidden := []string{secret, code, callee, display, callee[1:], display[1:]}
	require.NotEmpty(t, sent)
	for _, v := range sent {
		tok, err := ParseToken(v)
		require.NoError(t, err)
		forbidden = append(forbidden, v, tok.PasswordDigest, tok.Nonce)
	}
	for _, f := range forbidden {
		assert.NotContains(t, out, f)
	}
	assert.Contains(t, out, "**********5678", "numbers are masked to their last four digits")
}
