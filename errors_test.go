package voicecall

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "accepted", OutcomeAccepted.String())
	assert.Equal(t, "rejected", OutcomeRejected.String())
	assert.Equal(t, "unknown", OutcomeUnknown.String())
	assert.Equal(t, "Outcome(7)", Outcome(7).String())
	assert.Equal(t, OutcomeRejected, OutcomeOf(errBoom))
	assert.Equal(t, OutcomeUnknown, OutcomeOf(fmt.Errorf("wrapped: %w", &RequestError{Outcome: OutcomeUnknown})))
}

func TestAPIErrorHint(t *testing.T) {
	t.Parallel()
	for code, want := range map[ResultCode]string{
		CodeTimeOutLimit:     "synchronise this machine's clock",
		CodeInvalidAppKey:    "an app of another type is refused",
		CodeAppKeyInvalid:    "does not know the app key",
		CodeIPNotWhitelisted: "white list",
		CodeIPBlocked:        "blocked for 30 minutes",
		CodeAuthFailed:       "refused the signature",
		CodeNonceMissing:     "refused the signature",
	} {
		assert.Contains(t, (&APIError{Code: code}).Hint(), want, code)
	}
	for _, code := range []ResultCode{CodeFlowControl, CodeInvalidRequest, CodeSystemError, "1099999"} {
		assert.Empty(t, (&APIError{Code: code}).Hint(), code)
	}
}
