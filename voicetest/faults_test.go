package voicetest_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/voicetest"
)

func verifyReq(callee string) *voicecall.CallVerifyRequest {
	return &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: callee, LanguageType: 2, PreTone: "p.wav", VerifyCode: "1234",
	}
}

func TestFaultResultCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []voicecall.ResultCode{voicecall.CodeFlowControl, voicecall.CodePortLimit,
		voicecall.CodeSPCallLimit, voicecall.CodeAppCallLimit, voicecall.CodeDisplayNumberCallLimit, voicecall.CodeCalleeBlacklisted} {
		t.Run(string(code), func(t *testing.T) {
			t.Parallel()
			srv := voicetest.Start(t)
			require.NoError(t, srv.FailNext(1, voicetest.FailCode(code)))
			client, err := srv.NewClient()
			require.NoError(t, err)
			_, err = client.CallVerify(testCtx(t), verifyReq("+8613500000001"))
			var apiErr *voicecall.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, code, apiErr.Code)
			assert.Equal(t, http.StatusOK, apiErr.HTTPStatus)
			assert.NotEmpty(t, apiErr.Description)
			assert.Empty(t, srv.Calls())

			_, err = client.CallVerify(testCtx(t), verifyReq("+8613500000001"))
			require.NoError(t, err, "FailNext(1) is used up")
			reqs := srv.Requests()
			assert.Equal(t, voicetest.FaultResultCode, reqs[0].Fault)
			assert.Equal(t, voicetest.FaultNone, reqs[1].Fault)
		})
	}
}

func TestFaultResultCodeBeforeChecks(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	require.NoError(t, srv.FailNext(1, voicetest.Fault{Action: voicetest.FaultResultCode, Code: "1010010",
		ResultDesc: "slow down", HTTPStatus: http.StatusTooManyRequests}))
	req := rawRequest(t, srv, validBody())
	req.Header.Del("Authorization")
	a := send(t, req)
	assert.Equal(t, "1010010", a.ResultCode)
	assert.Equal(t, "slow down", a.ResultDesc)
	assert.Equal(t, http.StatusTooManyRequests, a.Status)
}

func TestFaultHTML(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	require.NoError(t, srv.FailNext(1, voicetest.FailHTML(http.StatusBadGateway)))
	client, err := srv.NewClient()
	require.NoError(t, err)
	_, err = client.CallVerify(testCtx(t), verifyReq("+8613500000001"))
	require.ErrorIs(t, err, voicecall.ErrOutcomeUnknown)
	var reqErr *voicecall.RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, http.StatusBadGateway, reqErr.HTTPStatus)
	assert.Contains(t, reqErr.ContentType, "text/html")
	assert.Contains(t, reqErr.Body, "502 Bad Gateway")
	assert.Empty(t, srv.Calls(), "the gateway did not pass the request on")
}

// TestFaultResponseLost covers the faults after which the call is placed
// but the client cannot know: the outcome is unknown, the notifications
// flow and carry the request's userData.
func TestFaultResponseLost(t *testing.T) {
	t.Parallel()
	for _, f := range []voicetest.Fault{voicetest.DropResponse(), voicetest.ResetConnection(), voicetest.TruncateResponse()} {
		t.Run(f.Action.String(), func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t)
			srv := voicetest.Start(t, voicetest.WithNotifyURLs(rc.URL, rc.URL))
			require.NoError(t, srv.FailCallee("+8613500000001", f))
			client, err := srv.NewClient()
			require.NoError(t, err)
			_, err = client.CallVerify(testCtx(t), verifyReq("+8613500000001"))
			require.ErrorIs(t, err, voicecall.ErrOutcomeUnknown)
			userData := voicecall.UserDataOf(err)
			require.NotEmpty(t, userData)

			calls := srv.Calls()
			require.Len(t, calls, 1, "the call was placed")
			assert.Equal(t, userData, calls[0].UserData)
			d, err := srv.WaitDelivery(testCtx(t), isFee(calls[0].SessionID))
			require.NoError(t, err)
			assert.Contains(t, string(d.Body), userData)

			r := srv.Requests()[0]
			assert.Equal(t, f.Action, r.Fault)
			assert.Zero(t, r.HTTPStatus, "no answer was sent")
			assert.Equal(t, calls[0].SessionID, r.SessionID)

			_, err = client.CallVerify(testCtx(t), verifyReq("+8613500000002"))
			assert.NoError(t, err, "other callees are not affected")
			srv.ClearFaults()
			_, err = client.CallVerify(testCtx(t), verifyReq("+8613500000001"))
			assert.NoError(t, err, "cleared")
		})
	}
}

// rawExchange sends a signed request on a raw connection and returns the
// connection, positioned after the request.
func rawExchange(t *testing.T, srv *voicetest.Server) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	require.NoError(t, rawRequest(t, srv, validBody()).Write(conn))
	return conn, bufio.NewReader(conn)
}

func TestFaultTruncateOnTheWire(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	require.NoError(t, srv.FailNext(1, voicetest.TruncateResponse()))
	_, br := rawExchange(t, srv)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Less(t, int64(len(body)), resp.ContentLength)
	assert.True(t, strings.HasPrefix(string(body), `{"resultcode":"0"`))
}

