package voicecall

// The request path's tests: classification of every kind of answer, and
// the client fault matrix (rows C1-C34 of docs/RELIABILITY.md). Every test counts what the server received: exactly one
// reception for a fault after the connection was obtained, at most one
// before it.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/aksk"
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

// TestFaultPlainHTTPOnHTTPS (C33): an https base URL pointing at a
// plain HTTP server is rejected after one attempt: no retry fixes it.
func TestFaultPlainHTTPOnHTTPS(t *testing.T) {
	t.Parallel()
	var conns, handled atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { handled.Add(1) }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newTestClient(t, strings.Replace(srv.URL, "http://", "https://", 1))
	noSleep(c)
	_, err := c.CallVerify(context.Background(), validRequest())
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, OutcomeRejected, reqErr.Outcome, "%v", err)
	assert.Equal(t, 1, reqErr.Attempts, "never retried")
	assert.ErrorIs(t, err, http.ErrSchemeMismatch)
	assert.Equal(t, "tls", errorClass(err))
	assert.Equal(t, int64(1), conns.Load(), "one connection")
	assert.Zero(t, handled.Load())
}

// TestFaultClientCertificateRequired (C34): a TLS 1.3 server that
// requires a client certificate refuses the handshake after the client
// has written its request (its side of the handshake is over); the
// server never read the request, so the outcome is rejected, and no
// retry fixes it.
func TestFaultClientCertificateRequired(t *testing.T) {
	t.Parallel()
	var conns, handled atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { handled.Add(1) }))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS13}
	srv.Config.ErrorLog = discardLogger()
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	for _, name := range []string{"CallVerify", "RecordingURL"} {
		t.Run(name, func(t *testing.T) {
			before := conns.Load()
			c := newTestClient(t, srv.URL, WithTLSConfig(&tls.Config{RootCAs: pool}))
			noSleep(c)
			var err error
			if name == "CallVerify" {
				_, err = c.CallVerify(context.Background(), validRequest())
			} else {
				_, err = c.RecordingURL(context.Background(), &RecordingRequest{FileName: "a.wav", RecordDomain: "d"})
			}
			var reqErr *RequestError
			require.ErrorAs(t, err, &reqErr)
			assert.Equal(t, OutcomeRejected, reqErr.Outcome, "%v", err)
			assert.Equal(t, 1, reqErr.Attempts, "never retried, even by an idempotent operation")
			assert.Contains(t, err.Error(), "certificate required")
			assert.Equal(t, "tls", errorClass(err))
			assert.Equal(t, int64(1), conns.Load()-before, "one connection")
		})
	}
	assert.Zero(t, handled.Load())
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
	// The default transport, with the answer's body counted: what this
	// call reads, whatever other tests do meanwhile.
	var body *countingBody
	tr := NewTransport(nil)
	hc := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := tr.RoundTrip(req)
		if err == nil {
			body = &countingBody{ReadCloser: resp.Body}
			resp.Body = body
		}
		return resp, err
	})}
	c := newTestClient(t, srv.URL(), WithHTTPClient(hc))
	_, err := c.CallVerify(context.Background(), validRequest())
	assertUnknownOnce(t, err, srv)
	assert.Contains(t, err.Error(), "answer larger than")
	require.NotNil(t, body)
	assert.Equal(t, int64(maxResponseBytes+1), body.n, "the read stops one byte past the bound")
	assert.Less(t, body.maxBuf, 4*maxResponseBytes, "the read buffer stays near the bound")
	assert.True(t, body.closed, "the body is closed, which drops the connection")
}

// countingBody counts the bytes read from an answer's body and the
// largest buffer a Read was given. Used by one goroutine at a time.
type countingBody struct {
	io.ReadCloser
	n      int64
	maxBuf int
	closed bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	b.maxBuf = max(b.maxBuf, len(p))
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *countingBody) Close() error {
	b.closed = true
	return b.ReadCloser.Close()
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

func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	var other atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.Add(1)
	}))
	t.Cleanup(elsewhere.Close)
	for _, code := range []int{301, 302, 307, 308} {
		srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
			fmt.Fprintf(conn, "HTTP/1.1 %d Moved\r\nLocation: %s/steal\r\nContent-Length: 0\r\n\r\n", code, elsewhere.URL)
		})
		c, err := NewClient(srv.URL(), "k", "s")
		require.NoError(t, err)
		_, err = c.CallVerify(context.Background(), validRequest())
		var reqErr *RequestError
		require.ErrorAs(t, err, &reqErr)
		assert.Equal(t, code, reqErr.HTTPStatus)
		assert.Equal(t, OutcomeRejected, OutcomeOf(err))
		assert.Contains(t, err.Error(), "redirect not followed")
		assert.Equal(t, int64(1), srv.received.Load())
	}
	assert.Zero(t, other.Load(), "X-AKSK never reaches another host")
}

