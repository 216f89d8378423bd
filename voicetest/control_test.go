package voicetest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/voicetest"
)

// ctl sends a request to the control API and decodes its JSON answer
// into v (when not nil); it returns the HTTP status.
func ctl(t *testing.T, srv *voicetest.Server, method, path string, body any, v any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(testCtx(t), method, srv.URL+path, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if v != nil {
		require.NoError(t, json.Unmarshal(raw, v), "%s", raw)
	}
	return resp.StatusCode
}

type ctlCall struct {
	SessionID  string `json:"sessionId"`
	API        string `json:"api"`
	Callee     string `json:"callee"`
	VerifyCode string `json:"verifyCode"`
	Scenario   string `json:"scenario"`
	Ended      bool   `json:"ended"`
	StateCode  *int   `json:"stateCode"`
	Stopped    bool   `json:"stopped"`
	Digits     []string
	Events     []struct {
		Type      string `json:"type"`
		Time      time.Time
		StateCode *int   `json:"stateCode"`
		Digits    string `json:"digits"`
	} `json:"events"`
}

type ctlDelivery struct {
	ID         int             `json:"id"`
	Kind       string          `json:"kind"`
	EventType  string          `json:"eventType"`
	URL        string          `json:"url"`
	SessionIDs []string        `json:"sessionIds"`
	RepushOf   int             `json:"repushOf"`
	Status     int             `json:"status"`
	OK         bool            `json:"ok"`
	Answer     string          `json:"answer"`
	LatencyMS  float64         `json:"latencyMs"`
	Body       json.RawMessage `json:"body"`
}

func eventNames(c ctlCall) []string {
	var out []string
	for _, e := range c.Events {
		out = append(out, e.Type)
	}
	return out
}

// answeringReceiver answers every push with HTTP 200 and a short body,
// and hands each body to a channel.
func answeringReceiver(t *testing.T) (string, <-chan []byte) {
	t.Helper()
	ch := make(chan []byte, 100)
	rc := newReceiver(t)
	rc.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- b
		_, _ = io.WriteString(w, `{"resultcode":"0"}`)
	})
	return rc.URL, ch
}

