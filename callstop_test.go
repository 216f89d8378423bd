package voicecall

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const stopOK = `{"resultcode":"0","resultdesc":"Success"}`

func TestCallStopWireGolden(t *testing.T) {
	t.Parallel()
	raw := wireCall(t, stopOK, func(c *Client) error {
		_, err := c.CallStop(context.Background(), &CallStopRequest{SessionID: "1202_566_0_20161228102743@callenabler.home1.com"})
		return err
	})
	checkGolden(t, "callstop.http", raw)
	m := wireBody(t, raw)
	assert.Equal(t, "1202_566_0_20161228102743@callenabler.home1.com", m["sessionid"], "the lower-case key Huawei documents")
	assert.Equal(t, "call_stop", m["signal"])
	assert.NotContains(t, m, "sessionId")
}

func TestCallStopValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		id string
		ok bool
	}{{"x", true}, {strings.Repeat("s", 256), true}, {"", false}, {strings.Repeat("s", 257), false}, {"\xff", false}} {
		err := (&CallStopRequest{SessionID: tc.id}).Validate()
		if tc.ok {
			assert.NoError(t, err)
			continue
		}
		var verr *ValidationError
		require.ErrorAs(t, err, &verr)
		assert.True(t, verr.Has("sessionid"))
	}
	var c Client
	_, err := c.CallStop(context.Background(), nil)
	assert.Error(t, err)
}

// TestCallStopEndedSession: stopping a call that has ended is the
// platform's error, not a success.
func TestCallStopEndedSession(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
		writeJSON(conn, 200, `{"resultcode":"1020001","resultdesc":"Parameter error."}`)
	})
	c := newTestClient(t, srv.URL())
	resp, err := c.CallStop(context.Background(), &CallStopRequest{SessionID: "s"})
	assert.Nil(t, resp)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "CallStop", apiErr.Op)
	assert.Equal(t, OutcomeRejected, OutcomeOf(err))
	assert.Equal(t, int64(1), srv.received.Load(), "a refusal is not retried")
}

// TestCallStopMayBeResent: after an unknown outcome a stop is sent again
// (a second stop cannot place a call), within the policy's attempts.
func TestCallStopMayBeResent(t *testing.T) {
	t.Parallel()
	for _, f := range faultsAfterSending() {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			srv := newRawServer(t, func(conn net.Conn, r *http.Request, b []byte) {
				if n.Add(1) == 1 {
					f.h(conn, r, b)
					return
				}
				writeJSON(conn, 200, stopOK)
			})
			c := newTestClient(t, srv.URL())
			noSleep(c)
			resp, err := c.CallStop(context.Background(), &CallStopRequest{SessionID: "s"})
			require.NoError(t, err)
			assert.Equal(t, CodeSuccess, resp.ResultCode)
			assert.Equal(t, int64(2), srv.received.Load(), "the first attempt failed, the second succeeded")
		})
	}
	t.Run("bounded by MaxAttempts", func(t *testing.T) {
		t.Parallel()
		srv := newRawServer(t, func(net.Conn, *http.Request, []byte) {})
		c := newTestClient(t, srv.URL(), WithRetry(RetryPolicy{MaxAttempts: 2}))
		noSleep(c)
		_, err := c.CallStop(context.Background(), &CallStopRequest{SessionID: "s"})
		assert.ErrorIs(t, err, ErrOutcomeUnknown)
		assert.Equal(t, int64(2), srv.received.Load())
	})
}
