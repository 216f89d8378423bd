package cdrbatch

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voicecall-go/voicecall"
)

func TestGenerate(t *testing.T) {
	body := Generate(50)
	assert.Equal(t, body, Generate(50), "deterministic")

	var env struct {
		EventType string           `json:"eventType"`
		FeeLst    []map[string]any `json:"feeLst"`
	}
	require.NoError(t, json.Unmarshal(body, &env))
	assert.Equal(t, "fee", env.EventType)
	require.Len(t, env.FeeLst, 50)
	for _, rec := range env.FeeLst {
		assert.Len(t, rec, Fields)
	}

	n, err := voicecall.ParseNotification(body)
	require.NoError(t, err)
	require.Len(t, n.Fees, 50)
	for i, r := range n.Fees {
		assert.Equal(t, SessionID(i), r.SessionID)
		assert.False(t, r.CallEndTime.IsZero() || r.CallOutStartTime.IsZero() || r.CallOutAlertingTime.IsZero() || r.DynIVRStartTime.IsZero())
		assert.NotEqual(t, r.FailTime.IsZero(), r.CallOutAnswerTime.IsZero(), "failed or answered")
	}
	assert.False(t, bytes.Contains(body, []byte(`\`)), "no escapes")
}
