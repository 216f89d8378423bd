package voicecall

// The client fault matrix of reliability-and-performance.md §A6 (rows
// C1-C26). Every test counts what the server received: exactly one
// reception for a fault after the connection was obtained, at most one
// before it.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deadlineSlack is how late past its deadline a call may return. The
// fakes these tests use hold the call until the test ends, so any bound
// proves the deadline was honoured; this one is generous because the
// machine may be loaded and the race detector slows everything down.
const deadlineSlack = time.Second

func newTestClient(t *testing.T, baseURL string, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(baseURL, "k", "s", opts...)
	require.NoError(t, err)
	return c
}

// dialerClient returns an http.Client whose dialer is replaced by dial,
// for DNS and dial faults.
func dialerClient(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
}

func assertUnknownOnce(t *testing.T, err error, srv *rawServer) *RequestError {
	t.Helper()
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, OutcomeUnknown, OutcomeOf(err))
	assert.Equal(t, 1, reqErr.Attempts, "never retried after the connection was obtained")
	assert.Equal(t, "order-42", reqErr.UserData, "the correlation token comes with the error")
	assert.Contains(t, err.Error(), "outcome unknown")
	if srv != nil {
		assert.Equal(t, int64(1), srv.received.Load(), "exactly one reception")
	}
	return reqErr
}

func TestFaultDNS(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, okAnswer) })

	t.Run("C1 temporary failure then OK", func(t *testing.T) {
		var dials atomic.Int64
		var d net.Dialer
		c := newTestClient(t, srv.URL(), WithHTTPClient(dialerClient(func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) == 1 {
				return nil, &net.DNSError{Err: "server misbehaving", Name: "rtccall.example", IsTemporary: true}
			}
			return d.DialContext(ctx, network, addr)
		})))
		noSleep(c)
		_, err := c.CallVerify(context.Background(), validRequest())
		require.NoError(t, err)
		assert.Equal(t, int64(2), dials.Load())
		assert.Equal(t, int64(1), srv.received.Load())
	})
	t.Run("C2 NXDOMAIN is not retried", func(t *testing.T) {
		var dials atomic.Int64
		c := newTestClient(t, "https://rtccall.example", WithHTTPClient(dialerClient(func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return nil, &net.DNSError{Err: "no such host", Name: "rtccall.example", IsNotFound: true}
		})))
		noSleep(c)
		_, err := c.CallVerify(context.Background(), validRequest())
		var reqErr *RequestError
		require.ErrorAs(t, err, &reqErr)
		assert.Equal(t, OutcomeRejected, reqErr.Outcome)
		assert.Equal(t, int64(1), dials.Load())
		var dnsErr *net.DNSError
		assert.ErrorAs(t, err, &dnsErr)
	})
}

func TestFaultDialBlackhole(t *testing.T) { // C4
	t.Parallel()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	c := newTestClient(t, "http://127.0.0.1:9", WithHTTPClient(dialerClient(func(ctx context.Context, _, _ string) (net.Conn, error) {
		// The transport may keep dialing after the request gave up (to
		// pool the connection), so the blackhole also ends with the test.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-stop:
			return nil, errors.New("test over")
		}
	})))
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	dl, _ := ctx.Deadline()
	_, err := c.CallVerify(ctx, validRequest())
	assert.WithinDuration(t, dl, time.Now(), deadlineSlack)
	assert.Equal(t, OutcomeRejected, OutcomeOf(err), "never connected: nothing was sent")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestFaultTLSHandshakeStall(t *testing.T) { // C5
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var accepted atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // accepts TCP and never answers the ClientHello
		defer wg.Done()
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns = append(conns, conn)
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	c := newTestClient(t, "https://"+ln.Addr().String())
	c.hc.Transport.(*http.Transport).TLSHandshakeTimeout = 30 * time.Millisecond
	noSleep(c)
	_, err = c.CallVerify(context.Background(), validRequest())
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, OutcomeRejected, reqErr.Outcome, "no HTTP byte was written")
	assert.Equal(t, 3, reqErr.Attempts, "handshake timeouts are retried")
	assert.Equal(t, int64(3), accepted.Load())
	assert.Contains(t, err.Error(), "handshake")
}

func TestFaultUntrustedCertificate(t *testing.T) { // C6
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { n.Add(1) }))
	t.Cleanup(srv.Close)
	srv.Config.ErrorLog = discardLogger()
	c := newTestClient(t, srv.URL)
	noSleep(c)
	_, err := c.CallVerify(context.Background(), validRequest())
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, OutcomeRejected, reqErr.Outcome)
	assert.Equal(t, 1, reqErr.Attempts, "certificate errors are never retried")
	assert.Zero(t, n.Load())
	assert.True(t, isCertificateError(err), err.Error())

	// Trusting the test CA makes the same server work.
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	c = newTestClient(t, srv.URL, WithTLSConfig(&tls.Config{RootCAs: pool}))
	_, err = c.CallVerify(context.Background(), validRequest())
	assert.ErrorIs(t, err, ErrOutcomeUnknown, "an empty answer after sending is unknown")
	assert.Equal(t, int64(1), n.Load())
}

