package voicecall

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/aksk"
)

// hookRecorder records every client hook call, as text and as values.
type hookRecorder struct {
	mu       sync.Mutex
	starts   []CallInfo
	ends     []CallInfo
	aStarts  []AttemptInfo
	aEnds    []AttemptInfo
	ctxSeen  []any
	printout strings.Builder
}

type hookKey struct{}

func (r *hookRecorder) hooks() ClientHooks {
	return ClientHooks{
		CallStart: func(ctx context.Context, i CallInfo) context.Context {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.starts = append(r.starts, i)
			fmt.Fprintf(&r.printout, "%+v\n", i)
			return context.WithValue(ctx, hookKey{}, "call")
		},
		CallEnd: func(ctx context.Context, i CallInfo) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.ends = append(r.ends, i)
			r.ctxSeen = append(r.ctxSeen, ctx.Value(hookKey{}))
			fmt.Fprintf(&r.printout, "%+v %v\n", i, i.Err)
		},
		AttemptStart: func(ctx context.Context, i AttemptInfo) context.Context {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.aStarts = append(r.aStarts, i)
			r.ctxSeen = append(r.ctxSeen, ctx.Value(hookKey{}))
			fmt.Fprintf(&r.printout, "%+v\n", i)
			return nil // keep ctx
		},
		AttemptEnd: func(ctx context.Context, i AttemptInfo) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.aEnds = append(r.aEnds, i)
			fmt.Fprintf(&r.printout, "%+v %v\n", i, i.Err)
		},
	}
}

func TestClientHooks(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, okAnswer) })
	var rec hookRecorder
	c, err := NewClient(srv.URL(), "k", "s", WithHooks(rec.hooks()))
	require.NoError(t, err)
	_, err = c.CallVerify(context.Background(), validRequest())
	require.NoError(t, err)

	host := strings.TrimPrefix(srv.URL(), "http://")
	require.Len(t, rec.starts, 1)
	assert.Equal(t, CallInfo{Operation: "CallVerify", Method: http.MethodPost, Host: host, Path: callVerifyPath}, rec.starts[0])
	require.Len(t, rec.aStarts, 1)
	assert.Equal(t, AttemptInfo{Operation: "CallVerify", Attempt: 1, Method: http.MethodPost, Host: host, Path: callVerifyPath}, rec.aStarts[0])
	require.Len(t, rec.aEnds, 1)
	a := rec.aEnds[0]
	assert.Equal(t, 200, a.StatusCode)
	assert.Empty(t, a.ErrorClass)
	assert.False(t, a.ConnReused, "short connections")
	assert.NoError(t, a.Err)
	assert.Positive(t, a.Duration)
	require.Len(t, rec.ends, 1)
	e := rec.ends[0]
	assert.Equal(t, OutcomeAccepted, e.Outcome)
	assert.Equal(t, CodeSuccess, e.ResultCode)
	assert.Equal(t, 1, e.Attempts)
	assert.GreaterOrEqual(t, e.Duration, a.Duration)
	assert.Equal(t, []any{"call", "call"}, rec.ctxSeen, "CallStart's context reaches the other hooks")

	// An invalid request sends nothing and calls no hook.
	bad := validRequest()
	bad.CalleeNumber = ""
	_, err = c.CallVerify(context.Background(), bad)
	require.Error(t, err)
	assert.Len(t, rec.starts, 1)
}

func TestClientHooksOnFailures(t *testing.T) {
	t.Parallel()
	const secret, code, callee = "hooks-S3CRET-77", "481516", "+8613598765432"
	// The server echoes the request back in its rejection.
	srv := newRawServer(t, func(conn net.Conn, r *http.Request, body []byte) {
		writeJSON(conn, 400, fmt.Sprintf(`{"resultcode":"1010002","resultdesc":%q}`, fmt.Sprint(r.Header)+string(body)))
	})
	var rec hookRecorder
	c, err := NewClient(srv.URL(), "k", secret, WithHooks(rec.hooks()))
	require.NoError(t, err)
	req := validRequest()
	req.VerifyCode, req.CalleeNumber = code, callee
	_, err = c.CallVerify(context.Background(), req)
	require.Error(t, err)
	require.Len(t, rec.aEnds, 1)
	assert.Equal(t, "platform", rec.aEnds[0].ErrorClass)
	assert.Equal(t, 400, rec.aEnds[0].StatusCode)
	require.Len(t, rec.ends, 1)
	assert.Equal(t, OutcomeRejected, rec.ends[0].Outcome)
	assert.Equal(t, CodeInvalidRequest, rec.ends[0].ResultCode)

	seen := srv.Seen()
	require.Len(t, seen, 1)
	tok, err := aksk.Parse(seen[0].Header.Get(aksk.Header))
	require.NoError(t, err)
	out := rec.printout.String()
	require.Contains(t, out, "1010002")
	for _, f := range []string{secret, code, callee, callee[1:], tok.PasswordDigest, tok.Nonce} {
		assert.NotContains(t, out, f, "hooks never receive %q", f)
	}

	// Nothing listening: the attempt fails before a connection; class dial.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	var rec2 hookRecorder
	c2, err := NewClient("http://"+addr, "k", "s", WithHooks(rec2.hooks()), WithRetry(RetryPolicy{MaxAttempts: 2}))
	require.NoError(t, err)
	noSleep(c2)
	_, err = c2.CallVerify(context.Background(), validRequest())
	require.Error(t, err)
	require.Len(t, rec2.aEnds, 2, "one AttemptEnd per attempt")
	assert.Equal(t, []int{1, 2}, []int{rec2.aEnds[0].Attempt, rec2.aEnds[1].Attempt})
	assert.Equal(t, "dial", rec2.aEnds[0].ErrorClass)
	assert.Zero(t, rec2.aEnds[0].StatusCode)
	require.Len(t, rec2.ends, 1)
	assert.Equal(t, 2, rec2.ends[0].Attempts)
	assert.Equal(t, OutcomeRejected, rec2.ends[0].Outcome)
}

