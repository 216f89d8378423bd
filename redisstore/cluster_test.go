package redisstore_test

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"

	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
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