func TestClassify(t *testing.T) {
	t.Parallel()
	const js = "application/json;charset=UTF-8"
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		outcome     Outcome
		code        ResultCode // for APIError (possibly wrapped)
		contains    string
	}{
		{"success", 200, js, okAnswer, OutcomeAccepted, "", ""},
		{"success without content type", 200, "", okAnswer, OutcomeAccepted, "", ""},
		{"success with idle port", 200, js, `{"resultcode":"0","resultdesc":"Success","sessionId":"s","idlePort":0}`, OutcomeAccepted, "", ""},
		{"code on 200", 200, js, `{"resultcode":"1010002","resultdesc":"Invalid request. calleeNbr"}`, OutcomeRejected, CodeInvalidRequest, "Invalid request. calleeNbr"},
		{"code on 403", 403, js, `{"resultcode":"1010002","resultdesc":"Invalid request."}`, OutcomeRejected, CodeInvalidRequest, "http 403"},
		{"code on 400", 400, js, `{"resultcode":"1023006","resultdesc":"x"}`, OutcomeRejected, CodeAuthFailed, ""},
		{"unknown code", 200, js, `{"resultcode":"1099999","resultdesc":"new"}`, OutcomeRejected, "1099999", "1099999 (new)"},
		{"invalid rest api", 404, js, `{"resultcode":"1010006","resultdesc":"Invalid Rest API."}`, OutcomeRejected, CodeInvalidRestAPI, ""},
		{"code on 500", 500, js, `{"resultcode":"1010001","resultdesc":"Internal system error."}`, OutcomeUnknown, CodeSystemError, "outcome unknown"},
		{"502 html", 502, "text/html", "<html><body>502 Bad Gateway</body></html>", OutcomeUnknown, "", "http 502 text/html"},
		{"503 empty", 503, "", "", OutcomeUnknown, "", "http 503"},
		{"200 html", 200, "text/html; charset=utf-8", "<html>portal</html>", OutcomeUnknown, "", "HTML page"},
		{"200 html looking like json", 200, "text/html", okAnswer, OutcomeUnknown, "", "HTML page"},
		{"200 empty object", 200, js, `{}`, OutcomeUnknown, "", "no resultcode"},
		{"200 empty body", 200, js, ``, OutcomeUnknown, "", "not a platform answer"},
		{"truncated", 200, js, `{"resultcode":"0","resultdesc":"Succ`, OutcomeUnknown, "", "not a platform answer"},
		{"trailing garbage", 200, js, okAnswer + `{}`, OutcomeUnknown, "", "not a platform answer"},
		{"numeric resultcode", 200, js, `{"resultcode":0,"sessionId":"s"}`, OutcomeUnknown, "", "not a platform answer"},
		{"success without session", 200, js, `{"resultcode":"0","resultdesc":"Success"}`, OutcomeUnknown, "", "no sessionId"},
		{"success with empty session", 200, js, `{"resultcode":"0","resultdesc":"Success","sessionId":""}`, OutcomeUnknown, "", "no sessionId"},
		{"success on 202", 202, js, okAnswer, OutcomeAccepted, "", ""},
		{"success on 400", 400, js, okAnswer, OutcomeUnknown, "", "resultcode 0 with http status 400"},
		{"array", 200, js, `[]`, OutcomeUnknown, "", "not a platform answer"},
		{"control chars in desc", 200, js, `{"resultcode":"1010002","resultdesc":"bad\r\nINFO forged line"}`, OutcomeRejected, CodeInvalidRequest, "bad  INFO forged line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ans, err := classifyCallVerify(tt.status, tt.contentType, []byte(tt.body))
			assert.Equal(t, tt.outcome, OutcomeOf(err), "error: %v", err)
			if tt.outcome == OutcomeAccepted {
				require.NoError(t, err)
				assert.NotEmpty(t, ans.SessionID)
				return
			}
			assert.Equal(t, "tok", UserDataOf(err))
			assert.NotContains(t, err.Error(), "\n")
			assert.NotContains(t, err.Error(), "\r")
			if tt.contains != "" {
				assert.Contains(t, err.Error(), tt.contains)
			}
			var apiErr *APIError
			if tt.code != "" {
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tt.code, apiErr.Code)
			} else {
				assert.False(t, errors.As(err, &apiErr))
			}
			if tt.outcome == OutcomeUnknown {
				assert.ErrorIs(t, err, ErrOutcomeUnknown)
				assert.Contains(t, err.Error(), "outcome unknown, the request may have reached the platform")
			}
		})
	}
}

