// Package storetest is the conformance suite of the SDK's stores: every
// implementation of [otp.CodeStore], [otp.GuardStore],
// [voicecall.DedupStore], [voicecall.CorrelationStore] and
// [voicecall.Journal] must pass the matching Run...Tests function. Call
// it from a test of your own implementation with a constructor that
// returns a fresh, empty store for each subtest:
//
//	func TestMyCodeStore(t *testing.T) {
//		storetest.RunCodeStoreTests(t, func(t *testing.T) otp.CodeStore { return newMyStore(t) })
//	}
//
// The suites check the contract, atomicity under concurrent use included,
// against the store's own clock: TTL tests use windows of a few hundred
// milliseconds and wait for expiry in bounded loops.
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
