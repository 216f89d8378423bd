package voicetest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/voicetest"
)

func notifyBody(items ...map[string]any) map[string]any {
	list := make([]any, len(items))
	for i, it := range items {
		list[i] = it
	}
	return map[string]any{"displayNbr": "+8675528000088", "calleeNbr": "+8613500000001", "playInfoList": list}
}

func TestCallNotifyChecks(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	six := make([]map[string]any, 6)
	for i := range six {
		six[i] = map[string]any{"notifyVoice": "a.wav"}
	}
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no playInfoList", map[string]any{"displayNbr": "+8675528000088", "calleeNbr": "+8613500000001"}, "playInfoList"},
		{"empty playInfoList", notifyBody(), "playInfoList"},
		{"six items", notifyBody(six...), "playInfoList"},
		{"neither voice nor template", notifyBody(map[string]any{"collectInd": 1}), "playInfoList[0]"},
		{"both voice and template", notifyBody(map[string]any{"notifyVoice": "a.wav", "templateId": "t1"}), "playInfoList[0]"},
		{"paras without template", notifyBody(map[string]any{"notifyVoice": "a.wav", "templateParas": []string{"x"}}), "playInfoList[0].templateParas"},
		{"paras not strings", notifyBody(map[string]any{"templateId": "t1", "templateParas": []int{1}}), "playInfoList[0].templateParas"},
		{"collectInd 33", notifyBody(map[string]any{"notifyVoice": "a.wav", "collectInd": 33}), "playInfoList[0].collectInd"},
		{"collectInd string", notifyBody(map[string]any{"notifyVoice": "a.wav", "collectInd": "1"}), "playInfoList[0].collectInd"},
		{"replay as JSON bool", notifyBody(map[string]any{"notifyVoice": "a.wav", "replayAfterCollection": true}), "playInfoList[0].replayAfterCollection"},
		{"trigger not keys", notifyBody(map[string]any{"notifyVoice": "a.wav", "collectContentTriggerReplaying": "a"}), "playInfoList[0].collectContentTriggerReplaying"},
		{"second item bad", notifyBody(map[string]any{"notifyVoice": "a.wav"}, map[string]any{}), "playInfoList[1]"},
		{"statusUrl raw", func() map[string]any {
			b := notifyBody(map[string]any{"notifyVoice": "a.wav"})
			b["statusUrl"] = "http://127.0.0.1/x"
			return b
		}(), "statusUrl"},
		{"returnIdlePort bool", func() map[string]any {
			b := notifyBody(map[string]any{"notifyVoice": "a.wav"})
			b["returnIdlePort"] = true
			return b
		}(), "returnIdlePort"},
	}
	for _, tt := range tests {
		a := send(t, signedRequest(t, srv, http.MethodPost, voicetest.CallNotifyPath, tt.body))
		assert.Equal(t, http.StatusForbidden, a.Status, tt.name)
		assert.Equal(t, string(voicecall.CodeInvalidRequest), a.ResultCode, tt.name)
		assert.Contains(t, a.ResultDesc, "Invalid request. "+tt.field+":", tt.name)
	}
	assert.Empty(t, srv.Calls())
}

func TestCallNotifyCollectsDigits(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	srv := voicetest.Start(t, voicetest.WithTimeScale(0), voicetest.WithCalleeDigits("+8613500000001", "42"))
	body := notifyBody(map[string]any{"templateId": "tpl1", "templateParas": []string{"3", "Friday"}, "collectInd": 2})
	body["statusUrl"], body["feeUrl"], body["userData"], body["returnIdlePort"] = b64(rc.URL), b64(rc.URL), "n-1", "true"
	a := send(t, signedRequest(t, srv, http.MethodPost, voicetest.CallNotifyPath, body))
	require.Equal(t, "0", a.ResultCode)
	assert.Regexp(t, `^1201_\d+_0_\d{14}@`, a.SessionID)
	require.NotNil(t, a.IdlePort)
	_, err := srv.WaitDelivery(testCtx(t), isFee(a.SessionID))
	require.NoError(t, err)

	evs := statusEvents(t, rc)
	assert.Equal(t, []string{"callout", "alerting", "answer", "collectInfo", "disconnect"}, eventTypes(evs))
	require.NotNil(t, evs[3].StatusInfo.DigitInfo)
	assert.Equal(t, "42", *evs[3].StatusInfo.DigitInfo)
	assert.Nil(t, evs[2].StatusInfo.DigitInfo, "digitInfo only on collectInfo")
	assert.Equal(t, 0, *evs[4].StatusInfo.StateCode)

	// The SDK reads the collectInfo event.
	n, err := voicecall.ParseNotification(rc.got()[3].Body)
	require.NoError(t, err)
	assert.Equal(t, voicecall.EventCollectInfo, n.Status.Type)
	assert.Equal(t, "42", n.Status.DigitInfo)

	c := onlyCDR(t, rc)
	assert.Equal(t, "001", c.ServiceType)
	assert.Equal(t, "42", c.DynIVRPath)
	assert.Equal(t, 1, c.TTSPlayTimes)
	assert.Equal(t, "n-1", c.UserData)
	call, err := srv.WaitCall(testCtx(t), func(c voicetest.Call) bool { return c.SessionID == a.SessionID && c.Ended })
	require.NoError(t, err)
	assert.Equal(t, []string{"42"}, call.Digits)
	assert.Equal(t, voicetest.APICallNotify, call.API)
}