func TestControlCallsAndDeliveries(t *testing.T) {
	t.Parallel()
	rcURL, _ := answeringReceiver(t)
	srv := voicetest.Start(t, voicetest.WithControlAPI(), voicetest.WithTimeScale(0), voicetest.WithNotifyURLs(rcURL+"/status", rcURL+"/fee"))
	before := time.Now().Add(-time.Second).UTC()
	id := placeCall(t, srv, "+8613500000001", "u1", "", "")
	other := placeCall(t, srv, "+8613500000002", "u2", "", "")
	_, err := srv.WaitDelivery(testCtx(t), isFee(id))
	require.NoError(t, err)

	var calls struct{ Calls []ctlCall }
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/calls?number="+url.QueryEscape("+8613500000001"), nil, &calls))
	require.Len(t, calls.Calls, 1)
	c := calls.Calls[0]
	assert.Equal(t, id, c.SessionID)
	assert.Equal(t, "callVerify", c.API)
	assert.Equal(t, "+8613500000001", c.Callee)
	assert.Equal(t, "2468", c.VerifyCode)
	assert.Equal(t, "answered", c.Scenario)
	assert.True(t, c.Ended)
	require.NotNil(t, c.StateCode)
	assert.Equal(t, 0, *c.StateCode)
	assert.Equal(t, []string{"callout", "alerting", "answer", "disconnect"}, eventNames(c))
	require.NotNil(t, c.Events[3].StateCode, "the disconnect carries its stateCode")

	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/calls?session="+url.QueryEscape(other), nil, &calls))
	require.Len(t, calls.Calls, 1)
	assert.Equal(t, other, calls.Calls[0].SessionID)
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/calls?since="+before.Format(time.RFC3339Nano), nil, &calls))
	assert.Len(t, calls.Calls, 2)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/calls?since="+future, nil, &calls))
	assert.Empty(t, calls.Calls)
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/calls?until="+before.Format(time.RFC3339Nano), nil, &calls))
	assert.Empty(t, calls.Calls)

	var one ctlCall
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/calls/"+url.PathEscape(id), nil, &one))
	assert.Equal(t, "2468", one.VerifyCode)
	assert.Equal(t, http.StatusNotFound, ctl(t, srv, "GET", "/_sandbox/v1/calls/nope", nil, nil))

	var ds struct{ Deliveries []ctlDelivery }
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/deliveries?session="+url.QueryEscape(id), nil, &ds))
	require.Len(t, ds.Deliveries, 5, "four status events and a CDR batch")
	for i, d := range ds.Deliveries {
		assert.Contains(t, d.SessionIDs, id)
		assert.Equal(t, 200, d.Status)
		assert.True(t, d.OK)
		assert.Equal(t, `{"resultcode":"0"}`, d.Answer, "the receiver's answer is kept")
		assert.GreaterOrEqual(t, d.LatencyMS, 0.0)
		assert.Positive(t, d.ID)
		if i > 0 {
			assert.Greater(t, d.ID, ds.Deliveries[i-1].ID)
		}
	}
	fee := ds.Deliveries[4]
	assert.Equal(t, "fee", fee.Kind)
	assert.Equal(t, rcURL+"/fee", fee.URL)
	assert.Contains(t, string(fee.Body), `"feeLst"`)
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/deliveries?kind=status&number="+url.QueryEscape("+8613500000002"), nil, &ds))
	require.Len(t, ds.Deliveries, 4, "only the other call's status events")
	for _, d := range ds.Deliveries {
		assert.Equal(t, []string{other}, d.SessionIDs)
		assert.Equal(t, "status", d.Kind)
	}
	assert.Equal(t, http.StatusBadRequest, ctl(t, srv, "GET", "/_sandbox/v1/deliveries?kind=sms", nil, nil))

	// Control requests are not platform requests.
	for _, r := range srv.Requests() {
		assert.NotContains(t, r.Path, "/_sandbox/")
	}
}

func TestControlRequests(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithControlAPI(), voicetest.WithTimeScale(0))
	id := placeCall(t, srv, "+8613500000001", "", "", "")
	bad, err := voicecall.NewClient(srv.URL, voicetest.DefaultAppKey, "wrong")
	require.NoError(t, err)
	_, err = bad.CallVerify(testCtx(t), &voicecall.CallVerifyRequest{DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000009",
		LanguageType: 2, PreTone: "p.wav", VerifyCode: "1357"})
	require.Error(t, err)

	var out struct {
		Requests []struct {
			Seq        int
			API        string
			Callee     string
			Verdict    string
			Problems   []string
			ResultCode string `json:"resultcode"`
			SessionID  string `json:"sessionId"`
			Body       json.RawMessage
		}
	}
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/requests", nil, &out))
	require.Len(t, out.Requests, 2)
	ok, refused := out.Requests[0], out.Requests[1]
	assert.Equal(t, "accepted", ok.Verdict)
	assert.Equal(t, id, ok.SessionID)
	assert.Empty(t, ok.Problems)
	assert.Equal(t, "refused", refused.Verdict)
	assert.Equal(t, "1023006", refused.ResultCode)
	require.Len(t, refused.Problems, 1)
	assert.Contains(t, refused.Problems[0], "PasswordDigest does not match")
	assert.Equal(t, "+8613500000009", refused.Callee)
	assert.Contains(t, string(refused.Body), `"1357"`, "the body is shown: it is a fake")

	var raw json.RawMessage
	ctl(t, srv, "GET", "/_sandbox/v1/requests", nil, &raw)
	assert.NotContains(t, string(raw), "PasswordDigest=", "the X-AKSK header is not shown")
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/requests?number="+url.QueryEscape("+8613500000009"), nil, &out))
	require.Len(t, out.Requests, 1)
	assert.Equal(t, "refused", out.Requests[0].Verdict)
}