func TestPanickingHooksDoNotBreakACall(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, okAnswer) })
	boom := func() { panic("hook bug") }
	c, err := NewClient(srv.URL(), "k", "s", WithHooks(ClientHooks{
		CallStart:    func(context.Context, CallInfo) context.Context { boom(); return nil },
		CallEnd:      func(context.Context, CallInfo) { boom() },
		AttemptStart: func(context.Context, AttemptInfo) context.Context { boom(); return nil },
		AttemptEnd:   func(context.Context, AttemptInfo) { boom() },
	}))
	require.NoError(t, err)
	resp, err := c.CallVerify(context.Background(), validRequest())
	require.NoError(t, err)
	assert.NotEmpty(t, resp.SessionID)
	assert.Equal(t, int64(1), srv.received.Load())
}

func TestErrorClass(t *testing.T) {
	t.Parallel()
	assert.Empty(t, errorClass(nil))
	assert.Equal(t, "canceled", errorClass(&RequestError{Err: context.Canceled}))
	assert.Equal(t, "timeout", errorClass(&RequestError{Err: context.DeadlineExceeded}))
	assert.Equal(t, "dns", errorClass(&RequestError{Err: &net.DNSError{Err: "no such host"}}))
	assert.Equal(t, "status", errorClass(&RequestError{Outcome: OutcomeUnknown, HTTPStatus: 502, Err: errBoom}))
	assert.Equal(t, "connection", errorClass(&RequestError{Outcome: OutcomeUnknown, Err: errBoom}))
	assert.Equal(t, "platform", errorClass(&APIError{Code: CodeInvalidRequest}))
	assert.Equal(t, "status", errorClass(&RequestError{Outcome: OutcomeUnknown, HTTPStatus: 500, Err: &APIError{Code: CodeSystemError}}))
	assert.Equal(t, "other", errorClass(errBoom))
}

// The end hooks get the start hooks' fields too: Method, Host and Path
// for calls and attempts (on success and on failure), Path for pushes.
func TestEndHooksGetStartFields(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, okAnswer) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := ln.Addr().String()
	require.NoError(t, ln.Close())

	for _, tc := range []struct {
		name, base string
		attempts   int
	}{
		{"answered", srv.URL(), 1},
		{"nothing listening", "http://" + deadAddr, 2},
	} {
		var rec hookRecorder
		c, err := NewClient(tc.base, "k", "s", WithHooks(rec.hooks()), WithRetry(RetryPolicy{MaxAttempts: 2}))
		require.NoError(t, err)
		noSleep(c)
		_, _ = c.CallVerify(context.Background(), validRequest())

		host := strings.TrimPrefix(tc.base, "http://")
		require.Len(t, rec.ends, 1, tc.name)
		e := rec.ends[0]
		assert.Equal(t, "CallVerify", e.Operation, tc.name)
		assert.Equal(t, http.MethodPost, e.Method, tc.name)
		assert.Equal(t, host, e.Host, tc.name)
		assert.Equal(t, callVerifyPath, e.Path, tc.name)
		assert.Equal(t, tc.attempts, e.Attempts, tc.name)
		require.Len(t, rec.aEnds, tc.attempts, tc.name)
		for i, a := range rec.aEnds {
			assert.Equal(t, AttemptInfo{Operation: "CallVerify", Attempt: i + 1, Method: http.MethodPost, Host: host, Path: callVerifyPath},
				AttemptInfo{Operation: a.Operation, Attempt: a.Attempt, Method: a.Method, Host: a.Host, Path: a.Path}, "%s: attempt %d", tc.name, i+1)
			assert.Equal(t, rec.aStarts[i].Path, a.Path, "%s: attempt %d", tc.name, i+1)
		}
	}

	var starts, ends []NotificationInfo
	h := newHandler(t, HandlerConfig{
		OnStatus: func(context.Context, *StatusEvent) error { return nil },
		Hooks: &HandlerHooks{
			NotificationStart: func(ctx context.Context, i NotificationInfo) context.Context {
				starts = append(starts, i)
				return ctx
			},
			NotificationEnd: func(_ context.Context, i NotificationInfo) { ends = append(ends, i) },
		},
	})
	for _, r := range []*http.Request{
		httptest.NewRequest(http.MethodPost, "/voicecall/notify", bytes.NewReader(readNotification(t, "status_disconnect.json"))),
		httptest.NewRequest(http.MethodGet, "/elsewhere", nil),
	} {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	require.Len(t, starts, 2)
	require.Len(t, ends, 2)
	assert.Equal(t, NotificationInfo{Path: "/voicecall/notify"}, starts[0], "only Path at the start")
	assert.Equal(t, "/voicecall/notify", ends[0].Path)
	assert.Equal(t, 200, ends[0].Status)
	assert.Equal(t, "/elsewhere", ends[1].Path, "a refused push too")
	assert.Equal(t, http.StatusMethodNotAllowed, ends[1].Status)
}