// TestCallNotifyHangUpRules checks the platform's rules: hang up after
// playback without collection, after collection otherwise, unless a
// replay is asked for (and triggered).
func TestCallNotifyHangUpRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		items   []map[string]any
		presses []string
		want    []string
		digits  []string
	}{
		{"no collection plays every item", []map[string]any{{"notifyVoice": "a.wav"}, {"notifyVoice": "b.wav"}}, nil,
			[]string{"callout", "alerting", "answer", "disconnect"}, nil},
		{"collection ends the call", []map[string]any{{"notifyVoice": "a.wav", "collectInd": 1}, {"notifyVoice": "b.wav", "collectInd": 1}}, nil,
			[]string{"callout", "alerting", "answer", "collectInfo", "disconnect"}, []string{"1"}},
		{"replay on the trigger", []map[string]any{{"notifyVoice": "a.wav", "collectInd": 1, "replayAfterCollection": "true", "collectContentTriggerReplaying": "9"}},
			[]string{"9", "9", "5"}, []string{"callout", "alerting", "answer", "collectInfo", "collectInfo", "collectInfo", "disconnect"}, []string{"9", "9", "5"}},
		{"no replay on other keys", []map[string]any{{"notifyVoice": "a.wav", "collectInd": 1, "replayAfterCollection": "true", "collectContentTriggerReplaying": "9"}},
			[]string{"3"}, []string{"callout", "alerting", "answer", "collectInfo", "disconnect"}, []string{"3"}},
		{"replays are bounded", []map[string]any{{"notifyVoice": "a.wav", "collectInd": 1, "replayAfterCollection": "true"}},
			[]string{"7"}, []string{"callout", "alerting", "answer", "collectInfo", "collectInfo", "collectInfo", "collectInfo", "disconnect"}, []string{"7", "7", "7", "7"}},
		{"digits cut to collectInd", []map[string]any{{"notifyVoice": "a.wav", "collectInd": 2}}, []string{"12345"},
			[]string{"callout", "alerting", "answer", "collectInfo", "disconnect"}, []string{"12"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t)
			srv := voicetest.Start(t, voicetest.WithTimeScale(0))
			if tt.presses != nil {
				srv.SetDigits("+8613500000001", tt.presses...)
			}
			body := notifyBody(tt.items...)
			body["statusUrl"] = b64(rc.URL)
			id := placeRaw(t, srv, voicetest.CallNotifyPath, body)
			call, err := srv.WaitCall(testCtx(t), func(c voicetest.Call) bool { return c.SessionID == id && c.Ended })
			require.NoError(t, err)
			assert.Equal(t, tt.want, eventTypes(statusEvents(t, rc)))
			assert.Equal(t, tt.digits, call.Digits)
		})
	}
}

func TestCallNotifyUnanswered(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	srv := voicetest.Start(t, voicetest.WithTimeScale(0), voicetest.WithScenario(voicetest.ScenarioBusy))
	body := notifyBody(map[string]any{"notifyVoice": "a.wav", "collectInd": 1})
	body["statusUrl"], body["feeUrl"] = b64(rc.URL), b64(rc.URL)
	id := placeRaw(t, srv, voicetest.CallNotifyPathV1, body) // the demos' v1.0 path is served too
	_, err := srv.WaitDelivery(testCtx(t), isFee(id))
	require.NoError(t, err)
	evs := statusEvents(t, rc)
	assert.Equal(t, []string{"callout", "disconnect"}, eventTypes(evs))
	assert.Equal(t, 8102, *evs[1].StatusInfo.StateCode)
	c := onlyCDR(t, rc)
	assert.Empty(t, c.DynIVRPath)
	assert.Equal(t, 518, c.ULFailReason)
}
