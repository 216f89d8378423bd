// Package storetest is the conformance suite of the receiver's shared
// state: every [voicecall.DedupStore] and [voicecall.CorrelationStore]
// implementation (the in-memory ones of the root package, the Redis ones
// of the redisstore module) runs the same checks, so that they behave
// alike. It uses only the standard library's testing package, so that
// importing it adds no dependency.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall"
)

// keys returns n random keys, distinct from every other test's.
func keys(t *testing.T, n int) []voicecall.DedupKey {
	t.Helper()
	out := make([]voicecall.DedupKey, n)
	for i := range out {
		if _, err := rand.Read(out[i][:]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func claim(t *testing.T, s voicecall.DedupStore, ks ...voicecall.DedupKey) []voicecall.ClaimResult {
	t.Helper()
	res, err := s.Claim(context.Background(), ks)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if len(res) != len(ks) {
		t.Fatalf("Claim of %d keys returned %d results", len(ks), len(res))
	}
	return res
}

func equal(a, b []voicecall.ClaimResult) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// DedupStore checks the contract of voicecall.DedupStore on the store
// newStore returns (a fresh or shared store: every check uses keys of
// its own).
func DedupStore(t *testing.T, newStore func(t *testing.T) voicecall.DedupStore) {
	ctx := context.Background()
	t.Run("claim, release, commit", func(t *testing.T) {
		s := newStore(t)
		k := keys(t, 1)[0]
		want := func(got []voicecall.ClaimResult, w voicecall.ClaimResult, what string) {
			t.Helper()
			if got[0] != w {
				t.Errorf("%s: got %v, want %v", what, got[0], w)
			}
		}
		want(claim(t, s, k), voicecall.ClaimAcquired, "first claim")
		want(claim(t, s, k), voicecall.ClaimBusy, "claim of a claimed key")
		if err := s.Release(ctx, []voicecall.DedupKey{k}); err != nil {
			t.Fatalf("Release: %v", err)
		}
		want(claim(t, s, k), voicecall.ClaimAcquired, "claim after release")
		if err := s.Commit(ctx, []voicecall.DedupKey{k}); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		want(claim(t, s, k), voicecall.ClaimDone, "claim after commit")
		if err := s.Release(ctx, []voicecall.DedupKey{k}); err != nil {
			t.Fatalf("Release: %v", err)
		}
		want(claim(t, s, k), voicecall.ClaimDone, "release does not undo a commit")
	})
	t.Run("batch", func(t *testing.T) {
		s := newStore(t)
		ks := keys(t, 5)
		if err := s.Commit(ctx, ks[1:2]); err != nil {
			t.Fatal(err)
		}
		claim(t, s, ks[2])
		got := claim(t, s, ks...)
		want := []voicecall.ClaimResult{voicecall.ClaimAcquired, voicecall.ClaimDone, voicecall.ClaimBusy, voicecall.ClaimAcquired, voicecall.ClaimAcquired}
		if !equal(got, want) {
			t.Errorf("results[i] is for keys[i]: got %v, want %v", got, want)
		}
		if err := s.Commit(ctx, []voicecall.DedupKey{ks[0], ks[3]}); err != nil {
			t.Fatal(err)
		}
		if err := s.Release(ctx, []voicecall.DedupKey{ks[4], ks[1]}); err != nil {
			t.Fatal(err)
		}
		got = claim(t, s, ks...)
		want = []voicecall.ClaimResult{voicecall.ClaimDone, voicecall.ClaimDone, voicecall.ClaimBusy, voicecall.ClaimDone, voicecall.ClaimAcquired}
		if !equal(got, want) {
			t.Errorf("after commit and release: got %v, want %v", got, want)
		}
	})
	t.Run("repeated key in one batch", func(t *testing.T) {
		s := newStore(t)
		k := keys(t, 1)[0]
		got := claim(t, s, k, k)
		acquired := 0
		for _, r := range got {
			if r == voicecall.ClaimAcquired {
				acquired++
			}
		}
		if acquired != 1 {
			t.Errorf("a key twice in one batch: %v, want it acquired once", got)
		}
	})
	t.Run("empty batch", func(t *testing.T) {
		s := newStore(t)
		if got := claim(t, s); len(got) != 0 {
			t.Errorf("empty batch: %v", got)
		}
		if err := s.Commit(ctx, nil); err != nil {
			t.Errorf("Commit(nil): %v", err)
		}
		if err := s.Release(ctx, nil); err != nil {
			t.Errorf("Release(nil): %v", err)
		}
	})
	t.Run("concurrent claims", func(t *testing.T) {
		s := newStore(t)
		for round := range 20 {
			k := keys(t, 1)[0]
			var mu sync.Mutex
			acquired := 0
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := s.Claim(ctx, []voicecall.DedupKey{k})
					if err != nil || len(res) != 1 {
						t.Errorf("Claim: %v", err)
						return
					}
					if res[0] == voicecall.ClaimAcquired {
						mu.Lock()
						acquired++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if acquired != 1 {
				t.Errorf("round %d: %d of 8 concurrent claims acquired the key, want 1", round, acquired)
			}
		}
	})
}

// CorrelationStore checks the contract of voicecall.CorrelationStore on
// the store newStore returns: Observe applies CallSighting.Merge
// atomically, Lookup returns the merged sighting.
func CorrelationStore(t *testing.T, newStore func(t *testing.T) voicecall.CorrelationStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	token := func() string {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			t.Fatal(err)
		}
		return "vc" + hex.EncodeToString(b[:])
	}
	lookup := func(t *testing.T, s voicecall.CorrelationStore, ud string) (voicecall.CallSighting, bool) {
		t.Helper()
		got, ok, err := s.Lookup(ctx, ud)
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		return got, ok
	}
	same := func(a, b voicecall.CallSighting) bool {
		return a.UserData == b.UserData && a.SessionID == b.SessionID && a.LastEvent == b.LastEvent &&
			a.Answered == b.Answered && a.StateCode == b.StateCode && a.HasStateCode == b.HasStateCode &&
			a.HasCDR == b.HasCDR && a.FirstSeen.Equal(b.FirstSeen) && a.LastSeen.Equal(b.LastSeen)
	}
	t.Run("observe and lookup", func(t *testing.T) {
		s := newStore(t)
		ud := token()
		if _, ok := lookup(t, s, ud); ok {
			t.Fatal("a token never observed was found")
		}
		seq := []voicecall.CallSighting{
			{UserData: ud, SessionID: "s1", LastEvent: voicecall.EventDisconnect, StateCode: voicecall.StateCalleeBusy, HasStateCode: true, FirstSeen: t0.Add(2 * time.Second), LastSeen: t0.Add(2 * time.Second)},
			{UserData: ud, SessionID: "s1", LastEvent: voicecall.EventCallout, FirstSeen: t0, LastSeen: t0},
			{UserData: ud, SessionID: "s1", LastEvent: voicecall.EventAnswer, Answered: true, FirstSeen: t0.Add(time.Second), LastSeen: t0.Add(time.Second)},
		}
		var want voicecall.CallSighting
		for _, o := range seq {
			want = want.Merge(o)
			got, err := s.Observe(ctx, o)
			if err != nil {
				t.Fatalf("Observe: %v", err)
			}
			if !same(got, want) {
				t.Errorf("Observe returned %+v, want %+v", got, want)
			}
		}
		got, ok := lookup(t, s, ud)
		if !ok || !same(got, want) {
			t.Errorf("Lookup: %+v (%v), want %+v", got, ok, want)
		}
		// Another call reusing the userData replaces it.
		other := voicecall.CallSighting{UserData: ud, SessionID: "s2", LastEvent: voicecall.EventCallout, FirstSeen: t0.Add(time.Hour), LastSeen: t0.Add(time.Hour)}
		if _, err := s.Observe(ctx, other); err != nil {
			t.Fatal(err)
		}
		if got, _ := lookup(t, s, ud); !same(got, other) {
			t.Errorf("after another session: %+v, want %+v", got, other)
		}
	})
	t.Run("long userData", func(t *testing.T) {
		s := newStore(t)
		ud := token() + strings.Repeat("x", 4096)
		o := voicecall.CallSighting{UserData: ud, SessionID: "s", LastEvent: voicecall.EventFee, HasCDR: true, FirstSeen: t0, LastSeen: t0}
		if _, err := s.Observe(ctx, o); err != nil {
			t.Fatal(err)
		}
		got, ok := lookup(t, s, ud)
		if !ok || got.UserData != ud || !got.HasCDR {
			t.Errorf("long userData: %+v (%v)", got, ok)
		}
		if _, ok := lookup(t, s, ud[:len(ud)-1]); ok {
			t.Error("a prefix of a long userData was found")
		}
	})
	t.Run("concurrent observes merge", func(t *testing.T) {
		s := newStore(t)
		ud := token()
		events := []voicecall.CallSighting{
			{UserData: ud, SessionID: "s", LastEvent: voicecall.EventCallout, FirstSeen: t0, LastSeen: t0},
			{UserData: ud, SessionID: "s", LastEvent: voicecall.EventAlerting, FirstSeen: t0.Add(time.Second), LastSeen: t0.Add(time.Second)},
			{UserData: ud, SessionID: "s", LastEvent: voicecall.EventAnswer, Answered: true, FirstSeen: t0.Add(2 * time.Second), LastSeen: t0.Add(2 * time.Second)},
			{UserData: ud, SessionID: "s", LastEvent: voicecall.EventDisconnect, StateCode: 0, HasStateCode: true, FirstSeen: t0.Add(3 * time.Second), LastSeen: t0.Add(3 * time.Second)},
			{UserData: ud, SessionID: "s", LastEvent: voicecall.EventFee, HasCDR: true, FirstSeen: t0.Add(4 * time.Second), LastSeen: t0.Add(4 * time.Second)},
		}
		var wg sync.WaitGroup
		for _, o := range events {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Observe(ctx, o); err != nil {
					t.Errorf("Observe: %v", err)
				}
			}()
		}
		wg.Wait()
		got, ok := lookup(t, s, ud)
		want := voicecall.CallSighting{UserData: ud, SessionID: "s", LastEvent: voicecall.EventFee, Answered: true, HasStateCode: true, HasCDR: true, FirstSeen: t0, LastSeen: t0.Add(4 * time.Second)}
		if !ok || !same(got, want) {
			t.Errorf("concurrent observes lost an update: %+v, want %+v", got, want)
		}
	})
}
