package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
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

// Fault is a network fault met by one operation of a store under test.
type Fault int

// Faults, as a fault-injecting proxy between a client and its server
// makes them.
const (
	// ReplyDropped: the server runs the operation; its reply is lost and
	// the connection closed.
	ReplyDropped Fault = iota + 1
	// ReplyLate: the server runs the operation; its reply arrives after
	// the client's read timeout.
	ReplyLate
	// ResetBefore: the connection is reset before the operation reaches
	// the server.
	ResetBefore
	// ResetAfter: the server runs the operation; the connection is reset
	// instead of the reply.
	ResetAfter
)

// Faults lists every Fault.
var Faults = []Fault{ReplyDropped, ReplyLate, ResetBefore, ResetAfter}

// String returns the fault's name.
func (f Fault) String() string {
	switch f {
	case ReplyDropped:
		return "ReplyDropped"
	case ReplyLate:
		return "ReplyLate"
	case ResetBefore:
		return "ResetBefore"
	case ResetAfter:
		return "ResetAfter"
	}
	return "Fault(?)"
}

// Harness is a store under test.
type Harness struct {
	Store otp.Store
	// Inject, when not nil, makes the store's next operation meet f (a
	// store on a network fills it with a fault-injecting proxy). A
	// store without a network (in memory) leaves it nil: it loses no
	// replies, and the suite checks its repetition contract directly.
	Inject func(f Fault)
}

// RunStoreTests runs the conformance suite of [otp.Store]: newStore must
// return a fresh, empty store for each subtest. The suite checks the
// contract, the repetition of every operation with the same arguments
// included; when the harness can inject network faults (Inject), it also
// runs every operation through each [Fault].
func RunStoreTests(t *testing.T, newStore func(t *testing.T) Harness) {
	t.Run("Verifications", func(t *testing.T) { runVerificationTests(t, newStore) })
	t.Run("Guard", func(t *testing.T) { runGuardTests(t, newStore) })
	t.Run("Repeat", func(t *testing.T) { runRepeatTests(t, newStore) })
	if newStore(t).Inject != nil { // a store on a network
		t.Run("Faults", func(t *testing.T) { runFaultTests(t, newStore) })
	}
}

const maxChecks = 5

// reservation returns a reservation of a fresh verification to num with
// the given cooldown, TTL and counters, and maxChecks checks of
// mac(code).
func reservation(t *testing.T, num, code string, cool, ttl time.Duration, cs ...otp.Counter) otp.Reservation {
	return otp.Reservation{
		ID: randID(t), Token: "vc" + randID(t), Number: num, MAC: mac(code), MaxChecks: maxChecks,
		TTL: ttl, Cooldown: cool, Country: "CN", Range: "+861350000", Counters: cs,
	}
}

func reserve(t *testing.T, s otp.Store, r otp.Reservation, want otp.Reason) otp.Refusal {
	t.Helper()
	got, err := s.Reserve(context.Background(), r)
	must(t, err)
	if got.Reason != want {
		t.Fatalf("Reserve = %s (retry after %v), want %s", got.Reason, got.RetryAfter, want)
	}
	if want == otp.ReasonNone && (got.RetryAfter != 0 || !got.Reserved) {
		t.Fatalf("Reserve succeeded with RetryAfter %v, Reserved %v; want 0, true", got.RetryAfter, got.Reserved)
	}
	if want != otp.ReasonNone && !r.RecordOnly && got.Reserved {
		t.Fatalf("Reserve refused (%s) but says Reserved", got.Reason)
	}
	return got
}

func settle(t *testing.T, s otp.Store, token string, st otp.Settlement) {
	t.Helper()
	must(t, s.Settle(context.Background(), token, st))
}

func checkReq(t *testing.T, id, code string) otp.CheckRequest {
	return otp.CheckRequest{ID: id, MAC: mac(code), Op: randID(t)}
}

func check(t *testing.T, s otp.Store, c otp.CheckRequest, want otp.CheckStatus) otp.CheckResult {
	t.Helper()
	got, err := s.Check(context.Background(), c)
	must(t, err)
	if got.Status != want {
		t.Fatalf("Check = %s, want %s", got.Status, want)
	}
	return got
}

