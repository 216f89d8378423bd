package voicecall

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/aksk"
)

// C3: connection refused, then the listener appears: retried with a
// fresh signature, and the call succeeds with one reception.
func TestRetryAfterConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now

	c, err := NewClient("http://"+addr, "k", "s")
	require.NoError(t, err)
	var srv *rawServer
	var waits []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		if srv == nil { // the platform comes up during the first backoff
			l, err := net.Listen("tcp", addr)
			require.NoError(t, err)
			srv = &rawServer{ln: l}
			srv.wg.Add(1)
			go func() {
				defer srv.wg.Done()
				conn, err := l.Accept()
				if err != nil {
					return
				}
				defer conn.Close()
				srv.serve(conn, func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, okAnswer) })
			}()
			t.Cleanup(srv.Close)
		}
		return nil
	}
	resp, err := c.CallVerify(context.Background(), validRequest())
	require.NoError(t, err)
	assert.NotEmpty(t, resp.SessionID)
	assert.Equal(t, int64(1), srv.received.Load())
	require.Len(t, waits, 1)
	assert.Less(t, waits[0], 100*time.Millisecond, "full jitter below the first ceiling")
	seen := srv.Seen()
	require.Len(t, seen, 1)
	assert.NotEmpty(t, seen[0].Header.Get(aksk.Header), "the attempt after the backoff is signed")
}

// Nothing listening at all: every attempt is refused, the error says the
// request was not sent, and the backoff stays within its budget.
func TestNothingListening(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c, err := NewClient("http://"+addr, "k", "s")
	require.NoError(t, err)
	waits := noSleep(c)
	_, err = c.CallVerify(context.Background(), validRequest())
	var reqErr *RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, OutcomeRejected, reqErr.Outcome)
	assert.Equal(t, 3, reqErr.Attempts)
	assert.Contains(t, err.Error(), "request not sent")
	assert.Contains(t, err.Error(), "connection refused")
	assert.Len(t, *waits, 2)
	var total time.Duration
	for _, w := range *waits {
		total += w
	}
	assert.LessOrEqual(t, total, 2*time.Second)
}
