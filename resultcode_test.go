package voicecall

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestResultCodePredicates(t *testing.T) {
	t.Parallel()
	type preds struct{ auth, skew, throttled, param, account bool }
	tests := map[ResultCode]preds{
		CodeAuthFailed:             {auth: true},
		CodeTypeInvalid:            {auth: true},
		CodeCreatedMissing:         {auth: true},
		CodeInvalidAppKey:          {auth: true},
		CodeIPBlocked:              {auth: true},
		CodeTimeOutLimit:           {skew: true},
		CodeFlowControl:            {throttled: true},
		CodePortLimit:              {throttled: true},
		CodeSPCallLimit:            {throttled: true},
		CodeDisplayNumberCallLimit: {throttled: true},
		CodeInvalidRequest:         {param: true},
		CodeInvalidDisplayNumber:   {param: true},
		CodeUserNotActive:          {account: true},
		CodeAppKeySuspended:        {account: true},
		CodeSystemError:            {},
		CodeCallTimeForbidden:      {},
		"42":                       {},
	}
	for code, want := range tests {
		e := &APIError{Code: code}
		got := preds{e.IsAuthFailure(), e.IsClockSkew(), e.IsThrottled(), e.IsInvalidParameter(), e.IsAccountState()}
		assert.Equal(t, want, got, "code %s", code)
	}
	assert.Equal(t, "1010010 (The flow control upper limit is reached on the platform.)", CodeFlowControl.String())
	assert.Equal(t, "42", ResultCode("42").String())
}