func TestIsHTML(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]bool{
		"text/html": true, "TEXT/HTML; charset=utf-8": true, " text/html ;x=y": true,
		"text/htmlx": false, "application/json": false, "": false, "text/plain": false, "text/htm": false,
	} {
		assert.Equal(t, want, isHTML(ct), ct)
	}
}

// FuzzClassify: an answer is never accepted unless it says resultcode
// "0" with a non-empty session id and a 2xx status, and a rejection is
// never reported for a 5xx.
func FuzzClassify(f *testing.F) {
	f.Add(200, "application/json;charset=UTF-8", []byte(okAnswer))
	f.Add(200, "application/json", []byte(`{"resultcode":"0","resultdesc":"Success","sessionId":""}`))
	f.Add(400, "application/json", []byte(`{"resultcode":"1023006","resultdesc":"x"}`))
	f.Add(500, "application/json", []byte(`{"resultcode":"1010001"}`))
	f.Add(502, "text/html", []byte(`<html>bad gateway</html>`))
	f.Add(200, "", []byte(`{"resultcode":0,"sessionId":"x"}`))
	f.Add(429, "", []byte(``))
	f.Add(307, "", []byte(``))
	f.Add(200, "application/json", []byte(`{"resultcode":"0","sessionId":"s","resultcode":"1"}`))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		ans, err := classifyCallVerify(status, contentType, body)
		switch OutcomeOf(err) {
		case OutcomeAccepted:
			var w struct {
				ResultCode string `json:"resultcode"`
				SessionID  string `json:"sessionId"`
			}
			if json.Unmarshal(body, &w) != nil || w.ResultCode != "0" || w.SessionID == "" || ans.SessionID != w.SessionID {
				t.Fatalf("accepted %d %q %q", status, contentType, body)
			}
			if status < 200 || status > 299 {
				t.Fatalf("accepted status %d", status)
			}
		case OutcomeRejected:
			if status >= 500 {
				t.Fatalf("rejected (certain) on status %d: %v", status, err)
			}
		}
		if err != nil && UserDataOf(err) != "tok" {
			t.Fatalf("error lost the correlation token: %v", err)
		}
	})
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
	var logs logSink
	logger := logs.logger()

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
		// A misbehaving proxy that echoes the request back, in the
		// resultdesc and the body, as JSON, as HTML and as plain text.
		"echo rejected": func(c net.Conn, r *http.Request, body []byte) {
			desc, _ := json.Marshal(fmt.Sprint(r.Header) + string(body))
			writeJSON(c, 400, `{"resultcode":"1010002","resultdesc":`+string(desc)+`,"echo":`+string(body)+`}`)
		},
		"echo 500": func(c net.Conn, r *http.Request, body []byte) {
			desc, _ := json.Marshal(fmt.Sprint(r.Header) + string(body))
			writeJSON(c, 500, `{"resultcode":"1010001","resultdesc":`+string(desc)+`}`)
		},
		"echo html": func(c net.Conn, r *http.Request, body []byte) {
			page := fmt.Sprintf("<html>%v %s %s</html>", r.Header, body, url.QueryEscape(string(body)))
			fmt.Fprintf(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(page), page)
		},
		// The same echo transformed: the callee in national format, the
		// code's digits spaced or dashed, the digest, nonce and secret
		// percent-, HTML- or JSON-escaped.
		"echo transformed": func(c net.Conn, r *http.Request, body []byte) {
			writeJSON(c, 400, `{"resultcode":"1010002","resultdesc":`+jsonString(transformedEcho(r, body, secret))+`}`)
		},
		"echo transformed html": func(c net.Conn, r *http.Request, body []byte) {
			page := "<html>" + transformedEcho(r, body, secret) + "</html>"
			fmt.Fprintf(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(page), page)
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
			sent = append(sent, r.Header.Get(aksk.Header))
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
	logger.Debug("objects", "client", c, "request", req(), "token", aksk.Sign("k", secret, "n0nce", "c"))

	out := logs.String() + "\n" + strings.Join(errs, "\n")
	require.Contains(t, out, "outcome unknown", "the failure paths were driven")
	require.Contains(t, out, `"level":"DEBUG"`, "debug records were written")
	forbidden := []string{secret, code, callee, display, callee[1:], display[1:], callee[3:], display[3:],
		spaced(code, " "), spaced(code, "-"), url.QueryEscape(secret), htmlEscapeAll(secret)}
	require.NotEmpty(t, sent)
	for _, v := range sent {
		tok, err := aksk.Parse(v)
		require.NoError(t, err)
		forbidden = append(forbidden, v, tok.PasswordDigest, tok.Nonce, url.QueryEscape(tok.PasswordDigest), htmlEscapeAll(tok.PasswordDigest))
	}
	for _, f := range forbidden {
		assert.NotContains(t, out, f)
	}
	assert.Contains(t, out, "**********5678", "numbers are masked to their last four digits")
	assert.Contains(t, out, "national [redacted]", "the transformed echo was driven")
}