func runVerificationTests(t *testing.T, newStore func(t *testing.T) Harness) {
	ctx := context.Background()

	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		r := check(t, s, checkReq(t, randID(t), "a"), otp.CheckUnknown)
		if r.Country != "" || r.Range != "" {
			t.Fatalf("an unknown verification has labels %q %q", r.Country, r.Range)
		}
	})

	t.Run("RightCodeWorksOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		r := reservation(t, randID(t), "right", time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		got := check(t, s, checkReq(t, r.ID, "right"), otp.CheckValid)
		if got.Country != "CN" || got.Range != "+861350000" || got.AttemptsLeft != maxChecks-1 {
			t.Fatalf("valid check = %+v, want the labels and %d attempts left", got, maxChecks-1)
		}
		check(t, s, checkReq(t, r.ID, "right"), otp.CheckUsed)
		check(t, s, checkReq(t, r.ID, "wrong"), otp.CheckUsed)
	})

	t.Run("AttemptsCountDown", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		r := reservation(t, randID(t), "right", time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		for i := range maxChecks - 1 {
			got := check(t, s, checkReq(t, r.ID, "wrong"), otp.CheckWrong)
			if got.AttemptsLeft != maxChecks-1-i {
				t.Fatalf("wrong check %d: %d attempts left, want %d", i+1, got.AttemptsLeft, maxChecks-1-i)
			}
		}
		check(t, s, checkReq(t, r.ID, "right"), otp.CheckValid)
	})

	t.Run("ExhaustedAfterMaxChecks", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		r := reservation(t, randID(t), "right", time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		for range maxChecks {
			check(t, s, checkReq(t, r.ID, "wrong"), otp.CheckWrong)
		}
		check(t, s, checkReq(t, r.ID, "right"), otp.CheckExhausted)
		check(t, s, checkReq(t, r.ID, "wrong"), otp.CheckExhausted)
	})

	t.Run("DifferentLengthIsWrong", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		r := reservation(t, randID(t), "right", time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		for _, m := range [][]byte{mac("right")[:31], append(mac("right"), 0), nil} {
			check(t, s, otp.CheckRequest{ID: r.ID, MAC: m, Op: randID(t)}, otp.CheckWrong)
		}
		check(t, s, checkReq(t, r.ID, "right"), otp.CheckValid)
	})

	t.Run("NewSendReplacesTheOld", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		num := randID(t)
		old := reservation(t, num, "old", 0, time.Minute)
		reserve(t, s, old, otp.ReasonNone)
		settle(t, s, old.Token, otp.SettlePlaced)
		for range maxChecks {
			check(t, s, checkReq(t, old.ID, "wrong"), otp.CheckWrong)
		}
		r := reservation(t, num, "new", 0, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		check(t, s, checkReq(t, old.ID, "old"), otp.CheckUnknown)
		check(t, s, checkReq(t, r.ID, "old"), otp.CheckWrong)
		check(t, s, checkReq(t, r.ID, "new"), otp.CheckValid)
	})

	t.Run("VerificationsAreIndependent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		a := reservation(t, randID(t), "a", time.Minute, time.Minute)
		b := reservation(t, randID(t), "b", time.Minute, time.Minute)
		reserve(t, s, a, otp.ReasonNone)
		reserve(t, s, b, otp.ReasonNone)
		check(t, s, checkReq(t, a.ID, "b"), otp.CheckWrong)
		check(t, s, checkReq(t, b.ID, "b"), otp.CheckValid)
		check(t, s, checkReq(t, a.ID, "a"), otp.CheckValid)
	})

	t.Run("Expires", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		short := reservation(t, randID(t), "right", 0, 150*time.Millisecond)
		long := reservation(t, randID(t), "right", 0, time.Minute)
		reserve(t, s, short, otp.ReasonNone)
		reserve(t, s, long, otp.ReasonNone)
		var last otp.CheckStatus
		expired := eventually(5*time.Second, func() bool {
			got, err := s.Check(ctx, checkReq(t, short.ID, "wrong"))
			must(t, err)
			last = got.Status
			return got.Status != otp.CheckWrong && got.Status != otp.CheckExhausted
		})
		if !expired {
			t.Fatal("a code with a 150 ms TTL was still pending after 5 s")
		}
		if last != otp.CheckExpired && last != otp.CheckUnknown {
			t.Fatalf("an expired verification is %s, want expired (or unknown once forgotten)", last)
		}
		got, err := s.Check(ctx, checkReq(t, short.ID, "right"))
		must(t, err)
		if got.Status != otp.CheckExpired && got.Status != otp.CheckUnknown {
			t.Fatalf("the right code of an expired verification is %s", got.Status)
		}
		check(t, s, checkReq(t, long.ID, "right"), otp.CheckValid)
	})

	t.Run("ConcurrentChecksCountedExactly", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		r := reservation(t, randID(t), "right", time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		counts := runConcurrently(t, 24, func() (otp.CheckStatus, error) {
			got, err := s.Check(ctx, checkReq(t, r.ID, "wrong"))
			return got.Status, err
		})
		if counts[otp.CheckWrong] != maxChecks || counts[otp.CheckExhausted] != 24-maxChecks {
			t.Fatalf("24 concurrent wrong checks: %v, want %d wrong and %d exhausted", counts, maxChecks, 24-maxChecks)
		}
	})

	t.Run("ConcurrentRightChecksAcceptOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		r := reservation(t, randID(t), "right", time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		counts := runConcurrently(t, 16, func() (otp.CheckStatus, error) {
			got, err := s.Check(ctx, checkReq(t, r.ID, "right"))
			return got.Status, err
		})
		if counts[otp.CheckValid] != 1 || counts[otp.CheckUsed] != 15 {
			t.Fatalf("16 concurrent right checks: %v, want 1 valid and 15 used", counts)
		}
	})

	t.Run("ClientCheckLimit", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		r := reservation(t, randID(t), "right", time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		client := otp.Counter{Key: "k:" + randID(t), Limit: 2, Window: time.Hour, Reason: otp.ReasonChecks}
		c := checkReq(t, r.ID, "wrong")
		c.Client = client
		check(t, s, c, otp.CheckWrong)
		c = checkReq(t, randID(t), "wrong") // an unknown id counts too
		c.Client = client
		check(t, s, c, otp.CheckUnknown)
		c = checkReq(t, r.ID, "right")
		c.Client = client
		got := check(t, s, c, otp.CheckRateLimited)
		if got.RetryAfter <= 59*time.Minute || got.RetryAfter > time.Hour {
			t.Fatalf("rate-limited RetryAfter = %v, want in (59m, 1h]", got.RetryAfter)
		}
		// Nothing was counted against the verification by the refusal.
		got = check(t, s, checkReq(t, r.ID, "right"), otp.CheckValid)
		if got.AttemptsLeft != maxChecks-2 {
			t.Fatalf("%d attempts left, want %d", got.AttemptsLeft, maxChecks-2)
		}
	})

	t.Run("ConversionsEarnRoom", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		conv := otp.Conversion{Key: "ur:" + randID(t), Base: 2, Factor: 1, Window: time.Hour, Reason: otp.ReasonRange}
		send := func(want otp.Reason) otp.Reservation {
			t.Helper()
			r := reservation(t, randID(t), "right", 0, time.Minute)
			r.Conversions = []otp.Conversion{conv}
			reserve(t, s, r, want)
			return r
		}
		a := send(otp.ReasonNone)
		send(otp.ReasonNone)
		ref := reserve(t, s, func() otp.Reservation {
			r := reservation(t, randID(t), "x", 0, time.Minute)
			r.Conversions = []otp.Conversion{conv}
			return r
		}(), otp.ReasonRange) // 2 unverified = Base
		if ref.RetryAfter <= 59*time.Minute || ref.RetryAfter > time.Hour {
			t.Fatalf("conversion RetryAfter = %v, want in (59m, 1h]", ref.RetryAfter)
		}
		check(t, s, checkReq(t, a.ID, "right"), otp.CheckValid)
		// 1 verified, 1 unverified: allowed 2 + 1 = 3 unverified.
		send(otp.ReasonNone)
		send(otp.ReasonNone)
		send(otp.ReasonRange)
	})

	t.Run("RecordOnly", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		full := otp.Counter{Key: "g:" + randID(t), Limit: 1, Window: time.Hour, Reason: otp.ReasonGlobal}
		reserve(t, s, reservation(t, randID(t), "a", 0, time.Minute, full), otp.ReasonNone)
		r := reservation(t, randID(t), "right", time.Minute, time.Minute, full)
		r.RecordOnly = true
		got := reserve(t, s, r, otp.ReasonGlobal)
		if !got.Reserved {
			t.Fatal("a record-only refusal was not reserved")
		}
		check(t, s, checkReq(t, r.ID, "right"), otp.CheckValid)
		// Its hold still refuses, even in record-only mode.
		again := reservation(t, r.Number, "b", time.Minute, time.Minute)
		again.RecordOnly = true
		reserve(t, s, again, otp.ReasonPending)
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

func runGuardTests(t *testing.T, newStore func(t *testing.T) Harness) {
	ctx := context.Background()
	res := func(t *testing.T, num string, cool, ttl time.Duration, cs ...otp.Counter) otp.Reservation {
		return reservation(t, num, "code", cool, ttl, cs...)
	}

	t.Run("HoldThenCooldown", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
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
		check(t, s, checkReq(t, r.ID, "code"), otp.CheckValid)
	})

	t.Run("FailedLiftsHoldAndCooldownKeepsCode", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		num := randID(t)
		r := res(t, num, time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		settle(t, s, r.Token, otp.SettleFailed)
		check(t, s, checkReq(t, r.ID, "code"), otp.CheckValid)
		reserve(t, s, res(t, num, time.Minute, time.Minute), otp.ReasonNone)
	})

	t.Run("ReleasedLiftsEverything", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		num := randID(t)
		r := res(t, num, time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		settle(t, s, r.Token, otp.SettleReleased)
		settle(t, s, r.Token, otp.SettleReleased)
		check(t, s, checkReq(t, r.ID, "code"), otp.CheckUnknown)
		if _, err := s.Reserve(ctx, r); !errors.Is(err, otp.ErrReleased) {
			t.Fatalf("Reserve repeated after its release: %v, want ErrReleased", err)
		}
		next := res(t, num, time.Minute, time.Minute)
		reserve(t, s, next, otp.ReasonNone)
		settle(t, s, r.Token, otp.SettleReleased) // late: leaves the next send alone
		check(t, s, checkReq(t, next.ID, "code"), otp.CheckValid)
		reserve(t, s, res(t, num, time.Minute, time.Minute), otp.ReasonPending)
	})

	t.Run("PlacedThenFailed", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		num := randID(t)
		r := res(t, num, time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		settle(t, s, r.Token, otp.SettlePlaced)
		settle(t, s, r.Token, otp.SettleFailed)
		reserve(t, s, res(t, num, time.Minute, time.Minute), otp.ReasonNone)
	})

	t.Run("OldTokenLeavesNewReservation", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
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
		s := newStore(t).Store
		for _, st := range []otp.Settlement{otp.SettleFailed, otp.SettlePlaced, otp.SettleReleased} {
			settle(t, s, "vc"+randID(t), st)
		}
	})

	t.Run("NumbersAreIndependent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		reserve(t, s, res(t, randID(t), time.Minute, time.Minute), otp.ReasonNone)
		reserve(t, s, res(t, randID(t), time.Minute, time.Minute), otp.ReasonNone)
	})

	t.Run("CounterLimit", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		c := otp.Counter{Key: "n:" + randID(t), Limit: 3, Window: time.Hour, Reason: otp.ReasonNumberHourly}
		for range 3 {
			reserve(t, s, res(t, randID(t), 0, time.Minute, c), otp.ReasonNone)
		}
		ref := reserve(t, s, res(t, randID(t), 0, time.Minute, c), otp.ReasonNumberHourly)
		if ref.RetryAfter <= 59*time.Minute || ref.RetryAfter > time.Hour {
			t.Fatalf("counter RetryAfter = %v, want in (59m, 1h]", ref.RetryAfter)
		}
	})

	t.Run("CountersCheckedInOrder", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		a := otp.Counter{Key: "a:" + randID(t), Limit: 1, Window: time.Hour, Reason: otp.ReasonClient}
		b := otp.Counter{Key: "b:" + randID(t), Limit: 1, Window: time.Hour, Reason: otp.ReasonGlobal}
		reserve(t, s, res(t, randID(t), 0, time.Minute, a, b), otp.ReasonNone)
		reserve(t, s, res(t, randID(t), 0, time.Minute, a, b), otp.ReasonClient)
		reserve(t, s, res(t, randID(t), 0, time.Minute, b, a), otp.ReasonGlobal)
	})

	t.Run("RefusalChangesNothing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		full := otp.Counter{Key: "full:" + randID(t), Limit: 1, Window: time.Hour, Reason: otp.ReasonGlobal}
		other := otp.Counter{Key: "other:" + randID(t), Limit: 1, Window: time.Hour, Reason: otp.ReasonClient}
		reserve(t, s, res(t, randID(t), 0, time.Minute, full), otp.ReasonNone)
		num := randID(t)
		refused := res(t, num, time.Minute, time.Minute, other, full)
		reserve(t, s, refused, otp.ReasonGlobal)
		// Neither the other counter, nor the number's hold or cooldown,
		// nor a verification, were made by the refused reservation.
		check(t, s, checkReq(t, refused.ID, "code"), otp.CheckUnknown)
		reserve(t, s, res(t, num, time.Minute, time.Minute, other), otp.ReasonNone)
	})

	t.Run("HoldCooldownAndCounterExpire", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		num := randID(t)
		c := otp.Counter{Key: "w:" + randID(t), Limit: 1, Window: 200 * time.Millisecond, Reason: otp.ReasonNumberDaily}
		reserve(t, s, res(t, num, 0, 200*time.Millisecond, c), otp.ReasonNone)
		cool := randID(t)
		r := res(t, cool, 200*time.Millisecond, 200*time.Millisecond)
		reserve(t, s, r, otp.ReasonNone)
		settle(t, s, r.Token, otp.SettlePlaced)
		for name, mk := range map[string]func() otp.Reservation{
			"hold":     func() otp.Reservation { return res(t, num, 0, time.Minute) },
			"cooldown": func() otp.Reservation { return res(t, cool, 0, time.Minute) },
			"counter":  func() otp.Reservation { return res(t, randID(t), 0, time.Minute, c) },
		} {
			ok := eventually(5*time.Second, func() bool {
				got, err := s.Reserve(ctx, mk())
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
		s := newStore(t).Store
		num := randID(t)
		r := res(t, num, 0, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		settle(t, s, r.Token, otp.SettlePlaced)
		reserve(t, s, res(t, num, 0, time.Minute), otp.ReasonNone)
	})

	t.Run("ConcurrentReservesOfOneNumber", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		num := randID(t)
		counts := runConcurrently(t, 20, func() (otp.Reason, error) {
			ref, err := s.Reserve(ctx, res(t, num, time.Minute, time.Minute))
			return ref.Reason, err
		})
		if counts[otp.ReasonNone] != 1 || counts[otp.ReasonPending] != 19 {
			t.Fatalf("20 concurrent reserves of one number: %v, want 1 none and 19 pending", counts)
		}
	})

	t.Run("ConcurrentReservesCountedExactly", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		c := otp.Counter{Key: "g:" + randID(t), Limit: 7, Window: time.Hour, Reason: otp.ReasonGlobal}
		counts := runConcurrently(t, 20, func() (otp.Reason, error) {
			ref, err := s.Reserve(ctx, res(t, randID(t), 0, time.Minute, c))
			return ref.Reason, err
		})
		if counts[otp.ReasonNone] != 7 || counts[otp.ReasonGlobal] != 13 {
			t.Fatalf("20 concurrent reserves under a limit of 7: %v, want 7 none and 13 global", counts)
		}
	})
}

