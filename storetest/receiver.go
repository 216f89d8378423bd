package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall"
)

func randKeys(t *testing.T, n int) []voicecall.DedupKey {
	t.Helper()
	ks := make([]voicecall.DedupKey, n)
	for i := range ks {
		if _, err := rand.Read(ks[i][:]); err != nil {
			t.Fatal(err)
		}
	}
	return ks
}

// claim claims keys in s and fails t unless the results are want.
func claim(t *testing.T, s voicecall.DedupStore, keys []voicecall.DedupKey, want ...voicecall.ClaimResult) {
	t.Helper()
	got, err := s.Claim(context.Background(), keys)
	must(t, err)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Claim = %v, want %v", got, want)
	}
}

// all returns n times r.
func all(n int, r voicecall.ClaimResult) []voicecall.ClaimResult {
	out := make([]voicecall.ClaimResult, n)
	for i := range out {
		out[i] = r
	}
	return out
}

// RunDedupStoreTests runs the conformance suite of
// [voicecall.DedupStore]: newStore must return a fresh, empty store that
// remembers handled keys for ttl (and whose claims last at most ttl).
func RunDedupStoreTests(t *testing.T, newStore func(t *testing.T, ttl time.Duration) voicecall.DedupStore) {
	ctx := context.Background()

	t.Run("ClaimCommitRelease", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Hour)
		ks := randKeys(t, 3)
		claim(t, s, ks, all(3, voicecall.ClaimAcquired)...)
		claim(t, s, ks, all(3, voicecall.ClaimBusy)...)
		must(t, s.Commit(ctx, ks[:1]))
		must(t, s.Release(ctx, ks[1:2]))
		claim(t, s, ks, voicecall.ClaimDone, voicecall.ClaimAcquired, voicecall.ClaimBusy)
	})

	t.Run("RepeatedKeyInOneBatch", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Hour)
		k := randKeys(t, 1)[0]
		got, err := s.Claim(ctx, []voicecall.DedupKey{k, k})
		must(t, err)
		acquired := 0
		for _, r := range got {
			if r == voicecall.ClaimAcquired {
				acquired++
			}
		}
		if len(got) != 2 || acquired != 1 {
			t.Fatalf("a key twice in one batch: %v, want one result per key and the key acquired once", got)
		}
	})

	t.Run("ReleaseKeepsDone", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Hour)
		ks := randKeys(t, 2)
		claim(t, s, ks, all(2, voicecall.ClaimAcquired)...)
		must(t, s.Commit(ctx, ks))
		must(t, s.Release(ctx, ks))
		claim(t, s, ks, all(2, voicecall.ClaimDone)...)
	})

	t.Run("CommitWithoutClaim", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Hour)
		ks := randKeys(t, 2)
		must(t, s.Commit(ctx, ks[:1]))
		must(t, s.Release(ctx, ks[1:])) // releasing what nobody claimed is harmless
		claim(t, s, ks, voicecall.ClaimDone, voicecall.ClaimAcquired)
	})

	t.Run("EmptyBatch", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Hour)
		got, err := s.Claim(ctx, nil)
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("Claim(nil) = %v, want no results", got)
		}
		must(t, s.Commit(ctx, nil))
		must(t, s.Release(ctx, nil))
	})

	t.Run("BatchOf50", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Hour)
		ks := randKeys(t, 50)
		claim(t, s, ks[:25], all(25, voicecall.ClaimAcquired)...)
		must(t, s.Commit(ctx, ks[:25]))
		want := append(all(25, voicecall.ClaimDone), all(25, voicecall.ClaimAcquired)...)
		claim(t, s, ks, want...)
	})

	t.Run("DoneExpires", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, 200*time.Millisecond)
		ks := randKeys(t, 2)
		claim(t, s, ks, all(2, voicecall.ClaimAcquired)...)
		must(t, s.Commit(ctx, ks[:1]))
		// ks[1]'s claim was neither committed nor released: its lease
		// (at most the TTL) ends too.
		ok := eventually(5*time.Second, func() bool {
			got, err := s.Claim(ctx, ks[:1])
			must(t, err)
			return got[0] == voicecall.ClaimAcquired
		})
		if !ok {
			t.Fatal("a key done with a 200 ms TTL was still done after 5 s")
		}
		ok = eventually(5*time.Second, func() bool {
			got, err := s.Claim(ctx, ks[1:])
			must(t, err)
			return got[0] == voicecall.ClaimAcquired
		})
		if !ok {
			t.Fatal("an abandoned claim under a 200 ms TTL still held after 5 s")
		}
	})

	t.Run("ConcurrentClaimsAcquireOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Hour)
		ks := randKeys(t, 50)
		const n = 8
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			acquired = make(map[voicecall.DedupKey]int)
			start    = make(chan struct{})
			errs     []error
		)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got, err := s.Claim(ctx, ks)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				for i, r := range got {
					if r == voicecall.ClaimAcquired {
						acquired[ks[i]]++
					} else if r != voicecall.ClaimBusy {
						errs = append(errs, fmt.Errorf("key %d: %v, want acquired or busy", i, r))
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			t.Error(err)
		}
		for i, k := range ks {
			if acquired[k] != 1 {
				t.Errorf("key %d acquired %d times by %d concurrent claims, want once", i, acquired[k], n)
			}
		}
	})
}

