package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall/otp"
)

func randID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

func mac(s string) []byte {
	b := make([]byte, 32)
	copy(b, s)
	return b
}

// RunCodeStoreTests runs the conformance suite of [otp.CodeStore]:
// newStore must return a fresh, empty store.
func RunCodeStoreTests(t *testing.T, newStore func(t *testing.T) otp.CodeStore) {
	ctx := context.Background()
	const maxChecks = 5
	check := func(t *testing.T, s otp.CodeStore, num string, m []byte, want otp.CheckResult) {
		t.Helper()
		got, err := s.Check(ctx, num, m, maxChecks)
		must(t, err)
		if got != want {
			t.Fatalf("Check = %s, want %s", got, want)
		}
	}

	t.Run("NoCode", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		check(t, s, randID(t), mac("a"), otp.CheckNone)
	})

	t.Run("RightCodeWorksOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		must(t, s.Put(ctx, num, mac("right"), time.Minute))
		check(t, s, num, mac("right"), otp.CheckValid)
		check(t, s, num, mac("right"), otp.CheckNone)
	})

	t.Run("RightOnLastAllowedCheck", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		must(t, s.Put(ctx, num, mac("right"), time.Minute))
		for range maxChecks - 1 {
			check(t, s, num, mac("wrong"), otp.CheckWrong)
		}
		check(t, s, num, mac("right"), otp.CheckValid)
	})

	t.Run("ExhaustedAfterMaxChecks", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		must(t, s.Put(ctx, num, mac("right"), time.Minute))
		for range maxChecks {
			check(t, s, num, mac("wrong"), otp.CheckWrong)
		}
		check(t, s, num, mac("right"), otp.CheckExhausted)
		check(t, s, num, mac("wrong"), otp.CheckExhausted)
	})

	t.Run("DifferentLengthIsWrong", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		must(t, s.Put(ctx, num, mac("right"), time.Minute))
		check(t, s, num, mac("right")[:31], otp.CheckWrong)
		check(t, s, num, append(mac("right"), 0), otp.CheckWrong)
		check(t, s, num, nil, otp.CheckWrong)
		check(t, s, num, mac("right"), otp.CheckValid)
	})

	t.Run("PutReplacesAndResetsChecks", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		must(t, s.Put(ctx, num, mac("old"), time.Minute))
		for range maxChecks {
			check(t, s, num, mac("wrong"), otp.CheckWrong)
		}
		must(t, s.Put(ctx, num, mac("new"), time.Minute))
		check(t, s, num, mac("old"), otp.CheckWrong)
		check(t, s, num, mac("new"), otp.CheckValid)
	})

	t.Run("NumbersAreIndependent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		a, b := randID(t), randID(t)
		must(t, s.Put(ctx, a, mac("a"), time.Minute))
		must(t, s.Put(ctx, b, mac("b"), time.Minute))
		check(t, s, a, mac("b"), otp.CheckWrong)
		check(t, s, b, mac("b"), otp.CheckValid)
		check(t, s, a, mac("a"), otp.CheckValid)
	})

	t.Run("Expires", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num, long := randID(t), randID(t)
		must(t, s.Put(ctx, num, mac("right"), 150*time.Millisecond))
		must(t, s.Put(ctx, long, mac("right"), time.Minute))
		expired := eventually(5*time.Second, func() bool {
			got, err := s.Check(ctx, num, mac("wrong"), 1000)
			must(t, err)
			return got == otp.CheckNone
		})
		if !expired {
			t.Fatal("a code with a 150 ms TTL was still pending after 5 s")
		}
		check(t, s, num, mac("right"), otp.CheckNone)
		check(t, s, long, mac("right"), otp.CheckValid)
	})

	t.Run("ConcurrentChecksCountedExactly", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		must(t, s.Put(ctx, num, mac("right"), time.Minute))
		counts := runConcurrently(t, 24, func() (otp.CheckResult, error) {
			return s.Check(ctx, num, mac("wrong"), maxChecks)
		})
		if counts[otp.CheckWrong] != maxChecks || counts[otp.CheckExhausted] != 24-maxChecks {
			t.Fatalf("24 concurrent wrong checks: %v, want %d wrong and %d exhausted", counts, maxChecks, 24-maxChecks)
		}
	})

	t.Run("ConcurrentRightChecksAcceptOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		must(t, s.Put(ctx, num, mac("right"), time.Minute))
		counts := runConcurrently(t, 16, func() (otp.CheckResult, error) {
			return s.Check(ctx, num, mac("right"), maxChecks)
		})
		if counts[otp.CheckValid] != 1 || counts[otp.CheckNone] != 15 {
			t.Fatalf("16 concurrent right checks: %v, want 1 valid and 15 none", counts)
		}
	})
}