// runRepeatTests: an operation repeated with the same arguments (what a
// client library re-sends after a lost reply) has the effect of one.
func runRepeatTests(t *testing.T, newStore func(t *testing.T) Harness) {
	ctx := context.Background()

	t.Run("Reserve", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		c := otp.Counter{Key: "g:" + randID(t), Limit: 2, Window: time.Hour, Reason: otp.ReasonGlobal}
		r := reservation(t, randID(t), "right", time.Minute, time.Minute, c)
		reserve(t, s, r, otp.ReasonNone)
		reserve(t, s, r, otp.ReasonNone) // not refused by its own hold, not counted again
		reserve(t, s, reservation(t, randID(t), "x", 0, time.Minute, c), otp.ReasonNone)
		reserve(t, s, reservation(t, randID(t), "x", 0, time.Minute, c), otp.ReasonGlobal)
		check(t, s, checkReq(t, r.ID, "right"), otp.CheckValid)
	})

	t.Run("Check", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		r := reservation(t, randID(t), "right", time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		wrong := checkReq(t, r.ID, "wrong")
		for range 3 {
			if got := check(t, s, wrong, otp.CheckWrong); got.AttemptsLeft != maxChecks-1 {
				t.Fatalf("a repeated wrong check left %d attempts, want %d", got.AttemptsLeft, maxChecks-1)
			}
		}
		right := checkReq(t, r.ID, "right")
		for range 3 {
			check(t, s, right, otp.CheckValid) // not "used" by its own first run
		}
		check(t, s, checkReq(t, r.ID, "right"), otp.CheckUsed)
	})

	t.Run("CheckClientCountedOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		client := otp.Counter{Key: "k:" + randID(t), Limit: 2, Window: time.Hour, Reason: otp.ReasonChecks}
		c := checkReq(t, randID(t), "x")
		c.Client = client
		for range 3 {
			check(t, s, c, otp.CheckUnknown)
		}
		c = checkReq(t, randID(t), "x")
		c.Client = client
		check(t, s, c, otp.CheckUnknown)
		c.Op = randID(t)
		check(t, s, c, otp.CheckRateLimited)
	})

	t.Run("Settle", func(t *testing.T) {
		t.Parallel()
		s := newStore(t).Store
		num := randID(t)
		r := reservation(t, num, "right", time.Minute, time.Minute)
		reserve(t, s, r, otp.ReasonNone)
		settle(t, s, r.Token, otp.SettlePlaced)
		settle(t, s, r.Token, otp.SettlePlaced)
		reserve(t, s, reservation(t, num, "x", time.Minute, time.Minute), otp.ReasonCooldown)
		check(t, s, checkReq(t, r.ID, "right"), otp.CheckValid)
		_ = ctx
	})
}