// transformedEcho is what a proxy might echo of r in forms other than
// the values as sent (see TestSecretHygiene).
func transformedEcho(r *http.Request, reqBody []byte, secret string) string {
	tok, _ := aksk.Parse(r.Header.Get(aksk.Header))
	var body struct {
		CalleeNbr  string `json:"calleeNbr"`
		VerifyCode string `json:"verifyCode"`
	}
	_ = json.Unmarshal(reqBody, &body)
	return strings.Join([]string{
		"national " + strings.TrimPrefix(body.CalleeNbr, "+86"),
		"spaced " + spaced(strings.TrimPrefix(body.CalleeNbr, "+86"), " "),
		"code " + spaced(body.VerifyCode, " ") + " / " + spaced(body.VerifyCode, "-"),
		"digest " + url.QueryEscape(tok.PasswordDigest) + " " + htmlEscapeAll(tok.PasswordDigest),
		"nonce " + url.QueryEscape(tok.Nonce) + " " + htmlEscapeAll(tok.Nonce),
		"secret " + url.QueryEscape(secret) + " " + htmlEscapeAll(secret),
	}, "; ")
}

// spaced returns s's characters joined by sep.
func spaced(s, sep string) string { return strings.Join(strings.Split(s, ""), sep) }

// htmlEscapeAll writes every character that is not a letter or a digit
// as an HTML numeric reference, as some escapers do.
func htmlEscapeAll(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "&#%d;", r)
		}
	}
	return b.String()
}

// jsonString is s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// classifyCallVerify classifies an answer as CallVerify's request path
// does.
func classifyCallVerify(status int, contentType string, body []byte) (*CallResponse, error) {
	cl := &callState{ep: &callVerify, userData: "tok", scrub: scrubber{secret: "myAppSecret"}}
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	var resp CallResponse
	_, err := classify(cl, status, h, body, &resp)
	return &resp, err
}

// h2ResetServer is a minimal HTTP/2 server over TLS that answers every
// request stream with RST_STREAM(PROTOCOL_ERROR) once the request's body
// has arrived: the fault after which Go's HTTP/2 transport sends again a
// request it can rewind (Request.GetBody). It speaks just enough of
// RFC 9113 for that and counts the requests it received in full.
type h2ResetServer struct {
	ln       net.Listener
	pool     *x509.CertPool
	received atomic.Int64
	wg       sync.WaitGroup
}

func newH2ResetServer(t *testing.T) *h2ResetServer {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.EnableHTTP2 = true
	ts.StartTLS() // only for its certificate
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	cfg := ts.TLS.Clone()
	ts.Close()
	cfg.NextProtos = []string{"h2"}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	s := &h2ResetServer{ln: ln, pool: pool}
	acceptAll(ln, &s.wg, s.serve)
	t.Cleanup(func() { _ = ln.Close(); s.wg.Wait() })
	return s
}

func (s *h2ResetServer) URL() string { return "https://" + s.ln.Addr().String() }

// client is an HTTP/2 client as a caller would build one.
func (s *h2ResetServer) client() *http.Client {
	return &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: s.pool}}}
}

