// Package storetest is the conformance suite of the SDK's stores: every
// implementation of [otp.Store], [voicecall.DedupStore],
// [voicecall.CorrelationStore] and [journal.Journal] must pass the
// matching Run...Tests function. Call it from a test of your own
// implementation with a constructor that returns a fresh, empty store for
// each subtest:
//
//	func TestMyStore(t *testing.T) {
//		storetest.RunStoreTests(t, func(t *testing.T) storetest.Harness {
//			return storetest.Harness{Store: newMyStore(t)}
//		})
//	}
//
// The suites check the contract, atomicity under concurrent use and
// repetition included, against the store's own clock: TTL tests use
// windows of a few hundred milliseconds and wait for expiry in bounded
// loops. A store on a network fills Harness.Inject with a fault-injecting
// proxy (redisstore's tests use redistest.Proxy), and the otp suite then
// runs every operation through a lost, late and reset reply.
// [RunGuardScenarios] runs the otp guard's defaults through the
// toll-fraud pattern and a legitimate mix.
package storetest

import (
	"testing"
	"time"
)

// eventually polls cond every few milliseconds until it holds, for at
// most limit; it reports whether cond held.
func eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for range 100_000 {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return false
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}
