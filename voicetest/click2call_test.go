package voicetest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/voicetest"
)

const (
	callerA = "+8613500000011"
	calleeB = "+8613500000022"
)

func click2CallBody() map[string]any {
	return map[string]any{"displayNbr": "+8675528000088", "callerNbr": callerA, "displayCalleeNbr": "+8675528000099", "calleeNbr": calleeB}
}

func TestClick2CallChecks(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	with := func(k string, v any) map[string]any { b := click2CallBody(); b[k] = v; return b }
	without := func(k string) map[string]any { b := click2CallBody(); delete(b, k); return b }
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no callerNbr", without("callerNbr"), "callerNbr"},
		{"no displayCalleeNbr", without("displayCalleeNbr"), "displayCalleeNbr"},
		{"bad calleeNbr", with("calleeNbr", "13500000022"), "calleeNbr"},
		{"maxDuration 1441", with("maxDuration", 1441), "maxDuration"},
		{"maxDuration negative", with("maxDuration", -1), "maxDuration"},
		{"maxDuration string", with("maxDuration", "60"), "maxDuration"},
		{"lastMinToUE", with("lastMinToUE", "A"), "lastMinToUE"},
		{"calleeMedia", with("calleeMedia", "some"), "calleeMedia"},
		{"playPreVoice bool", with("playPreVoice", true), "playPreVoice"},
		{"recordFlag yes", with("recordFlag", "yes"), "recordFlag"},
		{"partyTypeRequiredInDisconnect bool", with("partyTypeRequiredInDisconnect", false), "partyTypeRequiredInDisconnect"},
		{"feeUrl not base64", with("feeUrl", "http://x"), "feeUrl"},
		{"userData braces", with("userData", "{x}"), "userData"},
	}
	for _, tt := range tests {
		a := send(t, signedRequest(t, srv, http.MethodPost, voicetest.Click2CallPath, tt.body))
		assert.Equal(t, string(voicecall.CodeInvalidRequest), a.ResultCode, tt.name)
		assert.Contains(t, a.ResultDesc, "Invalid request. "+tt.field+":", tt.name)
	}
	assert.Empty(t, srv.Calls())

	// Every documented field at once is accepted.
	full := click2CallBody()
	for k, v := range map[string]any{"maxDuration": 60, "lastMinVoice": "last.wav", "lastMinToUE": "both", "playPreVoice": "true",
		"preVoice": "pre.wav", "waitVoice": "wait.wav", "calleeMedia": "none", "statusUrl": b64("https://example.com/s"),
		"feeUrl": b64("https://example.com/f"), "recordFlag": "true", "recordHintTone": "rec.wav",
		"partyTypeRequiredInDisconnect": "true", "returnIdlePort": "false", "userData": "u"} {
		full[k] = v
	}
	placeRaw(t, srv, voicetest.Click2CallPath, full)
}

