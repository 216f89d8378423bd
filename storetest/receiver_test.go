package storetest_test

import (
	"testing"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/storetest"
)

// The core module's in-memory stores pass the suites.

func TestMemoryDedup(t *testing.T) {
	t.Parallel()
	storetest.RunDedupStoreTests(t, func(_ *testing.T, ttl time.Duration) voicecall.DedupStore {
		return voicecall.NewMemoryDedup(ttl, 0)
	})
}

func TestMemoryDedupBound(t *testing.T) {
	t.Parallel()
	storetest.RunDedupStoreBoundTests(t, func(_ *testing.T, ttl time.Duration, maxRecords int) voicecall.DedupStore {
		return voicecall.NewMemoryDedup(ttl, int64(maxRecords)*voicecall.DedupRecordBytes)
	})
}

func TestCorrelationIndex(t *testing.T) {
	t.Parallel()
	storetest.RunCorrelationStoreTests(t, func(_ *testing.T, ttl time.Duration) voicecall.CorrelationStore {
		return voicecall.NewCorrelationIndex(ttl, 0)
	})
}