func (s *h2ResetServer) serve(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	preface := make([]byte, len("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	if _, err := io.ReadFull(conn, preface); err != nil {
		return
	}
	writeFrame := func(typ, flags byte, stream uint32, payload []byte) {
		h := []byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload)), typ, flags,
			byte(stream >> 24), byte(stream >> 16), byte(stream >> 8), byte(stream)}
		_, _ = conn.Write(append(h, payload...))
	}
	writeFrame(0x4, 0, 0, nil) // SETTINGS
	const (
		frameData, frameHeaders, frameSettings = 0x0, 0x1, 0x4
		flagEndStream, flagAck                 = 0x1, 0x1
		errProtocol                            = 0x1
	)
	for {
		var h [9]byte
		if _, err := io.ReadFull(conn, h[:]); err != nil {
			return
		}
		n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
		if _, err := io.CopyN(io.Discard, conn, int64(n)); err != nil {
			return
		}
		typ, flags := h[3], h[4]
		stream := (uint32(h[5])<<24 | uint32(h[6])<<16 | uint32(h[7])<<8 | uint32(h[8])) & 0x7fffffff
		switch {
		case typ == frameSettings && flags&flagAck == 0:
			writeFrame(frameSettings, flagAck, 0, nil)
		case (typ == frameData || typ == frameHeaders) && flags&flagEndStream != 0:
			s.received.Add(1)
			writeFrame(0x3, 0, stream, []byte{0, 0, 0, errProtocol}) // RST_STREAM(PROTOCOL_ERROR)
		}
	}
}

// TestFaultHTTP2StreamReset: with a caller-supplied HTTP/2 client whose
// server resets every stream with PROTOCOL_ERROR, a CallVerify reaches
// the server exactly once and ends unknown. The control shows the fault
// is real: a hand-built request that can be rewound is sent again and
// again by Go's HTTP/2 transport.
func TestFaultHTTP2StreamReset(t *testing.T) {
	t.Parallel()
	srv := newH2ResetServer(t)

	control := srv.client()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+callVerifyPath, strings.NewReader(`{}`))
	require.NoError(t, err)
	resp, err := control.Do(req)
	cancel()
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err)
	require.Greater(t, srv.received.Load(), int64(1), "the transport resends a request it can rewind")
	control.CloseIdleConnections()

	// A server of its own, so that a late resend of the control request
	// cannot be counted against the SDK.
	srv = newH2ResetServer(t)
	hc := srv.client()
	defer hc.CloseIdleConnections()
	c, err := NewClient(srv.URL(), "k", "s", WithHTTPClient(hc), WithTimeout(2*time.Second))
	require.NoError(t, err)
	_, err = c.CallVerify(context.Background(), validRequest())
	require.Error(t, err)
	assert.Equal(t, OutcomeUnknown, OutcomeOf(err), "%v", err)
	assert.Equal(t, int64(1), srv.received.Load(), "exactly one reception")
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, 1, reqErr.Attempts)
}

// TestCallerTraceFiresForItsOwnCallOnly: a ClientTrace on the caller's
// context fires for that call, and never for later calls.
func TestCallerTraceFiresForItsOwnCallOnly(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, okAnswer) })
	c, err := NewClient(srv.URL(), "k", "s")
	require.NoError(t, err)
	var fired atomic.Int64
	traced := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { fired.Add(1) },
	})
	_, err = c.CallVerify(traced, validRequest())
	require.NoError(t, err)
	assert.Equal(t, int64(1), fired.Load(), "the caller's hook fires for its call")
	for range 10 {
		_, err = c.CallVerify(context.Background(), validRequest())
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), fired.Load(), "and for no other call")
	assert.Equal(t, int64(11), srv.received.Load())
}

// TestInformationalAnswerIsUnknown: a 101 answer (the only 1xx a Go client
// returns) carrying a resultcode is no platform answer: the request was
// sent, so the outcome is unknown.
func TestInformationalAnswerIsUnknown(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"+`{"resultcode":"1010002"}`)
	})
	c, err := NewClient(srv.URL(), "k", "s")
	require.NoError(t, err)
	_, err = c.CallVerify(context.Background(), validRequest())
	assertUnknownOnce(t, err, srv)
	assert.ErrorContains(t, err, "informational http status 101")
	var apiErr *APIError
	assert.False(t, errors.As(err, &apiErr), "a 1xx is never a rejection")
}