// runConcurrently runs f n times at once and counts its results.
func runConcurrently[R comparable](t *testing.T, n int, f func() (R, error)) map[R]int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		start = make(chan struct{})
		count = make(map[R]int)
		errs  []error
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := f()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			count[r]++
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Errorf("concurrent call: %v", err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	return count
}

// RunGuardStoreTests runs the conformance suite of [otp.GuardStore]:
// newStore must return a fresh, empty store.
func RunGuardStoreTests(t *testing.T, newStore func(t *testing.T) otp.GuardStore) {
	ctx := context.Background()
	reserve := func(t *testing.T, s otp.GuardStore, r otp.Reservation, want otp.Reason) otp.Refusal {
		t.Helper()
		got, err := s.Reserve(ctx, r)
		must(t, err)
		if got.Reason != want {
			t.Fatalf("Reserve = %s (retry after %v), want %s", got.Reason, got.RetryAfter, want)
		}
		if want == otp.ReasonNone && got.RetryAfter != 0 {
			t.Fatalf("Reserve succeeded with RetryAfter %v, want 0", got.RetryAfter)
		}
		return got
	}
	settle := func(t *testing.T, s otp.GuardStore, token string, st otp.Settlement) {
		t.Helper()
		must(t, s.Settle(ctx, token, st))
	}
	res := func(t *testing.T, num string, cool, hold time.Duration, cs ...otp.Counter) otp.Reservation {
		return otp.Reservation{Number: num, Token: "vc" + randID(t), Cooldown: cool, Hold: hold, Counters: cs}
	}

	t.Run("HoldThenCooldown", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		r := res(t, num, time.Minute, 2*time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		ref := reserve(t, s, res(t, num, time.Minute, 2*time.Minute), otp.ReasonPending)
		if ref.RetryAfter <= 59*time.Second || ref.RetryAfter > time.Minute {
			t.Fatalf("pending RetryAfter = %v, want the cooldown's, in (59s, 1m]", ref.RetryAfter)
		}
		noCool := randID(t)
		reserve(t, s, res(t, noCool, 0, 2*time.Minute), otp.ReasonNone)
		ref = reserve(t, s, res(t, noCool, 0, 2*time.Minute), otp.ReasonPending)
		if ref.RetryAfter <= 119*time.Second || ref.RetryAfter > 2*time.Minute {
			t.Fatalf("pending RetryAfter without a cooldown = %v, want the hold's, in (1m59s, 2m]", ref.RetryAfter)
		}
		settle(t, s, r.Token, otp.SettlePlaced)
		ref = reserve(t, s, res(t, num, time.Minute, 2*time.Minute), otp.ReasonCooldown)
		if ref.RetryAfter <= 0 || ref.RetryAfter > time.Minute {
			t.Fatalf("cooldown RetryAfter = %v, want in (0, 1m]", ref.RetryAfter)
		}
		// Placed again (a late notification) changes nothing.
		settle(t, s, r.Token, otp.SettlePlaced)
		reserve(t, s, res(t, num, time.Minute, 2*time.Minute), otp.ReasonCooldown)
	})

	t.Run("FailedLiftsHoldAndCooldown", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		r := res(t, num, time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		settle(t, s, r.Token, otp.SettleFailed)
		reserve(t, s, res(t, num, time.Minute, time.Minute), otp.ReasonNone)
	})

	t.Run("PlacedThenFailed", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		r := res(t, num, time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		settle(t, s, r.Token, otp.SettlePlaced)
		settle(t, s, r.Token, otp.SettleFailed)
		reserve(t, s, res(t, num, time.Minute, time.Minute), otp.ReasonNone)
	})

	t.Run("OldTokenLeavesNewReservation", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		first := res(t, num, time.Minute, time.Minute)
		reserve(t, s, first, otp.ReasonNone)
		settle(t, s, first.Token, otp.SettleFailed)
		second := res(t, num, time.Minute, time.Minute)
		reserve(t, s, second, otp.ReasonNone)
		settle(t, s, first.Token, otp.SettleFailed) // a late notification of the first call
		reserve(t, s, res(t, num, time.Minute, time.Minute), otp.ReasonPending)
		settle(t, s, second.Token, otp.SettlePlaced)
		settle(t, s, first.Token, otp.SettleFailed)
		reserve(t, s, res(t, num, time.Minute, time.Minute), otp.ReasonCooldown)
	})

	t.Run("UnknownTokenIgnored", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		settle(t, s, "vc"+randID(t), otp.SettleFailed)
		settle(t, s, "vc"+randID(t), otp.SettlePlaced)
	})

	t.Run("NumbersAreIndependent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		reserve(t, s, res(t, randID(t), time.Minute, time.Minute), otp.ReasonNone)
		reserve(t, s, res(t, randID(t), time.Minute, time.Minute), otp.ReasonNone)
	})

	t.Run("CounterLimit", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		key := "n:" + randID(t)
		c := otp.Counter{Key: key, Limit: 3, Window: time.Hour, Reason: otp.ReasonNumberHourly}
		for range 3 {
			r := res(t, randID(t), 0, time.Minute, c)
			reserve(t, s, r, otp.ReasonNone)
		}
		ref := reserve(t, s, res(t, randID(t), 0, time.Minute, c), otp.ReasonNumberHourly)
		if ref.RetryAfter <= 59*time.Minute || ref.RetryAfter > time.Hour {
			t.Fatalf("counter RetryAfter = %v, want in (59m, 1h]", ref.RetryAfter)
		}
	})

	t.Run("CountersCheckedInOrder", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		a := otp.Counter{Key: "a:" + randID(t), Limit: 1, Window: time.Hour, Reason: otp.ReasonClient}
		b := otp.Counter{Key: "b:" + randID(t), Limit: 1, Window: time.Hour, Reason: otp.ReasonGlobal}
		reserve(t, s, res(t, randID(t), 0, time.Minute, a, b), otp.ReasonNone)
		reserve(t, s, res(t, randID(t), 0, time.Minute, a, b), otp.ReasonClient)
		reserve(t, s, res(t, randID(t), 0, time.Minute, b, a), otp.ReasonGlobal)
	})

	t.Run("RefusalChangesNothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		full := otp.Counter{Key: "full:" + randID(t), Limit: 1, Window: time.Hour, Reason: otp.ReasonGlobal}
		other := otp.Counter{Key: "other:" + randID(t), Limit: 1, Window: time.Hour, Reason: otp.ReasonClient}
		reserve(t, s, res(t, randID(t), 0, time.Minute, full), otp.ReasonNone)
		num := randID(t)
		reserve(t, s, res(t, num, time.Minute, time.Minute, other, full), otp.ReasonGlobal)
		// Neither the other counter, nor the number's hold or cooldown,
		// were touched by the refused reservation.
		reserve(t, s, res(t, num, time.Minute, time.Minute, other), otp.ReasonNone)
	})

	t.Run("HoldCooldownAndCounterExpire", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		c := otp.Counter{Key: "w:" + randID(t), Limit: 1, Window: 200 * time.Millisecond, Reason: otp.ReasonNumberDaily}
		reserve(t, s, res(t, num, 0, 200*time.Millisecond, c), otp.ReasonNone)
		cool := randID(t)
		reserve(t, s, res(t, cool, 200*time.Millisecond, time.Millisecond), otp.ReasonNone)
		for name, r := range map[string]otp.Reservation{
			"hold":     res(t, num, 0, time.Minute),
			"cooldown": res(t, cool, 0, time.Minute),
			"counter":  res(t, randID(t), 0, time.Minute, c),
		} {
			ok := eventually(5*time.Second, func() bool {
				got, err := s.Reserve(ctx, r)
				must(t, err)
				return got.Reason == otp.ReasonNone
			})
			if !ok {
				t.Fatalf("the %s of 200 ms still refused after 5 s", name)
			}
		}
	})

	t.Run("NoCooldown", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		r := res(t, num, 0, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		settle(t, s, r.Token, otp.SettlePlaced)
		reserve(t, s, res(t, num, 0, time.Minute), otp.ReasonNone)
	})

	t.Run("ConcurrentReservesOfOneNumber", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		num := randID(t)
		counts := runConcurrently(t, 20, func() (otp.Reason, error) {
			ref, err := s.Reserve(ctx, otp.Reservation{Number: num, Token: "vc" + randID(t), Cooldown: time.Minute, Hold: time.Minute})
			return ref.Reason, err
		})
		if counts[otp.ReasonNone] != 1 || counts[otp.ReasonPending] != 19 {
			t.Fatalf("20 concurrent reserves of one number: %v, want 1 none and 19 pending", counts)
		}
	})

	t.Run("ConcurrentReservesCountedExactly", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		c := otp.Counter{Key: "g:" + randID(t), Limit: 7, Window: time.Hour, Reason: otp.ReasonGlobal}
		counts := runConcurrently(t, 20, func() (otp.Reason, error) {
			ref, err := s.Reserve(ctx, otp.Reservation{Number: randID(t), Token: "vc" + randID(t), Hold: time.Minute, Counters: []otp.Counter{c}})
			return ref.Reason, err
		})
		if counts[otp.ReasonNone] != 7 || counts[otp.ReasonGlobal] != 13 {
			t.Fatalf("20 concurrent reserves under a limit of 7: %v, want 7 none and 13 global", counts)
		}
	})
}
