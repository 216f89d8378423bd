package voicecall

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawServer is a loopback TCP server that reads one HTTP request per
// connection and lets the test decide, byte by byte, what to answer. It
// counts the requests it received in full.
type rawServer struct {
	ln       net.Listener
	received atomic.Int64
	wg       sync.WaitGroup

	mu   sync.Mutex
	last []byte        // raw bytes of the last request
	seen []seenRequest // every request received in full, in order
}

// seenRequest is what a rawServer keeps of one request.
type seenRequest struct {
	Header http.Header
	Body   []byte
}

// rawHandler answers one request. It owns conn and must close it (the
// server closes it after the handler returns too).
type rawHandler func(conn net.Conn, req *http.Request, body []byte)

func newRawServer(t *testing.T, h rawHandler) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &rawServer{ln: ln}
	acceptAll(ln, &s.wg, func(conn net.Conn) { s.serve(conn, h) })
	t.Cleanup(s.Close)
	return s
}

func (s *rawServer) serve(conn net.Conn, h rawHandler) {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var raw bytes.Buffer
	br := bufio.NewReader(io.TeeReader(conn, &raw))
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	s.received.Add(1)
	s.mu.Lock()
	s.last = append([]byte(nil), raw.Bytes()...)
	s.seen = append(s.seen, seenRequest{Header: req.Header, Body: body})
	s.mu.Unlock()
	h(conn, req, body)
}

func (s *rawServer) URL() string { return "http://" + s.ln.Addr().String() }

func (s *rawServer) Last() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Seen returns the requests received in full so far. Tests read what
// the server goroutines recorded through this lock, not through
// variables of their own: the race detector does not see the ordering a
// TCP exchange gives (a handler may close without writing).
func (s *rawServer) Seen() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.seen...)
}

// acceptAll serves every connection ln accepts, each in a goroutine of
// its own that closes it afterwards, until ln is closed; wg counts the
// goroutines, so that waiting on it after closing ln waits for them all.
func acceptAll(ln net.Listener, wg *sync.WaitGroup, serve func(net.Conn)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				serve(conn)
			}()
		}
	}()
}

func (s *rawServer) Close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

// writeJSON writes a complete HTTP/1.1 answer with a JSON body and no
// "Connection: close", as the platform does before closing its side.
func writeJSON(conn net.Conn, status int, body string) {
	_, _ = fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
}

const okAnswer = `{"resultcode":"0","resultdesc":"Success","sessionId":"1200_366_0_20161228102743@callenabler.home1.com"}`

// validRequest returns a request that passes validation.
func validRequest() *CallVerifyRequest {
	return &CallVerifyRequest{
		DisplayNumber: "+8675528000088",
		CalleeNumber:  "+8613500000001",
		LanguageType:  LanguageChinese,
		PreTone:       "pretone.wav",
		VerifyCode:    "123456",
		UserData:      "order-42",
	}
}

// fixedClock returns a Client option-free way to pin the signing time.
func pinClock(c *Client, ts time.Time) { c.now = func() time.Time { return ts } }

// noSleep makes retries immediate and records the waits.
func noSleep(c *Client) *[]time.Duration {
	var waits []time.Duration
	var mu sync.Mutex
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	return &waits
}

var errBoom = errors.New("boom")

// logSink collects slog output; safe for concurrent use.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *logSink) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// invalidFields returns, in order, the fields that err, a
// *ValidationError of op, names.
func invalidFields(t *testing.T, err error, op string) []string {
	t.Helper()
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, op, verr.Op)
	var fields []string
	for _, f := range verr.Fields {
		fields = append(fields, f.Field)
	}
	return fields
}