// TestClockSkewRetry: 1010013 is resent once, re-signed with the clock
// corrected by the answer's Date header, only when the policy asks; it is
// the one fault after which the platform receives a request twice.
func TestClockSkewRetry(t *testing.T) {
	t.Parallel()
	platformNow := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	skewed := func(conn net.Conn, r *http.Request, _ []byte) {
		tok, err := aksk.Parse(r.Header.Get(aksk.Header))
		created, perr := time.Parse(aksk.CreatedLayout, tok.Created)
		date := platformNow.Format(http.TimeFormat)
		if err != nil || perr != nil || created.Sub(platformNow).Abs() > time.Minute {
			const skew = `{"resultcode":"1010013","resultdesc":"Time out limit."}`
			fmt.Fprintf(conn, "HTTP/1.1 400 Bad Request\r\nDate: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", date, len(skew), skew)
			return
		}
		fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", date, len(okAnswer), okAnswer)
	}
	for _, tc := range []struct {
		name       string
		policy     RetryPolicy
		receptions int64
		outcome    Outcome
	}{
		{"policy off", RetryPolicy{}, 1, OutcomeRejected},
		{"policy on", RetryPolicy{ClockSkew: true}, 2, OutcomeAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newRawServer(t, skewed)
			c, err := NewClient(srv.URL(), "k", "s", WithRetry(tc.policy))
			require.NoError(t, err)
			pinClock(c, platformNow.Add(-2*time.Hour)) // this machine's clock is two hours late
			noSleep(c)
			_, err = c.CallVerify(context.Background(), validRequest())
			assert.Equal(t, tc.outcome, OutcomeOf(err), "%v", err)
			assert.Equal(t, tc.receptions, srv.received.Load())
			seen := srv.Seen()
			if len(seen) == 2 {
				first, _ := aksk.Parse(seen[0].Header.Get(aksk.Header))
				second, _ := aksk.Parse(seen[1].Header.Get(aksk.Header))
				assert.NotEqual(t, first.Nonce, second.Nonce, "re-signed")
				assert.Equal(t, "2026-06-01T12:00:00Z", second.Created, "with the platform's clock")
			}
		})
	}

	// A platform whose clock check fails every time gets the request
	// twice, never more.
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
		writeJSON(conn, 400, `{"resultcode":"1010013","resultdesc":"Time out limit."}`)
	})
	c, err := NewClient(srv.URL(), "k", "s", WithRetry(RetryPolicy{ClockSkew: true, MaxAttempts: 5}))
	require.NoError(t, err)
	noSleep(c)
	_, err = c.CallVerify(context.Background(), validRequest())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, apiErr.IsClockSkew())
	assert.Equal(t, int64(2), srv.received.Load())
}

// TestRetryBudget: against a platform that is down, each call retries
// until the client's budget is spent; after that every call is sent
// once, so the failing platform never sees the traffic multiplied.
func TestRetryBudget(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // connection refused from now on
	c, err := NewClient("http://"+addr, "k", "s", WithRetry(RetryPolicy{MaxAttempts: 3}))
	require.NoError(t, err)
	noSleep(c)
	var attempts []int
	for range 10 {
		_, err := c.CallVerify(context.Background(), validRequest())
		var reqErr *RequestError
		require.ErrorAs(t, err, &reqErr)
		require.Equal(t, OutcomeRejected, reqErr.Outcome)
		attempts = append(attempts, reqErr.Attempts)
	}
	assert.Equal(t, 3, attempts[0], "a healthy budget allows the policy's attempts")
	total := 0
	for _, a := range attempts {
		total += a
	}
	assert.Equal(t, []int{1, 1, 1, 1, 1}, attempts[5:], "a spent budget allows none")
	assert.LessOrEqual(t, total, 10+retryBudgetTokens/2, "at most half the budget's tokens were spent on retries")

	// Successful calls refill it.
	b := newRetryBudget()
	for range retryBudgetTokens {
		b.record(false)
	}
	assert.False(t, b.take())
	for range 60 {
		b.record(true)
	}
	assert.True(t, b.take(), "refilled by successes")
}

