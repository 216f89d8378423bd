package voicetest

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecodeRequestBody runs the body checks of every API on arbitrary
// input: they never panic, and a body they accept holds only what the
// platform documents.
func FuzzDecodeRequestBody(f *testing.F) {
	for _, s := range []string{
		`{"displayNbr":"+8675528000088","calleeNbr":"+8613500000001","languageType":2,"preTone":"p.wav","verifyCode":"1234"}`,
		`{"displayNbr":"+8675528000088","calleeNbr":"+8613500000001","playInfoList":[{"templateId":"t","templateParas":["a"],"collectInd":2,"replayAfterCollection":"true","collectContentTriggerReplaying":"1"}]}`,
		`{"displayNbr":"+8675528000088","callerNbr":"+8613500000011","displayCalleeNbr":"+8675528000099","calleeNbr":"+8613500000022","maxDuration":60,"lastMinToUE":"both","calleeMedia":"all","recordFlag":"true"}`,
		`{"sessionid":"1202_1_0_20260101000000@h","signal":"call_stop"}`,
		`{"playInfoList":[{},{"notifyVoice":1}]}`, `[]`, `{"maxDuration":1e3}`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		raw := []byte(body)
		if b, field, _ := decodeBody(raw); field == "" {
			if b.VerifyCode == "" || len(b.VerifyCode) > maxCodeLen || (b.Times != nil && (*b.Times < 0 || *b.Times > maxTimes)) {
				t.Fatalf("accepted a bad callVerify body: %q", body)
			}
		}
		if b, field, _ := decodeNotifyBody(raw); field == "" {
			if len(b.PlayInfoList) < 1 || len(b.PlayInfoList) > maxPlayInfos {
				t.Fatalf("accepted %d play items", len(b.PlayInfoList))
			}
			for _, pi := range b.PlayInfoList {
				if (pi.NotifyVoice == "") == (pi.TemplateID == "") || (pi.CollectInd != nil && (*pi.CollectInd < 0 || *pi.CollectInd > maxCollectInd)) {
					t.Fatalf("accepted a bad play item: %+v", pi)
				}
			}
		}
		if b, field, _ := decodeClick2CallBody(raw); field == "" {
			if b.CallerNbr == "" || b.CalleeNbr == "" || (b.MaxDuration != nil && (*b.MaxDuration < 0 || *b.MaxDuration > maxDurationLimit)) {
				t.Fatalf("accepted a bad click2Call body: %+v", b)
			}
			for _, v := range []string{b.RecordFlag, b.PlayPreVoice, b.PartyTypeRequiredInDisconnect, b.ReturnIdlePort} {
				if v != "" && v != "true" && v != "false" {
					t.Fatalf("accepted boolean %q", v)
				}
			}
		}
		if b, field, _ := decodeStopBody(raw); field == "" && (b.SessionID == "" || b.Signal != SignalCallStop) {
			t.Fatalf("accepted a bad callStop body: %+v", b)
		}
		if !json.Valid(raw) && strings.TrimSpace(body) != "" {
			if _, field, _ := decodeStopBody(raw); field != "body" {
				t.Fatalf("invalid JSON not refused as the body: %q", body)
			}
		}
	})
}
