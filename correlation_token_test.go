package voicecall

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNewCorrelationToken(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		tok := NewCorrelationToken()
		assert.True(t, IsCorrelationToken(tok), tok)
		assert.Empty(t, userDataProblem(tok))
		assert.False(t, seen[tok], "token repeated")
		seen[tok] = true
	}
	assert.False(t, IsCorrelationToken("vc"+"0123456789ABCDEF0123456789abcdef"), "lowercase hex only")
	assert.False(t, IsCorrelationToken("order-42"))
}