// TestIdempotentEndpointRetriesUnknownOutcomes: an operation that cannot
// place a call is resent after an unknown outcome; one that can is not.
func TestIdempotentEndpointRetriesUnknownOutcomes(t *testing.T) {
	t.Parallel()
	for _, idempotent := range []bool{true, false} {
		t.Run(fmt.Sprint("idempotent=", idempotent), func(t *testing.T) {
			t.Parallel()
			var n atomic.Int64
			srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
				if n.Add(1) == 1 {
					writeJSON(conn, 503, `{"resultcode":"1010001","resultdesc":"busy"}`)
					return
				}
				writeJSON(conn, 200, `{"resultcode":"0","resultdesc":"Success"}`)
			})
			c, err := NewClient(srv.URL(), "k", "s")
			require.NoError(t, err)
			noSleep(c)
			ep := &endpoint{op: "Test", method: http.MethodPost, path: "/test", idempotent: idempotent}
			_, err = c.do(context.Background(), ep, nil, map[string]string{"a": "b"}, "", nil)
			if idempotent {
				require.NoError(t, err)
				assert.Equal(t, int64(2), srv.received.Load())
			} else {
				assert.Equal(t, OutcomeUnknown, OutcomeOf(err))
				assert.Equal(t, int64(1), srv.received.Load())
			}
		})
	}
}

// TestRedirectEndpoint: for an endpoint whose answer is a redirect, the
// Location is returned and never followed, and a GET carries no body and
// no Content-Type.
func TestRedirectEndpoint(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
		io.WriteString(conn, "HTTP/1.1 301 Moved Permanently\r\nLocation: http://127.0.0.1:1/file.wav?sig=x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	})
	c, err := NewClient(srv.URL(), "k", "s")
	require.NoError(t, err)
	ep := &endpoint{op: "Test", method: http.MethodGet, path: "/get", idempotent: true, redirect: true}
	rep, err := c.do(context.Background(), ep, url.Values{"fileName": {"a b.wav"}}, nil, "", nil)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1/file.wav?sig=x", rep.Location)
	seen := srv.Seen()
	require.Len(t, seen, 1)
	assert.Empty(t, seen[0].Body)
	assert.Empty(t, seen[0].Header.Get("Content-Type"))
	assert.Contains(t, string(srv.Last()), "GET /get?fileName=a+b.wav HTTP/1.1")
	assert.NotEmpty(t, seen[0].Header.Get(aksk.Header))
}

// TestFaultHTTP2ResetGET (C31): the same server, with the GETs. Go's
// HTTP/2 transport resends a body-less GET after a stream reset however
// often the server resets it (the control); RecordingURL reaches the
// server once per attempt of the retry policy, and DownloadRecording,
// which makes one attempt, once.
func TestFaultHTTP2ResetGET(t *testing.T) {
	t.Parallel()
	srv := newH2ResetServer(t)
	control := srv.client()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+recordingPath, nil)
	require.NoError(t, err)
	resp, err := control.Do(req)
	cancel()
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err)
	require.Greater(t, srv.received.Load(), int64(1), "the transport resends a body-less GET")
	control.CloseIdleConnections()

	t.Run("RecordingURL", func(t *testing.T) {
		t.Parallel()
		srv := newH2ResetServer(t)
		hc := srv.client()
		defer hc.CloseIdleConnections()
		var attempts atomic.Int64
		c, err := NewClient(srv.URL(), "k", "s", WithHTTPClient(hc), WithTimeout(2*time.Second),
			WithHooks(ClientHooks{AttemptEnd: func(context.Context, AttemptInfo) { attempts.Add(1) }}))
		require.NoError(t, err)
		noSleep(c)
		_, err = c.RecordingURL(context.Background(), &RecordingRequest{FileName: "a.wav", RecordDomain: "d"})
		require.Error(t, err)
		assert.Equal(t, OutcomeUnknown, OutcomeOf(err), "%v", err)
		var reqErr *RequestError
		require.ErrorAs(t, err, &reqErr)
		assert.Equal(t, int64(reqErr.Attempts), attempts.Load())
		assert.LessOrEqual(t, reqErr.Attempts, 3, "the default policy's MaxAttempts")
		assert.Equal(t, int64(reqErr.Attempts), srv.received.Load(), "one reception per attempt")
	})
	t.Run("DownloadRecording", func(t *testing.T) {
		t.Parallel()
		srv := newH2ResetServer(t)
		hc := srv.client()
		defer hc.CloseIdleConnections()
		c, err := NewClient("https://127.0.0.1:1", "k", "s", WithHTTPClient(hc))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err = c.DownloadRecording(ctx, srv.URL()+"/r.wav?token=t", io.Discard, 0)
		require.Error(t, err)
		assert.Equal(t, int64(1), srv.received.Load(), "one reception")
	})
}

