package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/otp"
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

// TestOTPStoreConformanceCluster runs the otp store's conformance suite
// on the cluster: every step of the store touches one slot, so it runs
// there with the same code as on one server. (The fault cases need the
// proxy, which speaks to one server: they run in TestOTPStoreConformance
// on the same steps.)
func TestOTPStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	storetest.RunStoreTests(t, func(t *testing.T) storetest.Harness {
		return storetest.Harness{Store: newClusterStore(t).OTPStore()}
	})
}

// TestGuardScenariosCluster: the toll-fraud pattern on the cluster.
func TestGuardScenariosCluster(t *testing.T) {
	t.Parallel()
	storetest.RunGuardScenarios(t, false, func(t *testing.T, _ func() time.Time) otp.Store {
		return newClusterStore(t).OTPStore()
	})
}

// TestOTPLimitsUnderConcurrency: reservations taken at once, whose
// steps are taken optimistically and given back when another step
// refuses, never let more sends through than a limit allows, on one
// server and on the cluster. Half of them meet a number already held
// (so their counters are taken, then given back). Once they are done,
// the counters hold exactly the sends let through: sequential sends then
// reach the limit exactly.
func TestOTPLimitsUnderConcurrency(t *testing.T) {
	t.Parallel()
	for name, newOTP := range map[string]func(t *testing.T) otp.Store{
		"Server":  func(t *testing.T) otp.Store { st, _ := newStore(t); return st.OTPStore() },
		"Cluster": func(t *testing.T) otp.Store { return newClusterStore(t).OTPStore() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newOTP(t)
			ctx := context.Background()
			a := otp.Counter{Key: "a:" + randHex(), Limit: 6, Window: time.Hour, Reason: otp.ReasonGlobal}
			b := otp.Counter{Key: "b:" + randHex(), Limit: 9, Window: time.Hour, Reason: otp.ReasonClient}
			conv := otp.Conversion{Key: "c:" + randHex(), Base: 8, Window: time.Hour, Reason: otp.ReasonRange}
			held := randHex()
			_, err := s.Reserve(ctx, otp.Reservation{ID: randHex(), Token: randHex(), Number: held, MAC: []byte("m"), MaxChecks: 5, TTL: time.Minute})
			require.NoError(t, err)
			res := func(num string, i int) otp.Reservation {
				cs := []otp.Counter{a, b}
				if i%3 == 0 {
					cs = []otp.Counter{b, a}
				}
				return otp.Reservation{ID: randHex(), Token: randHex(), Number: num, MAC: []byte("m"), MaxChecks: 5,
					TTL: time.Minute, Counters: cs, Conversions: []otp.Conversion{conv}}
			}
			const n = 40
			reasons := make([]otp.Reason, n)
			errs := concurrently(n, func(i int) error {
				num := randHex()
				if i%2 == 1 {
					num = held
				}
				ref, err := s.Reserve(ctx, res(num, i))
				reasons[i] = ref.Reason
				return err
			})
			passed := 0
			for i, err := range errs {
				require.NoError(t, err)
				if reasons[i] == otp.ReasonNone {
					passed++
				}
				if i%2 == 1 {
					assert.Equal(t, otp.ReasonPending, reasons[i], "a send to the held number")
				}
			}
			// Concurrent reservations may refuse each other (one holds a
			// step it gives back a moment later): fewer than the limit
			// may pass at once, never more.
			assert.LessOrEqual(t, passed, a.Limit, "sends let through at once")
			// Every refused reservation gave its steps back: the
			// counters count exactly the sends let through.
			more := 0
			for range a.Limit + 1 {
				ref, err := s.Reserve(ctx, res(randHex(), 1))
				require.NoError(t, err)
				if ref.Reason != otp.ReasonNone {
					assert.Equal(t, otp.ReasonGlobal, ref.Reason)
					break
				}
				more++
			}
			assert.Equal(t, a.Limit, passed+more, "sends let through in all (%d at once, %d after)", passed, more)
			t.Logf("%d of %d concurrent reservations let through (limit %d), %d after", passed, n/2, a.Limit, more)
		})
	}
}

func randHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