func TestControlRepush(t *testing.T) {
	t.Parallel()
	rcURL, got := answeringReceiver(t)
	srv := voicetest.Start(t, voicetest.WithControlAPI(), voicetest.WithTimeScale(0), voicetest.WithNotifyURLs("", rcURL))
	id := placeCall(t, srv, "+8613500000001", "", "", "")
	fee, err := srv.WaitDelivery(testCtx(t), isFee(id))
	require.NoError(t, err)
	first := <-got

	var d ctlDelivery
	require.Equal(t, http.StatusOK, ctl(t, srv, "POST", "/_sandbox/v1/deliveries/"+strconv.Itoa(fee.Seq)+"/repush", nil, &d))
	assert.Equal(t, fee.Seq, d.RepushOf)
	assert.Greater(t, d.ID, fee.Seq)
	assert.Equal(t, 200, d.Status)
	select {
	case again := <-got:
		assert.Equal(t, first, again, "the same notification, pushed again")
	case <-testCtx(t).Done():
		t.Fatal("the receiver got no re-push")
	}
	// Each call is one more push; the Go API does the same.
	d2, err := srv.Repush(fee.Seq)
	require.NoError(t, err)
	assert.Equal(t, fee.Seq, d2.RepushOf)
	assert.Greater(t, d2.Seq, d.ID)
	<-got

	assert.Equal(t, http.StatusNotFound, ctl(t, srv, "POST", "/_sandbox/v1/deliveries/9999/repush", nil, nil))
	assert.Equal(t, http.StatusBadRequest, ctl(t, srv, "POST", "/_sandbox/v1/deliveries/x/repush", nil, nil))
	_, err = srv.Repush(9999)
	assert.ErrorIs(t, err, voicetest.ErrNoDelivery)
}