// BoundTestRecords is the bound [RunDedupStoreBoundTests] gives its
// stores.
const BoundTestRecords = 1024

// RunDedupStoreBoundTests runs the conformance suite of a bounded
// [voicecall.DedupStore]: newStore must return a fresh, empty store that
// remembers handled keys for ttl and holds at most maxRecords records
// (newStore is given [BoundTestRecords]; a store with a method
// MaxRecords() int that rounds the bound up, by less than twice, is held
// to what it returns). Past its bound a store may
// refuse new keys ([voicecall.ClaimFull]: the Handler answers 503, and
// the platform pushes again) or forget its oldest records (a re-push is
// then handled again); either way nothing is lost: a key never committed
// is never answered done, and the records handled last are remembered.
func RunDedupStoreBoundTests(t *testing.T, newStore func(t *testing.T, ttl time.Duration, maxRecords int) voicecall.DedupStore) {
	ctx := context.Background()
	const bound = BoundTestRecords

	// fill pushes 4 × max fresh keys through s in batches of 50, as the
	// Handler does (claim, then commit what was acquired), and returns the
	// keys committed, oldest first, and how many were refused.
	fill := func(t *testing.T, s voicecall.DedupStore) (committed []voicecall.DedupKey, full int) {
		t.Helper()
		for range 4 * bound / 50 {
			ks := randKeys(t, 50)
			got, err := s.Claim(ctx, ks)
			must(t, err)
			if len(got) != len(ks) {
				t.Fatalf("Claim of %d keys: %d results", len(ks), len(got))
			}
			var acquired, refused []voicecall.DedupKey
			for i, r := range got {
				switch r {
				case voicecall.ClaimAcquired:
					acquired = append(acquired, ks[i])
				case voicecall.ClaimFull:
					refused = append(refused, ks[i])
				default:
					t.Fatalf("a key never seen was answered %v", r)
				}
			}
			must(t, s.Commit(ctx, acquired))
			must(t, s.Release(ctx, refused)) // nothing held: harmless
			committed = append(committed, acquired...)
			full += len(refused)
		}
		return committed, full
	}

	t.Run("NothingLostPastTheBound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Hour, bound)
		committed, full := fill(t, s)
		if len(committed) < bound/2 {
			t.Fatalf("the store took %d keys of %d before refusing, want at least half its bound (%d)", len(committed), 4*bound, bound/2)
		}
		// The keys handled last are remembered.
		recent := committed[len(committed)-bound/8:]
		for i := 0; i < len(recent); i += 50 {
			claim(t, s, recent[i:min(i+50, len(recent))], all(min(50, len(recent)-i), voicecall.ClaimDone)...)
		}
		// Keys never committed are not done.
		got, err := s.Claim(ctx, randKeys(t, 50))
		must(t, err)
		for i, r := range got {
			if r != voicecall.ClaimAcquired && r != voicecall.ClaimFull {
				t.Fatalf("fresh key %d past the bound: %v, want acquired or full", i, r)
			}
		}
		// The store remembers no more than its bound.
		done := 0
		for i := 0; i < len(committed); i += 50 {
			batch := committed[i:min(i+50, len(committed))]
			got, err := s.Claim(ctx, batch)
			must(t, err)
			for _, r := range got {
				if r == voicecall.ClaimDone {
					done++
				}
			}
			must(t, s.Release(ctx, batch))
		}
		limit := bound
		if m, ok := s.(interface{ MaxRecords() int }); ok {
			limit = m.MaxRecords()
			if limit < bound || limit >= 2*bound {
				t.Fatalf("MaxRecords() = %d for a bound of %d", limit, bound)
			}
		}
		if done > limit {
			t.Fatalf("%d keys done in a store bounded at %d", done, limit)
		}
		t.Logf("%d keys pushed: %d committed, %d refused as full, %d remembered", 4*bound, len(committed), full, done)
	})

	t.Run("RoomAgainAfterTTL", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, 200*time.Millisecond, bound)
		fill(t, s)
		ok := eventually(5*time.Second, func() bool {
			got, err := s.Claim(ctx, randKeys(t, 50))
			must(t, err)
			for _, r := range got {
				if r != voicecall.ClaimAcquired {
					return false
				}
			}
			return true
		})
		if !ok {
			t.Fatal("a store filled with keys of a 200 ms TTL still refused new keys after 5 s")
		}
	})
}

