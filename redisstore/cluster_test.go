package redisstore_test

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
	"github.com/voicecall-go/voicecall/storetest"
)

// The cluster tests share one 3-master Redis Cluster, started by the
// first test that asks for it and stopped by TestMain (closeCluster).
var (
	clusterOnce sync.Once
	testCluster *redistest.Cluster
	clusterErr  error
)

func closeCluster() { testCluster.Close() }

// newClusterStore returns a Store on the test cluster under a fresh
// prefix (stores that are not ready for Redis Cluster fail with CROSSSLOT
// errors there).
func newClusterStore(t testing.TB) *redisstore.Store {
	t.Helper()
	clusterOnce.Do(func() { testCluster, clusterErr = redistest.StartCluster() })
	redistest.Need(t, clusterErr)
	rdb := testCluster.Client()
	var b [8]byte
	_, _ = rand.Read(b[:])
	st := redisstore.New(rdb, redisstore.WithPrefix("test:"+hex.EncodeToString(b[:])+":"))
	t.Cleanup(func() { _ = rdb.Close() })
	return st
}

// The conformance suites of the receiver's stores, on the cluster. The
// de-duplication store's keys share one hash tag ({<prefix>dedup}), so
// it runs on one node of the cluster; each correlation script touches
// one key.

func TestDedupStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	storetest.RunDedupStoreTests(t, func(t *testing.T, ttl time.Duration) voicecall.DedupStore {
		return newClusterStore(t).DedupStore(ttl, 0)
	})
}

func TestDedupStoreBoundConformanceCluster(t *testing.T) {
	t.Parallel()
	storetest.RunDedupStoreBoundTests(t, func(t *testing.T, ttl time.Duration, maxRecords int) voicecall.DedupStore {
		return newClusterStore(t).DedupStore(ttl, 0, redisstore.WithMaxRecords(maxRecords))
	})
}

func TestCorrelationStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	storetest.RunCorrelationStoreTests(t, func(t *testing.T, ttl time.Duration) voicecall.CorrelationStore {
		return newClusterStore(t).CorrelationStore(ttl)
	})
}