func TestClick2CallBothLegs(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	srv := voicetest.Start(t, voicetest.WithTimeScale(0))
	body := click2CallBody()
	body["statusUrl"], body["feeUrl"], body["partyTypeRequiredInDisconnect"], body["userData"] = b64(rc.URL), b64(rc.URL), "true", "cb"
	id := placeRaw(t, srv, voicetest.Click2CallPath, body)
	assert.Regexp(t, `^1202_`, id)
	_, err := srv.WaitDelivery(testCtx(t), isFee(id))
	require.NoError(t, err)

	evs := statusEvents(t, rc)
	assert.Equal(t, []string{"callout", "alerting", "answer", "callout", "alerting", "answer", "disconnect"}, eventTypes(evs))
	for i, ev := range evs[:3] {
		assert.Equal(t, "+8675528000088", ev.StatusInfo.Caller, i)
		assert.Equal(t, callerA, ev.StatusInfo.Called, "A first")
	}
	for _, ev := range evs[3:] {
		assert.Equal(t, "+8675528000099", ev.StatusInfo.Caller)
		assert.Equal(t, calleeB, ev.StatusInfo.Called, "then B")
		assert.Equal(t, id, ev.StatusInfo.SessionID, "one session for both legs")
	}
	disc := evs[6].StatusInfo
	assert.Equal(t, string(voicecall.PartyTypeCallee), disc.PartyType)
	assert.Equal(t, 0, *disc.StateCode)

	n, err := voicecall.ParseNotification(rc.got()[6].Body)
	require.NoError(t, err)
	assert.Equal(t, voicecall.PartyTypeCallee, n.Status.PartyType)

	c := onlyCDR(t, rc)
	assert.Equal(t, "002", c.ServiceType)
	assert.Equal(t, "+8675528000088", c.CallerNum)
	assert.Equal(t, callerA, c.CalleeNum)
	assert.Equal(t, "+8675528000099", c.FwdDisplayNum)
	assert.Equal(t, calleeB, c.FwdDstNum)
	assert.Equal(t, evs[3].StatusInfo.Timestamp, c.FwdStartTime)
	assert.Equal(t, evs[4].StatusInfo.Timestamp, c.FwdAlertingTime)
	assert.Equal(t, evs[5].StatusInfo.Timestamp, c.FwdAnswerTime)
	assert.Equal(t, evs[2].StatusInfo.Timestamp, c.CallOutAnswerTime)
	require.NotNil(t, c.FwdUnaswRsn)
	assert.Equal(t, 0, *c.FwdUnaswRsn)
	assert.Equal(t, 0, c.RecordFlag)
	assert.Empty(t, c.RecordObjectName)

	f, err := voicecall.ParseNotification(rc.got()[len(rc.got())-1].Body)
	require.NoError(t, err)
	require.Len(t, f.Fees, 1)
	assert.Equal(t, calleeB, f.Fees[0].FwdDstNum)
	assert.Equal(t, 14*1e9, float64(f.Fees[0].ForwardDuration()))
}

func TestClick2CallLegFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      []voicetest.Option
		events    []string
		stateCode int
		party     string
		fwdQ850   int
	}{
		{"caller busy", []voicetest.Option{voicetest.WithCalleeScenario(callerA, voicetest.ScenarioBusy)},
			[]string{"callout", "disconnect"}, 8108, string(voicecall.PartyTypeCaller), 0},
		{"caller does not answer", []voicetest.Option{voicetest.WithCalleeScenario(callerA, voicetest.ScenarioNoAnswer)},
			[]string{"callout", "alerting", "disconnect"}, 8107, string(voicecall.PartyTypeCaller), 0},
		{"callee busy", []voicetest.Option{voicetest.WithCalleeScenario(calleeB, voicetest.ScenarioBusy)},
			[]string{"callout", "alerting", "answer", "callout", "disconnect"}, 8102, string(voicecall.PartyTypeCallee), 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t)
			srv := voicetest.Start(t, append(tt.opts, voicetest.WithTimeScale(0))...)
			body := click2CallBody()
			body["statusUrl"], body["feeUrl"], body["partyTypeRequiredInDisconnect"] = b64(rc.URL), b64(rc.URL), "true"
			id := placeRaw(t, srv, voicetest.Click2CallPath, body)
			_, err := srv.WaitDelivery(testCtx(t), isFee(id))
			require.NoError(t, err)
			evs := statusEvents(t, rc)
			assert.Equal(t, tt.events, eventTypes(evs))
			last := evs[len(evs)-1].StatusInfo
			assert.Equal(t, tt.stateCode, *last.StateCode)
			assert.Equal(t, tt.party, last.PartyType)
			c := onlyCDR(t, rc)
			require.NotNil(t, c.FwdUnaswRsn)
			assert.Equal(t, tt.fwdQ850, *c.FwdUnaswRsn)
			assert.Empty(t, c.FwdAnswerTime)
		})
	}
}

func TestClick2CallMaxDurationAndNoPartyType(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	srv := voicetest.Start(t, voicetest.WithTimeScale(0), voicetest.WithCalleeScenario(calleeB, voicetest.ScenarioLongCall))
	body := click2CallBody()
	body["statusUrl"], body["maxDuration"] = b64(rc.URL), 2
	id := placeRaw(t, srv, voicetest.Click2CallPath, body)
	call, err := srv.WaitCall(testCtx(t), func(c voicetest.Call) bool { return c.SessionID == id && c.Ended })
	require.NoError(t, err)
	assert.Equal(t, voicecall.StateMaxDurationReached, call.StateCode)
	evs := statusEvents(t, rc)
	last := evs[len(evs)-1].StatusInfo
	assert.Empty(t, last.PartyType, "partyType only when asked for")
	assert.Equal(t, 8010, *last.StateCode)
}