func TestControlFaults(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithControlAPI(), voicetest.WithTimeScale(0))
	client, err := srv.NewClient(voicecall.WithRetry(voicecall.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	req := &voicecall.CallVerifyRequest{DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001", LanguageType: 2, PreTone: "p.wav", VerifyCode: "1234"}

	var faults struct {
		Faults []struct {
			Action string
			Code   string
			Count  int
			API    string
		}
	}
	require.Equal(t, http.StatusOK, ctl(t, srv, "POST", "/_sandbox/v1/faults", map[string]any{"action": "result-code", "code": "1010010", "api": "callVerify"}, &faults))
	require.Len(t, faults.Faults, 1)
	assert.Equal(t, "result-code", faults.Faults[0].Action)
	assert.Equal(t, 1, faults.Faults[0].Count)

	// A fault on another API does not touch callVerify.
	require.Equal(t, http.StatusOK, ctl(t, srv, "POST", "/_sandbox/v1/faults", map[string]any{"action": "html-error", "api": "callStop", "count": -1}, nil))

	_, err = client.CallVerify(testCtx(t), req)
	var apiErr *voicecall.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, voicecall.CodeFlowControl, apiErr.Code)
	_, err = client.CallVerify(testCtx(t), req)
	require.NoError(t, err, "the fault was for one request")

	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/faults", nil, &faults))
	require.Len(t, faults.Faults, 1)
	assert.Equal(t, "html-error", faults.Faults[0].Action)
	assert.Equal(t, -1, faults.Faults[0].Count)
	require.Equal(t, http.StatusOK, ctl(t, srv, "DELETE", "/_sandbox/v1/faults", nil, nil))
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/faults", nil, &faults))
	assert.Empty(t, faults.Faults)

	// A callee's fault, on every request for it.
	require.Equal(t, http.StatusOK, ctl(t, srv, "POST", "/_sandbox/v1/faults", map[string]any{"action": "drop", "callee": "+8613500000077", "count": -1}, nil))
	other := *req
	other.CalleeNumber = "+8613500000077"
	for range 2 {
		_, err = client.CallVerify(testCtx(t), &other)
		require.Error(t, err)
		assert.ErrorIs(t, err, voicecall.ErrOutcomeUnknown)
	}
	_, err = client.CallVerify(testCtx(t), req)
	require.NoError(t, err)

	var e struct{ Error string }
	for body, field := range map[string]string{
		`{"action":"explode"}`:                    "action:",
		`{"action":"result-code"}`:                "non-zero Code",
		`{"action":"drop","count":0}`:             "count:",
		`{"action":"drop","api":"sms"}`:           "api:",
		`{"action":"drop","delayMs":-5}`:          "delayMs:",
		`{"action":"drop","surprise":true}`:       "surprise",
		`not json`:                                "body:",
		`{"action":"html-error","httpStatus":42}`: "HTTP status 42",
	} {
		r, err := http.NewRequestWithContext(testCtx(t), "POST", srv.URL+"/_sandbox/v1/faults", strings.NewReader(body))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		assert.Contains(t, e.Error, field, body)
		assert.True(t, strings.HasPrefix(e.Error, "voicetest: "), e.Error)
	}
}

func TestControlScenarioAndReset(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithControlAPI(), voicetest.WithTimeScale(0), voicetest.WithCalleeScenario("+8613500000005", voicetest.ScenarioRejected))
	var sc struct {
		Default string
		Numbers map[string]string
	}
	require.Equal(t, http.StatusOK, ctl(t, srv, "POST", "/_sandbox/v1/scenarios", map[string]string{"number": "+8613500000001", "scenario": "busy"}, &sc))
	assert.Equal(t, "busy", sc.Numbers["+8613500000001"])
	require.Equal(t, http.StatusOK, ctl(t, srv, "POST", "/_sandbox/v1/scenarios", map[string]string{"scenario": "powered-off"}, &sc))
	assert.Equal(t, "powered-off", sc.Default)
	assert.Equal(t, http.StatusBadRequest, ctl(t, srv, "POST", "/_sandbox/v1/scenarios", map[string]string{"scenario": "flying"}, nil))

	busy := placeCall(t, srv, "+8613500000001", "", "", "")
	off := placeCall(t, srv, "+8613500000002", "", "", "")
	for id, want := range map[string]voicecall.StateCode{busy: 8102, off: 8104} {
		c, err := srv.WaitCall(testCtx(t), func(c voicetest.Call) bool { return c.SessionID == id && c.Ended })
		require.NoError(t, err)
		assert.Equal(t, want, c.StateCode)
	}

	// The next call's scenario, once, whatever the number's.
	var next struct{ Next string }
	require.Equal(t, http.StatusOK, ctl(t, srv, "POST", "/_sandbox/v1/scenarios", map[string]any{"scenario": "rejected", "next": true}, &next))
	assert.Equal(t, "rejected", next.Next)
	assert.Equal(t, http.StatusBadRequest, ctl(t, srv, "POST", "/_sandbox/v1/scenarios", map[string]any{"number": "+8613500000001", "scenario": "busy", "next": true}, nil))
	first := placeCall(t, srv, "+8613500000001", "", "", "")
	second := placeCall(t, srv, "+8613500000001", "", "", "")
	for id, want := range map[string]voicecall.StateCode{first: 8004, second: 8102} {
		c, err := srv.WaitCall(testCtx(t), func(c voicetest.Call) bool { return c.SessionID == id && c.Ended })
		require.NoError(t, err)
		assert.Equal(t, want, c.StateCode)
	}
	ctl(t, srv, "GET", "/_sandbox/v1/scenarios", nil, &next)
	assert.Empty(t, next.Next, "used up")
	assert.Error(t, srv.SetNextScenario("flying"))
	require.NoError(t, srv.SetNextScenario(voicetest.ScenarioBusy))

	for range 2 { // safe to repeat
		require.Equal(t, http.StatusOK, ctl(t, srv, "POST", "/_sandbox/v1/reset", nil, nil))
	}
	assert.Empty(t, srv.Calls())
	assert.Empty(t, srv.Requests())
	assert.Empty(t, srv.Deliveries())
	sc.Numbers = nil
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/scenarios", nil, &sc))
	assert.Equal(t, "answered", sc.Default, "back to the options")
	assert.Equal(t, map[string]string{"+8613500000005": "rejected"}, sc.Numbers)
	ctl(t, srv, "GET", "/_sandbox/v1/scenarios", nil, &next)
	assert.Empty(t, next.Next, "reset forgets the next call's scenario")

	id := placeCall(t, srv, "+8613500000001", "", "", "")
	c, err := srv.WaitCall(testCtx(t), func(c voicetest.Call) bool { return c.SessionID == id && c.Ended })
	require.NoError(t, err)
	assert.Equal(t, voicetest.ScenarioAnswered, c.Scenario)
	assert.NotEqual(t, busy, id, "session ids are not given twice")
	var calls struct{ Calls []ctlCall }
	ctl(t, srv, "GET", "/_sandbox/v1/calls", nil, &calls)
	require.Len(t, calls.Calls, 1)
	assert.Equal(t, id, calls.Calls[0].SessionID)
}