// runFaultTests: an operation whose request or reply meets a network
// fault gets the answer it would have had without it, or an error with
// the state as if it had not run.
func runFaultTests(t *testing.T, newStore func(t *testing.T) Harness) {
	ctx := context.Background()
	for _, f := range Faults {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			h := newStore(t)
			s := h.Store
			c := otp.Counter{Key: "g:" + randID(t), Limit: 2, Window: time.Hour, Reason: otp.ReasonGlobal}
			num := randID(t)
			r := reservation(t, num, "right", time.Minute, time.Minute, c)

			h.Inject(f)
			ref, err := s.Reserve(ctx, r)
			must(t, err)
			if ref.Reason != otp.ReasonNone || !ref.Reserved {
				t.Fatalf("Reserve under %s = %+v, want reserved", f, ref)
			}
			// Counted once, and not held by itself.
			reserve(t, s, r, otp.ReasonNone)
			reserve(t, s, reservation(t, randID(t), "x", 0, time.Minute, c), otp.ReasonNone)
			reserve(t, s, reservation(t, randID(t), "x", 0, time.Minute, c), otp.ReasonGlobal)

			h.Inject(f)
			got, err := s.Check(ctx, checkReq(t, r.ID, "wrong"))
			must(t, err)
			if got.Status != otp.CheckWrong || got.AttemptsLeft != maxChecks-1 {
				t.Fatalf("wrong check under %s = %+v, want wrong with %d left", f, got, maxChecks-1)
			}
			if got := check(t, s, checkReq(t, r.ID, "wrong"), otp.CheckWrong); got.AttemptsLeft != maxChecks-2 {
				t.Fatalf("after a wrong check under %s: %d attempts left, want %d (counted once)", f, got.AttemptsLeft, maxChecks-2)
			}

			h.Inject(f)
			got, err = s.Check(ctx, checkReq(t, r.ID, "right"))
			must(t, err)
			if got.Status != otp.CheckValid {
				t.Fatalf("right check under %s = %s, want valid", f, got.Status)
			}

			other := reservation(t, randID(t), "right", time.Minute, time.Minute)
			reserve(t, s, other, otp.ReasonNone)
			h.Inject(f)
			must(t, s.Settle(ctx, other.Token, otp.SettleReleased))
			check(t, s, checkReq(t, other.ID, "right"), otp.CheckUnknown)
			reserve(t, s, reservation(t, other.Number, "x", time.Minute, time.Minute), otp.ReasonNone)
		})
	}
}