// closeReusedServer answers the first request on each connection and
// keeps the connection open, then closes the connection without an
// answer after reading any later request: the fault after which Go's
// HTTP/1 transport sends a replayable request (a body-less GET) again on
// a new connection.
type closeReusedServer struct {
	*rawServer
	received atomic.Int64
}

func newCloseReusedServer(t *testing.T) *closeReusedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &closeReusedServer{rawServer: &rawServer{ln: ln}}
	acceptAll(ln, &s.wg, func(conn net.Conn) {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(conn)
		for i := 0; ; i++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			s.received.Add(1)
			if i > 0 {
				return // closed without an answer
			}
			if strings.HasPrefix(req.URL.Path, recordingPath) {
				io.WriteString(conn, "HTTP/1.1 301 Moved Permanently\r\nLocation: https://obs.example.com/r.wav\r\nContent-Length: 0\r\n\r\n")
			} else {
				// No body: the transport puts the connection back in its
				// pool before it returns the answer, so the next request
				// finds it there.
				io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
			}
		}
	})
	t.Cleanup(s.Close)
	return s
}

// TestFaultHTTP1CloseReusedGET (C32): a caller's keep-alive transport
// against a server that closes every connection it has answered once
// the next request arrives. Go's HTTP/1 transport resends a body-less
// GET on a new connection (the control: 2 receptions for one request);
// the SDK's GETs reach the server once per attempt it counted.
func TestFaultHTTP1CloseReusedGET(t *testing.T) {
	t.Parallel()
	keepAlive := func() *http.Client {
		tr := NewTransport(nil)
		tr.DisableKeepAlives = false
		return &http.Client{Transport: tr}
	}
	get := func(t *testing.T, hc *http.Client, url string) {
		t.Helper()
		resp, err := hc.Get(url)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	srv := newCloseReusedServer(t)
	control := keepAlive()
	get(t, control, srv.URL()+"/f.wav")
	get(t, control, srv.URL()+"/f.wav") // on the kept-alive connection, which the server closes
	require.Equal(t, int64(3), srv.received.Load(), "the transport resends a body-less GET on a new connection")
	control.CloseIdleConnections()

	t.Run("RecordingURL", func(t *testing.T) {
		t.Parallel()
		srv := newCloseReusedServer(t)
		hc := keepAlive()
		defer hc.CloseIdleConnections()
		var attempts atomic.Int64
		c, err := NewClient(srv.URL(), "k", "s", WithHTTPClient(hc),
			WithHooks(ClientHooks{AttemptEnd: func(context.Context, AttemptInfo) { attempts.Add(1) }}))
		require.NoError(t, err)
		noSleep(c)
		rr := &RecordingRequest{FileName: "a.wav", RecordDomain: "d"}
		_, err = c.RecordingURL(context.Background(), rr)
		require.NoError(t, err)
		require.Equal(t, int64(1), srv.received.Load())
		attempts.Store(0)
		// On the kept-alive connection: lost, then sent again by the
		// retry policy (an idempotent operation) on a new connection.
		_, err = c.RecordingURL(context.Background(), rr)
		require.NoError(t, err)
		assert.Equal(t, int64(2), attempts.Load(), "the lost attempt and the retry")
		assert.Equal(t, int64(1)+attempts.Load(), srv.received.Load(), "one reception per attempt")
	})
	t.Run("DownloadRecording", func(t *testing.T) {
		t.Parallel()
		srv := newCloseReusedServer(t)
		hc := keepAlive()
		defer hc.CloseIdleConnections()
		c, err := NewClient("https://127.0.0.1:1", "k", "s", WithHTTPClient(hc))
		require.NoError(t, err)
		_, err = c.DownloadRecording(context.Background(), srv.URL()+"/r.wav", io.Discard, 0)
		require.NoError(t, err)
		_, err = c.DownloadRecording(context.Background(), srv.URL()+"/r.wav", io.Discard, 0)
		require.Error(t, err, "the connection was lost after the request was sent")
		assert.Equal(t, int64(2), srv.received.Load(), "one reception per download")
	})
}