func TestFaultResetOnTheWire(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	require.NoError(t, srv.FailNext(1, voicetest.ResetConnection()))
	_, br := rawExchange(t, srv)
	_, err := br.ReadByte()
	assert.True(t, errors.Is(err, syscall.ECONNRESET), "want a reset, got %v", err)
}

func TestFaultDropOnTheWire(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	require.NoError(t, srv.FailNext(1, voicetest.DropResponse()))
	_, br := rawExchange(t, srv)
	_, err := br.ReadByte()
	assert.ErrorIs(t, err, io.EOF)
}

func TestFaultDelay(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	require.NoError(t, srv.FailNext(1, voicetest.DelayResponse(time.Hour)))
	client, err := srv.NewClient(voicecall.WithTimeout(100 * time.Millisecond))
	require.NoError(t, err)
	_, err = client.CallVerify(testCtx(t), verifyReq("+8613500000001"))
	require.ErrorIs(t, err, voicecall.ErrOutcomeUnknown)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Len(t, srv.Calls(), 1, "the call was placed before the slow answer")
}

func TestFaultDelayEndsOnClose(t *testing.T) {
	t.Parallel()
	srv, err := voicetest.NewServer()
	require.NoError(t, err)
	require.NoError(t, srv.FailNext(1, voicetest.Fault{Action: voicetest.FaultResultCode, Code: "1010010", Delay: time.Hour}))
	done := make(chan error, 1)
	go func() {
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := hc.Do(rawRequest(t, srv, validBody()))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	_, err = srv.WaitRequest(testCtx(t), nil)
	require.NoError(t, err)
	start := time.Now()
	srv.Close()
	assert.Less(t, time.Since(start), 5*time.Second)
	select {
	case err := <-done:
		assert.Error(t, err, "the connection was closed without an answer")
	case <-testCtx(t).Done():
		t.Fatal("the client is still waiting")
	}
}

func TestFaultWhenAndRaw(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	require.NoError(t, srv.FailWhen(func(r voicetest.Request) bool { return r.Body.VerifyCode == "0000" },
		voicetest.Fault{Action: voicetest.FaultRaw, Body: []byte(`{"resultcode":0}`),
			Header: http.Header{"Content-Type": {"application/json"}}}))
	require.NoError(t, srv.FailWhen(func(r voicetest.Request) bool { return r.Body.VerifyCode == "1111" },
		voicetest.Fault{Action: voicetest.FaultRaw, HTTPStatus: http.StatusTemporaryRedirect,
			Header: http.Header{"Location": {"http://127.0.0.1:1/elsewhere"}}}))
	client, err := srv.NewClient()
	require.NoError(t, err)

	req := verifyReq("+8613500000001")
	req.VerifyCode = "0000"
	_, err = client.CallVerify(testCtx(t), req)
	assert.ErrorIs(t, err, voicecall.ErrOutcomeUnknown, "a numeric resultcode is not an answer")

	req.VerifyCode = "1111"
	_, err = client.CallVerify(testCtx(t), req)
	var reqErr *voicecall.RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.Equal(t, http.StatusTemporaryRedirect, reqErr.HTTPStatus)

	req.VerifyCode = "2222"
	_, err = client.CallVerify(testCtx(t), req)
	assert.NoError(t, err)
	assert.Len(t, srv.Calls(), 1)
}

func TestFaultErrors(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	assert.Error(t, srv.FailNext(0, voicetest.DropResponse()))
	assert.Error(t, srv.FailNext(1, voicetest.Fault{Action: voicetest.FaultResultCode}))
	assert.Error(t, srv.FailNext(1, voicetest.Fault{Action: 99}))
	assert.Error(t, srv.FailNext(1, voicetest.Fault{Delay: -1}))
	assert.Error(t, srv.FailWhen(nil, voicetest.DropResponse()))
}

// TestConnModes checks what happens to the connection after an answer.
func TestConnModes(t *testing.T) {
	t.Parallel()
	t.Run("close silently", func(t *testing.T) {
		t.Parallel()
		srv := voicetest.Start(t)
		_, br := rawExchange(t, srv)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		assert.Empty(t, resp.Header.Get("Connection"), "no Connection: close, like the platform")
		assert.False(t, resp.Close)
		assert.Equal(t, jsonContentType, resp.Header.Get("Content-Type"))
		_, err = io.ReadAll(resp.Body)
		require.NoError(t, err)
		_, err = br.ReadByte()
		assert.ErrorIs(t, err, io.EOF, "the server closed its side")
	})
	t.Run("close with header", func(t *testing.T) {
		t.Parallel()
		srv := voicetest.Start(t, voicetest.WithConnMode(voicetest.CloseWithHeader))
		_, br := rawExchange(t, srv)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		assert.True(t, resp.Close)
		_, err = io.ReadAll(resp.Body)
		require.NoError(t, err)
		_, err = br.ReadByte()
		assert.ErrorIs(t, err, io.EOF)
	})
	t.Run("keep alive", func(t *testing.T) {
		t.Parallel()
		srv := voicetest.Start(t, voicetest.WithConnMode(voicetest.KeepAlive))
		conn, br := rawExchange(t, srv)
		for i := range 2 {
			if i > 0 {
				require.NoError(t, rawRequest(t, srv, validBody()).Write(conn))
			}
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			assert.False(t, resp.Close)
			_, err = io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
		}
		assert.Len(t, srv.Calls(), 2, "two requests on one connection")
	})
	assert.Equal(t, "close-silently", voicetest.CloseSilently.String())
}

// TestPooledClientAgainstSilentClose shows why the SDK's default short
// connections matter: with connection reuse, some requests fail after
// they were sent, and the SDK reports them as unknown, never as accepted
// or silently retried.
func TestPooledClientAgainstSilentClose(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithTimeScale(0))
	tr := voicecall.NewTransport(nil)
	tr.DisableKeepAlives = false // connection reuse, which the default transport turns off
	defer tr.CloseIdleConnections()
	pooled, err := srv.NewClient(voicecall.WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	short, err := srv.NewClient()
	require.NoError(t, err)
	const n = 50
	for range n {
		_, err := short.CallVerify(testCtx(t), verifyReq("+8613500000001"))
		require.NoError(t, err, "short connections never fail")
	}
	accepted := 0
	for range n {
		_, err := pooled.CallVerify(testCtx(t), verifyReq("+8613500000001"))
		if err == nil {
			accepted++
			continue
		}
		assert.Equal(t, voicecall.OutcomeUnknown, voicecall.OutcomeOf(err), "%v", err)
	}
	assert.Equal(t, n+accepted, len(srv.Calls()), "every accepted call was placed once, and only those reached the server")
}

// TestFaultsOnEveryAPI applies faults to each API the server serves.
func TestFaultsOnEveryAPI(t *testing.T) {
	t.Parallel()
	apis := []struct {
		api    voicetest.API
		method string
		path   string
		body   func() map[string]any
		places bool
	}{
		{voicetest.APICallNotify, http.MethodPost, voicetest.CallNotifyPath, func() map[string]any { return notifyBody(map[string]any{"notifyVoice": "a.wav"}) }, true},
		{voicetest.APIClick2Call, http.MethodPost, voicetest.Click2CallPath, click2CallBody, true},
		{voicetest.APICallStop, http.MethodPost, voicetest.CallStopPath, func() map[string]any { return stopBody("x") }, false},
		{voicetest.APIRecording, http.MethodGet, voicetest.RecordingPath + "?fileName=a&recordDomain=b", nil, false},
	}
	for _, a := range apis {
		t.Run(string(a.api), func(t *testing.T) {
			t.Parallel()
			srv := voicetest.Start(t, voicetest.WithTimeScale(0))
			body := func() any {
				if a.body == nil {
					return nil
				}
				return a.body()
			}
			// FailNextOn ignores the other APIs.
			require.NoError(t, srv.FailNextOn(a.api, 1, voicetest.FailCode(voicecall.CodeFlowControl)))
			other := send(t, signedRequest(t, srv, http.MethodPost, voicetest.CallVerifyPath, validBody()))
			assert.Equal(t, "0", other.ResultCode)
			ans := send(t, signedRequest(t, srv, a.method, a.path, body()))
			assert.Equal(t, string(voicecall.CodeFlowControl), ans.ResultCode)

			require.NoError(t, srv.FailNextOn(a.api, 1, voicetest.FailHTML(http.StatusBadGateway)))
			resp, err := noRedirects().Do(signedRequest(t, srv, a.method, a.path, body()))
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
			assert.Equal(t, "text/html", resp.Header.Get("Content-Type"))

			require.NoError(t, srv.FailWhen(func(r voicetest.Request) bool { return r.API == a.api }, voicetest.DropResponse()))
			_, err = noRedirects().Do(signedRequest(t, srv, a.method, a.path, body()))
			require.Error(t, err, "no answer")
			reqs := srv.Requests()
			last := reqs[len(reqs)-1]
			assert.Equal(t, voicetest.FaultDrop, last.Fault)
			assert.Equal(t, a.api, last.API)
			if a.places {
				assert.NotEmpty(t, last.SessionID, "a dropped answer still placed the call")
				assert.Len(t, srv.Calls(), 2, "the callVerify and the dropped one")
			}
		})
	}
}

func TestFailCalleeMatchesEveryCallingAPI(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithTimeScale(0))
	require.NoError(t, srv.FailCallee(calleeB, voicetest.FailCode(voicecall.CodeCalleeBlacklisted)))
	a := send(t, signedRequest(t, srv, http.MethodPost, voicetest.Click2CallPath, click2CallBody()))
	assert.Equal(t, string(voicecall.CodeCalleeBlacklisted), a.ResultCode)
	n := notifyBody(map[string]any{"notifyVoice": "a.wav"})
	n["calleeNbr"] = calleeB
	a = send(t, signedRequest(t, srv, http.MethodPost, voicetest.CallNotifyPath, n))
	assert.Equal(t, string(voicecall.CodeCalleeBlacklisted), a.ResultCode)
	assert.Empty(t, srv.Calls())
}
