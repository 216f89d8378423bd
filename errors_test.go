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
