package voicecall_test

import (
	"testing"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/internal/storetest"
)

// The in-memory stores pass the conformance suite every DedupStore and
// CorrelationStore passes (the redisstore module runs it too).
func TestMemoryDedupConformance(t *testing.T) {
	t.Parallel()
	storetest.DedupStore(t, func(*testing.T) voicecall.DedupStore { return voicecall.NewMemoryDedup(0, 0) })
}

func TestCorrelationIndexConformance(t *testing.T) {
	t.Parallel()
	storetest.CorrelationStore(t, func(*testing.T) voicecall.CorrelationStore { return voicecall.NewCorrelationIndex(0, 0) })
}