func TestControlListsAreBounded(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithControlAPI(), voicetest.WithTimeScale(0), voicetest.WithMaxRecords(3))
	var ids []string
	for range 5 {
		ids = append(ids, placeCall(t, srv, "+8613500000001", "", "", ""))
	}
	var calls struct{ Calls []ctlCall }
	ctl(t, srv, "GET", "/_sandbox/v1/calls", nil, &calls)
	require.Len(t, calls.Calls, 3, "the server keeps 3")
	assert.Equal(t, ids[4], calls.Calls[2].SessionID)
	ctl(t, srv, "GET", "/_sandbox/v1/calls?limit=2", nil, &calls)
	require.Len(t, calls.Calls, 2)
	assert.Equal(t, []string{ids[3], ids[4]}, []string{calls.Calls[0].SessionID, calls.Calls[1].SessionID}, "the newest, oldest first")
	var e struct{ Error string }
	assert.Equal(t, http.StatusBadRequest, ctl(t, srv, "GET", "/_sandbox/v1/calls?limit=0", nil, &e))
	assert.Contains(t, e.Error, "limit")
	assert.Equal(t, http.StatusBadRequest, ctl(t, srv, "GET", "/_sandbox/v1/requests?since=yesterday", nil, &e))
	assert.Contains(t, e.Error, "since")
}

func TestControlHealthAndConsole(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithControlAPI(), voicetest.WithPorts(1), voicetest.WithScenario(voicetest.ScenarioLongCall))
	var h struct{ Status string }
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/healthz", nil, &h))
	assert.Equal(t, "ok", h.Status)
	var ready struct {
		Status    string
		FreePorts int
	}
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/readyz", nil, &ready))
	assert.Equal(t, 1, ready.FreePorts)
	id := placeCall(t, srv, "+8613500000001", "", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, ctl(t, srv, "GET", "/_sandbox/v1/readyz", nil, &ready), "every port is busy")
	client, err := srv.NewClient()
	require.NoError(t, err)
	_, err = client.CallStop(testCtx(t), &voicecall.CallStopRequest{SessionID: id})
	require.NoError(t, err)
	_, err = srv.WaitCall(testCtx(t), func(c voicetest.Call) bool { return c.SessionID == id && c.Ended })
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/readyz", nil, &ready))

	assert.Equal(t, http.StatusNotFound, ctl(t, srv, "GET", "/_sandbox/v1/nothing", nil, nil))
	var e struct{ Error string }
	assert.Equal(t, http.StatusNotFound, ctl(t, srv, "DELETE", "/_sandbox/v1/calls", nil, &e))
	assert.Equal(t, "voicetest: no such endpoint: DELETE /_sandbox/v1/calls", e.Error)
	assert.Equal(t, http.StatusMethodNotAllowed, ctl(t, srv, "POST", "/_sandbox/", nil, nil))

	for path, want := range map[string]string{"/_sandbox/": "<title>voicecall sandbox</title>", "/_sandbox/console.js": "/_sandbox/v1", "/_sandbox/console.css": "body"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, string(b), want, path)
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'", path)
	}

	// A page of another origin cannot steer the sandbox.
	req, err := http.NewRequestWithContext(testCtx(t), "POST", srv.URL+"/_sandbox/v1/reset", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "http://evil.example")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.NotEmpty(t, srv.Calls(), "not reset")
}