func TestFaultsAfterSending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		h        rawHandler
		contains string
		status   int
	}{
		{"C7 read then reset", func(conn net.Conn, _ *http.Request, _ []byte) {
			_ = conn.(*net.TCPConn).SetLinger(0)
		}, "", 0},
		{"C8 processed, answer lost", func(net.Conn, *http.Request, []byte) {}, "EOF", 0},
		{"C9 reset mid-answer", func(conn net.Conn, _ *http.Request, _ []byte) {
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"resultcode\":\"0\",")
			_ = conn.(*net.TCPConn).SetLinger(0)
		}, "reading the answer", 200},
		{"C10 truncated JSON", func(conn net.Conn, _ *http.Request, _ []byte) {
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 120\r\n\r\n"+okAnswer[:40])
		}, "unexpected EOF", 200},
		{"C13 502 HTML", func(conn net.Conn, _ *http.Request, _ []byte) {
			page := "<html><head><title>502 Bad Gateway</title></head><body>" + strings.Repeat("nginx ", 200) + "</body></html>"
			fmt.Fprintf(conn, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(page), page)
		}, "http 502 text/html", 502},
		{"C14 200 HTML", func(conn net.Conn, _ *http.Request, _ []byte) {
			fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>")
		}, "HTML page", 200},
		{"C16 empty object", func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, `{}`) }, "no resultcode", 200},
		{"C16 no sessionId", func(conn net.Conn, _ *http.Request, _ []byte) {
			writeJSON(conn, 200, `{"resultcode":"0","resultdesc":"Success"}`)
		}, "no sessionId", 200},
		{"C16 numeric resultcode", func(conn net.Conn, _ *http.Request, _ []byte) {
			writeJSON(conn, 200, `{"resultcode":0,"sessionId":"x"}`)
		}, "not a platform answer", 200},
		{"C26 invalid UTF-8 and CR-LF", func(conn net.Conn, _ *http.Request, _ []byte) {
			writeJSON(conn, 500, "{\"resultcode\":\"1010001\",\"resultdesc\":\"bad\xff\\r\\nFORGED\"}")
		}, "bad\ufffd  FORGED", 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newRawServer(t, tt.h)
			c := newTestClient(t, srv.URL())
			noSleep(c)
			_, err := c.CallVerify(context.Background(), validRequest())
			reqErr := assertUnknownOnce(t, err, srv)
			assert.Equal(t, tt.status, reqErr.HTTPStatus)
			assert.Contains(t, err.Error(), tt.contains)
			assert.LessOrEqual(t, len(reqErr.Body), 512+len("…"))
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestFaultSlowAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    func(release <-chan struct{}) rawHandler
	}{
		{"C11 slow headers", func(release <-chan struct{}) rawHandler {
			return func(net.Conn, *http.Request, []byte) { <-release }
		}},
		{"C12 slow body trickle", func(release <-chan struct{}) rawHandler {
			return func(conn net.Conn, _ *http.Request, _ []byte) {
				io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-release:
						return
					case <-tick.C:
						if _, err := io.WriteString(conn, " "); err != nil {
							return
						}
					}
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			srv := newRawServer(t, tt.h(release))
			t.Cleanup(func() { close(release) })
			c := newTestClient(t, srv.URL())
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			dl, _ := ctx.Deadline()
			_, err := c.CallVerify(ctx, validRequest())
			assert.WithinDuration(t, dl, time.Now(), deadlineSlack, "deadline honoured")
			assertUnknownOnce(t, err, srv)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		})
	}
}

func TestFaultHugeAnswer(t *testing.T) { // C17
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n")
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for range 1600 { // 100 MiB, or until the client hangs up
			if _, err := conn.Write(chunk); err != nil {
				return
			}
		}
	})
	c := newTestClient(t, srv.URL())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := c.CallVerify(context.Background(), validRequest())
	runtime.ReadMemStats(&after)
	assertUnknownOnce(t, err, srv)
	assert.Contains(t, err.Error(), "answer larger than")
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "the read is bounded")
}

