package voicetest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/voicetest"
)

func stopBody(id string) map[string]any {
	return map[string]any{"sessionid": id, "signal": "call_stop"}
}

func TestCallStopEndsALiveCall(t *testing.T) {
	t.Parallel()
	for _, api := range []struct {
		path string
		body map[string]any
	}{
		{voicetest.CallVerifyPath, validBody()},
		{voicetest.CallNotifyPath, notifyBody(map[string]any{"notifyVoice": "a.wav"})},
		{voicetest.Click2CallPath, click2CallBody()},
	} {
		t.Run(api.path, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t)
			// A long call, played at the default pace: it lasts 36 s of wall
			// time unless it is stopped.
			srv := voicetest.Start(t, voicetest.WithScenario(voicetest.ScenarioLongCall))
			api.body["statusUrl"], api.body["feeUrl"] = b64(rc.URL), b64(rc.URL)
			id := placeRaw(t, srv, api.path, api.body)
			_, err := srv.WaitDelivery(testCtx(t), func(d voicetest.Delivery) bool {
				return d.EventType == voicecall.EventAnswer && d.Has(id)
			})
			require.NoError(t, err)

			a := send(t, signedRequest(t, srv, http.MethodPost, voicetest.CallStopPath, stopBody(id)))
			assert.Equal(t, http.StatusOK, a.Status)
			assert.Equal(t, "0", a.ResultCode)
			assert.Equal(t, "Success", a.ResultDesc)
			assert.Empty(t, a.SessionID)

			call, err := srv.WaitCall(testCtx(t), func(c voicetest.Call) bool { return c.SessionID == id && c.Ended })
			require.NoError(t, err)
			assert.True(t, call.Stopped)
			assert.Equal(t, voicecall.StateHangUpRequested, call.StateCode)
			assert.Less(t, call.End.Sub(call.Start).Minutes(), 30.0, "ended long before the hour")
			_, err = srv.WaitDelivery(testCtx(t), isFee(id))
			require.NoError(t, err)
			evs := statusEvents(t, rc)
			last := evs[len(evs)-1]
			assert.Equal(t, "disconnect", last.EventType)
			assert.Equal(t, 8017, *last.StatusInfo.StateCode)
			assert.Equal(t, 1003, onlyCDR(t, rc).ULFailReason)

			// The session has ended: a second stop is a platform error.
			a = send(t, signedRequest(t, srv, http.MethodPost, voicetest.CallStopPath, stopBody(id)))
			assert.Equal(t, "1020001", a.ResultCode)
			reqs := srv.Requests()
			assert.Equal(t, voicetest.APICallStop, reqs[len(reqs)-1].API)
			assert.Equal(t, id, reqs[len(reqs)-1].Stop.SessionID)
			assert.NotEmpty(t, reqs[len(reqs)-1].Reason)
		})
	}
}

func TestCallStopChecks(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"camel-case sessionId", map[string]any{"sessionId": "x", "signal": "call_stop"}, "sessionid"},
		{"no signal", map[string]any{"sessionid": "x"}, "signal"},
		{"other signal", map[string]any{"sessionid": "x", "signal": "stop"}, "signal"},
	} {
		a := send(t, signedRequest(t, srv, http.MethodPost, voicetest.CallStopPath, tc.body))
		assert.Equal(t, string(voicecall.CodeInvalidRequest), a.ResultCode, tc.name)
		assert.Contains(t, a.ResultDesc, tc.field+":", tc.name)
	}
	a := send(t, signedRequest(t, srv, http.MethodPost, voicetest.CallStopPath, stopBody("1200_9_0_20260101000000@x")))
	assert.Equal(t, "1020001", a.ResultCode, "unknown session")
	assert.Equal(t, http.StatusOK, a.Status)
}

func TestCallStopOtherAppsCall(t *testing.T) {
	t.Parallel()
	other := voicetest.App{Key: "otherAppKey", Secret: "otherAppSecret"}
	srv := voicetest.Start(t, voicetest.WithApp(voicetest.App{Key: voicetest.DefaultAppKey, Secret: voicetest.DefaultAppSecret}),
		voicetest.WithApp(other), voicetest.WithScenario(voicetest.ScenarioLongCall))
	id := placeRaw(t, srv, voicetest.CallVerifyPath, validBody())
	req := signedRequest(t, srv, http.MethodPost, voicetest.CallStopPath, stopBody(id))
	nonce, err := aksk.NewNonce()
	require.NoError(t, err)
	tok := aksk.Sign(other.Key, other.Secret, nonce, aksk.FormatCreated(time.Now(), nil))
	req.Header.Set(aksk.Header, tok.HeaderValue())
	a := send(t, req)
	assert.Equal(t, "1020001", a.ResultCode, "a call of another app cannot be stopped")
	calls := srv.Calls()
	require.Len(t, calls, 1)
	assert.False(t, calls[0].Ended)
}