// RunCorrelationStoreTests runs the conformance suite of
// [voicecall.CorrelationStore]: newStore must return a fresh, empty store
// that remembers a call for ttl after its last notification. The store
// must agree with [voicecall.CallSighting.Merge] on every sequence.
func RunCorrelationStoreTests(t *testing.T, newStore func(t *testing.T, ttl time.Duration) voicecall.CorrelationStore) {
	ctx := context.Background()
	t0 := time.Unix(1_764_000_000, 123_456_789)
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	sighting := func(sid string, ev voicecall.EventType, sec int) voicecall.CallSighting {
		return voicecall.CallSighting{SessionID: sid, LastEvent: ev, FirstSeen: at(sec), LastSeen: at(sec)}
	}
	answered := func(s voicecall.CallSighting) voicecall.CallSighting { s.Answered = true; return s }
	cdr := func(s voicecall.CallSighting, ans bool) voicecall.CallSighting {
		s.HasCDR, s.Answered = true, ans
		return s
	}
	state := func(s voicecall.CallSighting, c voicecall.StateCode) voicecall.CallSighting {
		s.StateCode, s.HasStateCode = c, true
		return s
	}
	unknownTimes := func(s voicecall.CallSighting) voicecall.CallSighting {
		s.FirstSeen, s.LastSeen = time.Time{}, time.Time{}
		return s
	}

	t.Run("LookupUnknown", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Hour)
		_, ok, err := s.Lookup(ctx, "vc"+randID(t))
		must(t, err)
		if ok {
			t.Fatal("Lookup of an unknown userData found something")
		}
	})

	for _, tc := range []struct {
		name string
		seq  []voicecall.CallSighting
	}{
		{"InOrder", []voicecall.CallSighting{
			sighting("s1", voicecall.EventCallout, 0), sighting("s1", voicecall.EventAlerting, 2),
			answered(sighting("s1", voicecall.EventAnswer, 6)), state(sighting("s1", voicecall.EventDisconnect, 20), 0),
			cdr(sighting("s1", voicecall.EventFee, 21), true),
		}},
		{"OutOfOrder", []voicecall.CallSighting{
			cdr(sighting("s1", voicecall.EventFee, 30), false), state(sighting("s1", voicecall.EventDisconnect, 10), voicecall.StateCalleeBusy),
			sighting("s1", voicecall.EventCallout, 0),
		}},
		{"StateCodeKeptUntilAnotherCarriesOne", []voicecall.CallSighting{
			state(sighting("s1", voicecall.EventDisconnect, 5), voicecall.StateCalleeNoAnswer),
			sighting("s1", voicecall.EventAlerting, 6),
			state(sighting("s1", voicecall.EventDisconnect, 7), voicecall.StateRingTimeout),
		}},
		{"NewSessionReplaces", []voicecall.CallSighting{
			answered(sighting("s1", voicecall.EventAnswer, 0)), cdr(sighting("s1", voicecall.EventFee, 1), true),
			sighting("s2", voicecall.EventCallout, 2),
		}},
		{"UnknownTimes", []voicecall.CallSighting{
			unknownTimes(sighting("s1", voicecall.EventCallout, 0)), sighting("s1", voicecall.EventAlerting, 3),
			unknownTimes(sighting("s1", voicecall.EventAnswer, 0)), sighting("s1", voicecall.EventCallout, -4),
		}},
		{"UnknownEventType", []voicecall.CallSighting{
			sighting("s1", "ringback", 0), sighting("s1", voicecall.EventCallout, 1), sighting("s1", "ringback", 2),
		}},
		{"EmptySessionID", []voicecall.CallSighting{
			sighting("", voicecall.EventCallout, 0), answered(sighting("", voicecall.EventAnswer, 1)),
		}},
	} {
		t.Run("Merge/"+tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t, time.Hour)
			ud := "vc" + randID(t)
			var want voicecall.CallSighting
			for i, o := range tc.seq {
				o.UserData = ud
				if i == 0 {
					want = o
				} else {
					want = want.Merge(o)
				}
				got, err := s.Observe(ctx, o)
				must(t, err)
				if d := diffSighting(got, want); d != "" {
					t.Fatalf("Observe #%d returned %s", i+1, d)
				}
			}
			got, ok, err := s.Lookup(ctx, ud)
			must(t, err)
			if !ok {
				t.Fatal("Lookup found nothing after Observe")
			}
			if d := diffSighting(got, want); d != "" {
				t.Fatalf("Lookup returned %s", d)
			}
		})
	}

	t.Run("LongUserData", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Hour)
		ud := "vc" + randID(t) + strings.Repeat("x", 4096)
		o := cdr(sighting("s", voicecall.EventFee, 0), false)
		o.UserData = ud
		_, err := s.Observe(ctx, o)
		must(t, err)
		got, ok, err := s.Lookup(ctx, ud)
		must(t, err)
		if !ok || got.UserData != ud || !got.HasCDR {
			t.Fatalf("long userData: %+v (%v)", got, ok)
		}
		_, ok, err = s.Lookup(ctx, ud[:len(ud)-1])
		must(t, err)
		if ok {
			t.Fatal("a prefix of a long userData was found")
		}
	})

	t.Run("UserDataAreIndependent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Hour)
		a, b := "vc"+randID(t), "order-"+randID(t)
		sa, sb := sighting("sa", voicecall.EventCallout, 0), answered(sighting("sb", voicecall.EventAnswer, 1))
		sa.UserData, sb.UserData = a, b
		_, err := s.Observe(ctx, sa)
		must(t, err)
		_, err = s.Observe(ctx, sb)
		must(t, err)
		got, ok, err := s.Lookup(ctx, a)
		must(t, err)
		if !ok || got.SessionID != "sa" || got.Answered {
			t.Fatalf("Lookup(a) = %+v, %v", got, ok)
		}
	})

	t.Run("ConcurrentObservesMerge", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, time.Hour)
		ud := "vc" + randID(t)
		seq := []voicecall.CallSighting{
			sighting("s1", voicecall.EventCallout, 0), sighting("s1", voicecall.EventAlerting, 2),
			answered(sighting("s1", voicecall.EventAnswer, 6)), state(sighting("s1", voicecall.EventDisconnect, 20), 0),
			cdr(sighting("s1", voicecall.EventFee, 21), true), sighting("s1", voicecall.EventCallout, 1),
			sighting("s1", voicecall.EventAlerting, 3), sighting("s1", voicecall.EventCallout, 4),
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, len(seq))
		for i, o := range seq {
			o.UserData = ud
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = s.Observe(ctx, o)
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		got, ok, err := s.Lookup(ctx, ud)
		must(t, err)
		want := voicecall.CallSighting{
			UserData: ud, SessionID: "s1", LastEvent: voicecall.EventFee, Answered: true, HasCDR: true,
			HasStateCode: true, StateCode: 0, FirstSeen: at(0), LastSeen: at(21),
		}
		if !ok {
			t.Fatal("Lookup found nothing")
		}
		if d := diffSighting(got, want); d != "" {
			t.Fatalf("after concurrent Observes, Lookup returned %s", d)
		}
	})

	t.Run("Expires", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, 200*time.Millisecond)
		ud := "vc" + randID(t)
		o := sighting("s1", voicecall.EventCallout, 0)
		o.UserData = ud
		_, err := s.Observe(ctx, o)
		must(t, err)
		ok := eventually(5*time.Second, func() bool {
			_, found, err := s.Lookup(ctx, ud)
			must(t, err)
			return !found
		})
		if !ok {
			t.Fatal("a call with a 200 ms TTL was still found after 5 s")
		}
	})
}

// diffSighting describes how got differs from want ("" when it does
// not); times compare with Equal.
func diffSighting(got, want voicecall.CallSighting) string {
	tg, tw := got, want
	tg.FirstSeen, tg.LastSeen, tw.FirstSeen, tw.LastSeen = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if tg != tw || !got.FirstSeen.Equal(want.FirstSeen) || !got.LastSeen.Equal(want.LastSeen) {
		return fmt.Sprintf("%+v, want %+v", got, want)
	}
	return ""
}
