package main

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/server"
)

// serveLimited serves the SDK handler with short limits on loopback.
func serveLimited(t *testing.T, l server.Config) string {
	t.Helper()
	h, err := voicecall.NewHandler(voicecall.HandlerConfig{})
	require.NoError(t, err)
	srv, err := newServer(h, l, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return ln.Addr().String()
}

// trickle writes head at once, then data one byte at a time every
// interval until the peer closes the connection or the data runs out, and
// returns how long the connection lived, counted from before the dial.
func trickle(t *testing.T, addr, head, data string, interval time.Duration) time.Duration {
	t.Helper()
	// Timed from before the dial: the server sets its deadlines after it
	// accepts, so the connection cannot end before start plus a timeout.
	start := time.Now()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, head)
	require.NoError(t, err)
	closed := make(chan struct{})
	go func() { // the server's close (or answer, then close) ends this read
		_, _ = io.Copy(io.Discard, conn)
		close(closed)
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := 0; i < len(data); i++ {
		select {
		case <-closed:
			return time.Since(start)
		case <-tick.C:
			if _, err := conn.Write([]byte{data[i]}); err != nil {
				<-closed
				return time.Since(start)
			}
		}
	}
	<-closed
	return time.Since(start)
}

func TestSlowClientsAreCut(t *testing.T) {
	t.Parallel()
	l := server.Config{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 400 * time.Millisecond, WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 4 << 10}
	addr := serveLimited(t, l)

	t.Run("H1 slowloris headers", func(t *testing.T) {
		t.Parallel()
		lived := trickle(t, addr, "", "POST / HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("a", 200), 10*time.Millisecond)
		assert.GreaterOrEqual(t, lived, l.ReadHeaderTimeout)
		assert.Less(t, lived, l.ReadHeaderTimeout+time.Second, "closed at ReadHeaderTimeout, not when the data ran out (2 s)")
	})
	t.Run("H2 slow body", func(t *testing.T) {
		t.Parallel()
		head := "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
		lived := trickle(t, addr, head, strings.Repeat(" ", 200), 10*time.Millisecond)
		assert.GreaterOrEqual(t, lived, l.ReadTimeout)
		assert.Less(t, lived, l.ReadTimeout+time.Second, "closed at ReadTimeout, not when the data ran out")
	})
	t.Run("others are served meanwhile", func(t *testing.T) {
		t.Parallel()
		resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader(`{"eventType":"callout","statusInfo":{"sessionId":"s"}}`))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("H8 oversized headers", func(t *testing.T) {
		t.Parallel()
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer conn.Close()
		_, err = io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 8<<10)+"\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	})
}