func TestControlAPIIsOptIn(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	resp, err := http.Get(srv.URL + "/_sandbox/v1/healthz")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, string(b), "1010006")
	require.Len(t, srv.Requests(), 1, "an unknown path, recorded as such")
}

// TestMagicNumbers places a call to every magic number through the SDK
// and checks that it goes the way the table says.
func TestMagicNumbers(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithMagicNumbers(), voicetest.WithTimeScale(0), voicetest.WithScenario(voicetest.ScenarioBusy))
	client, err := srv.NewClient()
	require.NoError(t, err)
	ctx := testCtx(t)
	ended := func(id string) voicetest.Call {
		t.Helper()
		c, err := srv.WaitCall(ctx, func(c voicetest.Call) bool { return c.SessionID == id && c.Ended })
		require.NoError(t, err)
		return c
	}
	scenarios := map[voicetest.Scenario]bool{}
	for _, m := range voicetest.MagicNumbers() {
		if m.Digits != "" || m.Scenario == voicetest.ScenarioLongCall {
			continue
		}
		scenarios[m.Scenario] = true
		id := placeCall(t, srv, m.Number, "", "", "")
		c := ended(id)
		assert.Equal(t, m.Scenario, c.Scenario, m.Number)
		assert.Equal(t, m.Scenario.StateCode(), c.StateCode, m.Number)
		assert.Equal(t, m.Number[len(m.Number)-4:], strconv.Itoa(int(c.StateCode) + 10000)[1:], "the last 4 digits are the stateCode")
	}
	for _, sc := range []voicetest.Scenario{voicetest.ScenarioAnswered, voicetest.ScenarioNoAnswer, voicetest.ScenarioBusy,
		voicetest.ScenarioPoweredOff, voicetest.ScenarioRejected, voicetest.ScenarioNotExist} {
		assert.True(t, scenarios[sc], "a magic number for %s", sc)
	}

	// The long call is still in progress (on a server whose timeline
	// advances): stop it.
	slow := voicetest.Start(t, voicetest.WithMagicNumbers())
	long := placeCall(t, slow, "+8610000003600", "", "", "")
	_, err = slow.WaitCall(ctx, func(c voicetest.Call) bool {
		return c.SessionID == long && len(c.Events) > 0 && c.Events[len(c.Events)-1].Type == voicecall.EventAnswer
	})
	require.NoError(t, err)
	slowClient, err := slow.NewClient()
	require.NoError(t, err)
	_, err = slowClient.CallStop(ctx, &voicecall.CallStopRequest{SessionID: long})
	require.NoError(t, err)
	c, err := slow.WaitCall(ctx, func(c voicetest.Call) bool { return c.SessionID == long && c.Ended })
	require.NoError(t, err)
	assert.True(t, c.Stopped)
	assert.Equal(t, voicetest.ScenarioLongCall, c.Scenario)

	// A key press number: the callee presses its last digit.
	for _, key := range []string{"0", "7"} {
		n, err := client.CallNotify(ctx, &voicecall.CallNotifyRequest{DisplayNumber: "+8675528000088", CalleeNumber: "+861000000100" + key,
			PlayInfoList: []voicecall.PlayInfo{{NotifyVoice: "n.wav", CollectDigits: 1}}})
		require.NoError(t, err)
		c = ended(n.SessionID)
		assert.Equal(t, []string{key}, c.Digits)
		assert.Equal(t, voicetest.ScenarioAnswered, c.Scenario, "a key press number answers, whatever the default")
		assert.Equal(t, voicecall.EventCollectInfo, c.Events[3].Type)
		assert.Equal(t, key, c.Events[3].Digits)
	}

	// The number's own scenario wins over the table.
	require.NoError(t, srv.SetScenario("+8610000008102", voicetest.ScenarioAnswered))
	c = ended(placeCall(t, srv, "+8610000008102", "", "", ""))
	assert.Equal(t, voicetest.ScenarioAnswered, c.Scenario)

	// Without the option, a magic number is an ordinary number.
	plain := voicetest.Start(t, voicetest.WithTimeScale(0))
	id := placeCall(t, plain, "+8610000008102", "", "", "")
	c, err = plain.WaitCall(ctx, func(c voicetest.Call) bool { return c.SessionID == id && c.Ended })
	require.NoError(t, err)
	assert.Equal(t, voicetest.ScenarioAnswered, c.Scenario)
}

