package voicecall

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func minimalCallbackRequest() *Click2CallRequest {
	return &Click2CallRequest{DisplayNumber: "+8675528000088", CallerNumber: "+8613500000011",
		DisplayCalleeNumber: "+8675528000099", CalleeNumber: "+8613500000022", UserData: "order-42"}
}

func fullCallbackRequest() *Click2CallRequest {
	return &Click2CallRequest{
		DisplayNumber:         "+8675528000088",
		CallerNumber:          "+8613500000011",
		DisplayCalleeNumber:   "+8675528000099",
		CalleeNumber:          "+8613500000022",
		MaxDuration:           60,
		LastMinuteVoice:       "lastmin.wav",
		LastMinuteTo:          LastMinuteToCaller,
		PlayPreVoice:          true,
		PreVoice:              "pre.wav",
		WaitVoice:             "wait.wav",
		CalleeMedia:           CalleeMediaNone,
		StatusURL:             "https://example.com:9330/status",
		FeeURL:                "https://www.huawei.com:9330/fee",
		Record:                true,
		RecordHintTone:        "rec.wav",
		PartyTypeInDisconnect: true,
		ReturnIdlePort:        true,
		UserData:              "customerId123",
	}
}

func TestClick2CallWireGolden(t *testing.T) {
	t.Parallel()
	cb := func(req *Click2CallRequest) func(c *Client) error {
		return func(c *Client) error { _, err := c.Click2Call(context.Background(), req); return err }
	}
	t.Run("every field", func(t *testing.T) {
		t.Parallel()
		raw := wireCall(t, okAnswer, cb(fullCallbackRequest()))
		checkGolden(t, "click2call_full.http", raw)
		m := wireBody(t, raw)
		for _, k := range []string{"playPreVoice", "recordFlag", "partyTypeRequiredInDisconnect", "returnIdlePort"} {
			assert.Equal(t, "true", m[k], "%s is a string", k)
		}
		assert.Equal(t, float64(60), m["maxDuration"], "minutes, a number")
		assert.Equal(t, "toa", m["lastMinToUE"])
		assert.Equal(t, "none", m["calleeMedia"])
	})
	t.Run("required fields only", func(t *testing.T) {
		t.Parallel()
		raw := wireCall(t, okAnswer, cb(minimalCallbackRequest()))
		checkGolden(t, "click2call_minimal.http", raw)
		m := wireBody(t, raw)
		assert.NotContains(t, m, "maxDuration", "0 (no limit) is left out")
		assert.Equal(t, "false", m["recordFlag"])
	})
}

func TestClick2CallValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(r *Click2CallRequest)
		fields []string
	}{
		{"minimal", func(*Click2CallRequest) {}, nil},
		{"every field", func(r *Click2CallRequest) { *r = *fullCallbackRequest() }, nil},
		{"1440 minutes", func(r *Click2CallRequest) { r.MaxDuration = maxCallDuration }, nil},
		{"numbers", func(r *Click2CallRequest) { r.CallerNumber, r.DisplayCalleeNumber, r.CalleeNumber = "", "x", "+86" },
			[]string{"callerNbr", "displayCalleeNbr", "calleeNbr"}},
		{"1441 minutes", func(r *Click2CallRequest) { r.MaxDuration = 1441 }, []string{"maxDuration"}},
		{"negative minutes", func(r *Click2CallRequest) { r.MaxDuration = -1 }, []string{"maxDuration"}},
		{"last-minute prompt without limit", func(r *Click2CallRequest) { r.LastMinuteVoice, r.LastMinuteTo = "l.wav", LastMinuteToBoth },
			[]string{"lastMinVoice", "lastMinToUE"}},
		{"unknown lastMinToUE", func(r *Click2CallRequest) { r.MaxDuration, r.LastMinuteTo = 5, "a" }, []string{"lastMinToUE"}},
		{"unknown calleeMedia", func(r *Click2CallRequest) { r.CalleeMedia = "ALL" }, []string{"calleeMedia"}},
		{"preVoice without playPreVoice", func(r *Click2CallRequest) { r.PreVoice = "p.wav" }, []string{"preVoice"}},
		{"hint tone without record", func(r *Click2CallRequest) { r.RecordHintTone = "r.wav" }, []string{"recordHintTone"}},
		{"long wait voice", func(r *Click2CallRequest) { r.WaitVoice = strings.Repeat("w", 129) }, []string{"waitVoice"}},
		{"urls", func(r *Click2CallRequest) { r.StatusURL, r.FeeURL = "/relative", "mailto:x" }, []string{"statusUrl", "feeUrl"}},
		{"userData", func(r *Click2CallRequest) { r.UserData = "订单" }, []string{"userData"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := minimalCallbackRequest()
			tt.modify(r)
			err := r.Validate()
			if tt.fields == nil {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, tt.fields, invalidFields(t, err, "Click2Call"))
		})
	}
}