func TestFaultThrottled(t *testing.T) { // C18 and the opt-in retry of limit codes
	t.Parallel()
	throttle := func(n int64) rawHandler {
		var calls atomic.Int64
		return func(conn net.Conn, _ *http.Request, _ []byte) {
			if calls.Add(1) <= n {
				writeJSON(conn, 200, `{"resultcode":"1010010","resultdesc":"The flow control upper limit is reached on the platform."}`)
				return
			}
			writeJSON(conn, 200, okAnswer)
		}
	}
	t.Run("default: rejected, not retried", func(t *testing.T) {
		t.Parallel()
		srv := newRawServer(t, throttle(1))
		c := newTestClient(t, srv.URL())
		_, err := c.CallVerify(context.Background(), validRequest())
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.True(t, apiErr.IsThrottled())
		assert.Equal(t, int64(1), srv.received.Load())
	})
	t.Run("opt-in: retried with a fresh signature", func(t *testing.T) {
		t.Parallel()
		srv := newRawServer(t, throttle(2))
		c := newTestClient(t, srv.URL(), WithRetry(RetryPolicy{Throttled: true}))
		waits := noSleep(c)
		_, err := c.CallVerify(context.Background(), validRequest())
		require.NoError(t, err)
		assert.Equal(t, int64(3), srv.received.Load())
		assert.Len(t, *waits, 2)
	})
	t.Run("opt-in: bounded attempts", func(t *testing.T) {
		t.Parallel()
		srv := newRawServer(t, throttle(100))
		c := newTestClient(t, srv.URL(), WithRetry(RetryPolicy{Throttled: true, MaxAttempts: 2}))
		noSleep(c)
		_, err := c.CallVerify(context.Background(), validRequest())
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, CodeFlowControl, apiErr.Code)
		assert.Equal(t, int64(2), srv.received.Load())
	})
	t.Run("bare 429 is a rejection", func(t *testing.T) {
		t.Parallel()
		srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
			io.WriteString(conn, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 86400\r\nContent-Length: 0\r\n\r\n")
		})
		c := newTestClient(t, srv.URL(), WithRetry(RetryPolicy{Throttled: true}))
		waits := noSleep(c)
		_, err := c.CallVerify(context.Background(), validRequest())
		assert.Equal(t, OutcomeRejected, OutcomeOf(err))
		assert.Equal(t, int64(3), srv.received.Load())
		for _, w := range *waits {
			assert.Less(t, w, time.Second, "Retry-After is not obeyed past the backoff budget")
		}
	})
}

func TestFaultCloseWithoutNotice(t *testing.T) { // C19
	t.Parallel()
	n := 5000
	if testing.Short() {
		n = 200
	}
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, okAnswer) })
	c := newTestClient(t, srv.URL())
	failures := 0
	for range n {
		if _, err := c.CallVerify(context.Background(), validRequest()); err != nil {
			failures++
		}
	}
	assert.Zero(t, failures)
	assert.Equal(t, int64(n), srv.received.Load())
}

func TestFaultCancel(t *testing.T) { // C23
	t.Parallel()
	t.Run("after sending: unknown", func(t *testing.T) {
		t.Parallel()
		received := make(chan struct{})
		release := make(chan struct{})
		srv := newRawServer(t, func(net.Conn, *http.Request, []byte) { close(received); <-release })
		t.Cleanup(func() { close(release) })
		c := newTestClient(t, srv.URL())
		ctx, cancel := context.WithCancel(context.Background())
		var cancelled time.Time
		go func() { <-received; cancelled = time.Now(); cancel() }()
		_, err := c.CallVerify(ctx, validRequest())
		assert.WithinDuration(t, cancelled, time.Now(), deadlineSlack)
		assertUnknownOnce(t, err, srv)
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("before connecting: rejected", func(t *testing.T) {
		t.Parallel()
		srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, okAnswer) })
		c := newTestClient(t, srv.URL())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.CallVerify(ctx, validRequest())
		assert.Equal(t, OutcomeRejected, OutcomeOf(err))
		assert.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, srv.received.Load())
	})
}

func TestRetryNeverPastDeadline(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := newTestClient(t, "http://"+addr, WithRetry(RetryPolicy{BaseDelay: 10 * time.Second, MaxBackoff: time.Minute}))
	c.jit = func(n int64) int64 { return n - 1 } // always the longest wait
	waits := noSleep(c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.CallVerify(ctx, validRequest())
	assert.Empty(t, *waits, "a wait that would pass the deadline is not started")
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, 1, reqErr.Attempts)
}

func TestNoIdempotencyKeyHeader(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, req *http.Request, _ []byte) {
		assert.Empty(t, req.Header.Values("Idempotency-Key"))
		assert.Empty(t, req.Header.Values("X-Idempotency-Key"))
		writeJSON(conn, 200, okAnswer)
	})
	_, err := newTestClient(t, srv.URL()).CallVerify(context.Background(), validRequest())
	require.NoError(t, err)
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