func TestControlRecordingsAndDigits(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithControlAPI(), voicetest.WithTimeScale(0))
	client, err := srv.NewClient()
	require.NoError(t, err)
	ctx := testCtx(t)
	cb, err := client.Click2Call(ctx, &voicecall.Click2CallRequest{DisplayNumber: "+8675528000088", CallerNumber: "+8613500000011",
		DisplayCalleeNumber: "+8675528000088", CalleeNumber: "+8613500000022", Record: true})
	require.NoError(t, err)
	_, err = srv.WaitCall(ctx, func(c voicetest.Call) bool { return c.SessionID == cb.SessionID && c.Ended })
	require.NoError(t, err)
	var recs struct {
		Recordings []struct {
			SessionID, FileName, Location string
			Size                          int
		}
	}
	require.Equal(t, http.StatusOK, ctl(t, srv, "GET", "/_sandbox/v1/recordings?session="+url.QueryEscape(cb.SessionID), nil, &recs))
	require.Len(t, recs.Recordings, 1)
	assert.Equal(t, cb.SessionID, recs.Recordings[0].SessionID)
	assert.True(t, strings.HasPrefix(recs.Recordings[0].Location, srv.DownloadURL), recs.Recordings[0].Location)
	ctl(t, srv, "GET", "/_sandbox/v1/recordings?session=other", nil, &recs)
	assert.Empty(t, recs.Recordings)
	var calls struct{ Calls []ctlCall }
	ctl(t, srv, "GET", "/_sandbox/v1/calls?number="+url.QueryEscape("+8613500000011"), nil, &calls)
	require.Len(t, calls.Calls, 1, "a click-to-call is found by its caller too")

	require.Equal(t, http.StatusOK, ctl(t, srv, "POST", "/_sandbox/v1/digits", map[string]any{"number": "+8613500000033", "presses": []string{"42#"}}, nil))
	assert.Equal(t, http.StatusBadRequest, ctl(t, srv, "POST", "/_sandbox/v1/digits", map[string]any{"presses": []string{"x"}}, nil))
	n, err := client.CallNotify(ctx, &voicecall.CallNotifyRequest{DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000033",
		PlayInfoList: []voicecall.PlayInfo{{NotifyVoice: "n.wav", CollectDigits: 3}}})
	require.NoError(t, err)
	ctl(t, srv, "GET", "/_sandbox/v1/calls?session="+url.QueryEscape(n.SessionID), nil, &calls)
	require.Len(t, calls.Calls, 1)
	if !calls.Calls[0].Ended {
		_, err = srv.WaitCall(ctx, func(c voicetest.Call) bool { return c.SessionID == n.SessionID && c.Ended })
		require.NoError(t, err)
		ctl(t, srv, "GET", "/_sandbox/v1/calls?session="+url.QueryEscape(n.SessionID), nil, &calls)
	}
	assert.Equal(t, []string{"42#"}, calls.Calls[0].Digits)
}
