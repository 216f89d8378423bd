package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
	"github.com/voicecall-go/voicecall/storetest"
	"github.com/voicecall-go/voicecall/voicetest"
)

// TestOTPRoundTrips: the round trips of each operation, once the
// scripts are loaded. A send reserves (and stores its code) in one: every
// step of the reservation goes in one pipeline. A check is one (the
// client's count and the verification's check in one pipeline), and a
// valid one credits its conversion counters in a second. A resend to a
// number removes its earlier verification in a second. A Settle is one
// on the OTPStore that reserved, two elsewhere (it reads the token's
// record first).
func TestOTPRoundTrips(t *testing.T) {
	t.Parallel()
	st, rt := newStore(t)
	ctx := context.Background()
	store := st.OTPStore()
	counters := []otp.Counter{
		{Key: "a", Limit: 5, Window: time.Hour, Reason: otp.ReasonNumberHourly},
		{Key: "b", Limit: 10, Window: 24 * time.Hour, Reason: otp.ReasonNumberDaily},
		{Key: "c", Limit: 100, Window: time.Minute, Reason: otp.ReasonGlobal},
	}
	convs := []otp.Conversion{
		{Key: "r", Base: 10, Factor: 2, Window: time.Hour, Reason: otp.ReasonRange},
		{Key: "k", Base: 100, Factor: 1, Window: time.Hour, Reason: otp.ReasonCountry},
	}
	client := otp.Counter{Key: "cl", Limit: 30, Window: time.Hour, Reason: otp.ReasonChecks}
	warm := func() { // load every script: EVALSHA, NOSCRIPT, EVAL
		for _, id := range []string{"warm1", "warm2"} { // the second replaces the first
			_, err := store.Reserve(ctx, otp.Reservation{ID: id, Token: id, Number: "warm", MAC: []byte("m"), MaxChecks: 5, TTL: time.Minute,
				Counters: []otp.Counter{{Key: "w", Limit: 5, Window: time.Hour}}, Conversions: []otp.Conversion{{Key: "w", Base: 5, Window: time.Hour}}})
			require.NoError(t, err)
			require.NoError(t, store.Settle(ctx, id, otp.SettleFailed))
		}
		_, err := store.Check(ctx, otp.CheckRequest{ID: "warm2", MAC: []byte("m"), Op: "warm", Client: otp.Counter{Key: "w", Limit: 5, Window: time.Hour}})
		require.NoError(t, err)
		require.NoError(t, store.Settle(ctx, "warm2", otp.SettleReleased))
		// A refusal, given back.
		_, err = store.Reserve(ctx, otp.Reservation{ID: "warm3", Token: "warm3", Number: "warm3", MAC: []byte("m"), MaxChecks: 5, TTL: time.Minute,
			Counters: []otp.Counter{{Key: "w", Limit: 1, Window: time.Hour}}, Conversions: []otp.Conversion{{Key: "w", Base: 5, Window: time.Hour}}})
		require.NoError(t, err)
		_, err = store.Check(ctx, otp.CheckRequest{ID: "warm3", MAC: []byte("m"), Op: "warm3", Client: otp.Counter{Key: "w", Limit: 1, Window: time.Hour}})
		require.NoError(t, err)
	}
	warm()
	ops := []struct {
		name  string
		op    func() error
		trips int64
	}{
		{"Reserve", func() error {
			_, err := store.Reserve(ctx, otp.Reservation{ID: "v", Token: "t", Number: "n", MAC: make([]byte, 32), MaxChecks: 5,
				TTL: time.Minute, Cooldown: time.Minute, Counters: counters, Conversions: convs})
			return err
		}, 1},
		{"CheckWrong", func() error {
			_, err := store.Check(ctx, otp.CheckRequest{ID: "v", MAC: []byte("x"), Op: "1", Client: client})
			return err
		}, 1},
		{"CheckValid", func() error {
			_, err := store.Check(ctx, otp.CheckRequest{ID: "v", MAC: make([]byte, 32), Op: "2", Client: client})
			return err
		}, 2},
		{"Settle", func() error { return store.Settle(ctx, "t", otp.SettlePlaced) }, 1},
		// Settled again elsewhere (a notification on another
		// instance): the token's record is read first.
		{"SettleElsewhere", func() error { return st.OTPStore().Settle(ctx, "t", otp.SettleFailed) }, 2},
		{"Resend", func() error {
			_, err := store.Reserve(ctx, otp.Reservation{ID: "v2", Token: "t2", Number: "n", MAC: make([]byte, 32), MaxChecks: 5,
				TTL: time.Minute, Cooldown: time.Minute, Counters: counters, Conversions: convs})
			return err
		}, 2},
		{"Refused", func() error {
			ref, err := store.Reserve(ctx, otp.Reservation{ID: "v3", Token: "t3", Number: "n", MAC: make([]byte, 32), MaxChecks: 5,
				TTL: time.Minute, Cooldown: time.Minute, Counters: counters, Conversions: convs})
			if err == nil && ref.Reason != otp.ReasonPending {
				err = errors.New("not refused: " + ref.Reason.String())
			}
			return err
		}, 2},
	}
	for _, o := range ops {
		before := rt.n.Load()
		require.NoError(t, o.op(), o.name)
		assert.Equal(t, o.trips, rt.n.Load()-before, "%s: round trips", o.name)
	}
}

// TestTwoLifecyclesOneRedis: two instances on one Redis, asked for a code
// to one number at the same moment, place one call; checks made on both
// at once are counted exactly.
func TestTwoLifecyclesOneRedis(t *testing.T) {
	t.Parallel()
	stA, _ := newStore(t)
	stB := redisstoreSamePrefix(t, stA)
	srv := voicetest.Start(t)
	var lcs []*otp.Lifecycle
	for _, st := range []*redisstore.Store{stA, stB} {
		client, err := srv.NewClient()
		require.NoError(t, err)
		lc, err := otp.New(otp.Config{
			Client: client, Key: []byte("0123456789abcdef0123456789abcdef"),
			DisplayNumber: "+8675528000088", PreTone: "pretone.wav",
			Store: st.OTPStore(),
		})
		require.NoError(t, err)
		lcs = append(lcs, lc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const phone = "+8613500000001"

	ids := make([]string, 16)
	sendErrs := concurrently(16, func(i int) error {
		sent, err := lcs[i%2].Send(ctx, phone, "")
		if err == nil {
			ids[i] = sent.ID
		}
		return err
	})
	var sent int
	var id string
	for i, err := range sendErrs {
		if err == nil {
			sent++
			id = ids[i]
		} else {
			assert.ErrorIs(t, err, otp.ErrRefused)
		}
	}
	assert.Equal(t, 1, sent)
	require.Len(t, srv.Calls(), 1, "one call placed")
	code := srv.Calls()[0].VerifyCode
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}

	checkErrs := concurrently(20, func(i int) error { return lcs[i%2].Check(ctx, id, wrong, "") })
	counts := map[error]int{}
	for _, err := range checkErrs {
		if errors.Is(err, otp.ErrWrongCode) {
			err = otp.ErrWrongCode
		}
		counts[err]++
	}
	assert.Equal(t, map[error]int{otp.ErrWrongCode: 5, otp.ErrTooManyChecks: 15}, counts)
	assert.ErrorIs(t, lcs[0].Check(ctx, id, code, ""), otp.ErrTooManyChecks)
}

// concurrently runs f(0..n-1) at once and returns their errors.
func concurrently(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// faultyStore returns a Store on the test server behind a fault-injecting
// proxy, with go-redis's default retries and a read timeout of 300 ms, and
// the proxy. Every fault injected must be met by the end of the test.
func faultyStore(t *testing.T) (*redisstore.Store, *redistest.Proxy, *roundTrips) {
	t.Helper()
	redistestNeed(t)
	p, err := redistest.NewProxy(redisSrv.Addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr, ReadTimeout: faultReadTimeout, MaxRetries: 3})
	t.Cleanup(func() { _ = rdb.Close() })
	var b [8]byte
	_, _ = rand.Read(b[:])
	st := redisstore.New(rdb, redisstore.WithPrefix("test:"+hex.EncodeToString(b[:])+":"))
	rt := &roundTrips{}
	rdb.AddHook(rt)
	t.Cleanup(func() {
		if n := p.Pending(); n != 0 {
			t.Errorf("%d injected faults were never met", n)
		}
	})
	return st, p, rt
}

const faultReadTimeout = 300 * time.Millisecond

// isScript matches the commands that run the stores' scripts.
func isScript(args []string) bool { return args[0] == "EVALSHA" || args[0] == "EVAL" }

// fault turns a storetest fault into the proxy's.
func fault(f storetest.Fault) redistest.Fault {
	switch f {
	case storetest.ReplyDropped:
		return redistest.Fault{Kind: redistest.DropReply}
	case storetest.ReplyLate:
		return redistest.Fault{Kind: redistest.DelayReply, Delay: 3 * faultReadTimeout}
	case storetest.ResetBefore:
		return redistest.Fault{Kind: redistest.ResetBefore}
	default:
		return redistest.Fault{Kind: redistest.ResetAfter}
	}
}

// TestOTPStoreConformance runs the conformance suite, its fault cases
// included, on a Store behind the fault-injecting proxy (which forwards
// everything but the faults injected).
func TestOTPStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.RunStoreTests(t, func(t *testing.T) storetest.Harness {
		st, p, _ := faultyStore(t)
		return storetest.Harness{Store: st.OTPStore(), Inject: func(f storetest.Fault) { p.Inject(isScript, fault(f)) }}
	})
}

// TestOTPStoreConformanceSettledElsewhere runs the suite, faults
// included, on two OTPStores of one Redis, the one reserving and the
// other settling (as a notification arriving at another instance does):
// Settle then reads the token's record before lifting the hold.
func TestOTPStoreConformanceSettledElsewhere(t *testing.T) {
	t.Parallel()
	storetest.RunStoreTests(t, func(t *testing.T) storetest.Harness {
		st, p, _ := faultyStore(t)
		return storetest.Harness{Store: settledElsewhere{st.OTPStore(), st.OTPStore()}, Inject: func(f storetest.Fault) { p.Inject(isScript, fault(f)) }}
	})
}

// settledElsewhere reserves and checks on one OTPStore, settles on another.
type settledElsewhere struct{ here, there *redisstore.OTPStore }

func (s settledElsewhere) Reserve(ctx context.Context, r otp.Reservation) (otp.Refusal, error) {
	return s.here.Reserve(ctx, r)
}
func (s settledElsewhere) Settle(ctx context.Context, token string, st otp.Settlement) error {
	return s.there.Settle(ctx, token, st)
}
func (s settledElsewhere) Check(ctx context.Context, c otp.CheckRequest) (otp.CheckResult, error) {
	return s.here.Check(ctx, c)
}

// TestLifecycleUnderFaults: a Lifecycle on Redis behind the proxy, whose
// every store step meets each fault in turn: no lost or late reply
// refuses a send by its own reservation, turns a right code into a
// refusal or counts a guess twice. It also counts the round trips of a
// send (one pipeline to reserve and store the code, one to lift the hold
// after the call) and of a check (one).
func TestLifecycleUnderFaults(t *testing.T) {
	t.Parallel()
	for _, f := range storetest.Faults {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			st, p, rt := faultyStore(t)
			srv := voicetest.Start(t)
			client, err := srv.NewClient()
			require.NoError(t, err)
			lc, err := otp.New(otp.Config{
				Client: client, Key: []byte("0123456789abcdef0123456789abcdef"),
				DisplayNumber: "+8675528000088", PreTone: "pretone.wav", Store: st.OTPStore(),
			})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			// Load the scripts, then count.
			warm, err := lc.Send(ctx, "+8613500000009", "192.0.2.1")
			require.NoError(t, err)
			require.NoError(t, lc.Check(ctx, warm.ID, srv.Calls()[0].VerifyCode, "192.0.2.1"))
			p.ResetLog()
			before := rt.n.Load()
			sent, err := lc.Send(ctx, "+8613500000001", "203.0.113.7")
			require.NoError(t, err)
			assert.Equal(t, int64(2), rt.n.Load()-before, "a send: reserve (and store the code) in one pipeline, then lift the hold")
			assert.Equal(t, len(p.Commands()), count(p.Commands(), "EVALSHA"), "only scripts")
			code := srv.Calls()[1].VerifyCode

			p.ResetLog()
			before = rt.n.Load()
			err = lc.Check(ctx, sent.ID, wrong(code), "203.0.113.7")
			var w *otp.WrongCodeError
			require.ErrorAs(t, err, &w)
			assert.Equal(t, otp.DefaultMaxChecks-1, w.AttemptsLeft, "counted once")
			assert.Equal(t, int64(1), rt.n.Load()-before, "a check is one round trip")
			perCheck := len(p.Commands()) // the verification's and the client's
			assert.Equal(t, 2, perCheck)

			p.ResetLog()
			p.Inject(isScript, fault(f))
			err = lc.Check(ctx, sent.ID, wrong(code), "203.0.113.7")
			require.ErrorAs(t, err, &w)
			assert.Equal(t, otp.DefaultMaxChecks-2, w.AttemptsLeft, "the guess is counted once")
			assert.Greater(t, count(p.Commands(), "EVALSHA"), perCheck, "the check met the fault, and go-redis sent it again")
			p.Inject(isScript, fault(f))
			require.NoError(t, lc.Check(ctx, sent.ID, code, "203.0.113.7"), "the right code stays right")

			// A send whose reservation meets the fault is not refused
			// by itself, and its code works.
			p.Inject(isScript, fault(f))
			sent, err = lc.Send(ctx, "+8613500000002", "203.0.113.7")
			require.NoError(t, err)
			require.NoError(t, lc.Check(ctx, sent.ID, srv.Calls()[2].VerifyCode, ""))
			assert.Len(t, srv.Calls(), 3, "one call per send")
		})
	}
}

func count(cmds [][]string, name string) int {
	n := 0
	for _, c := range cmds {
		if c[0] == name {
			n++
		}
	}
	return n
}

func wrong(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestGuardScenarios: the toll-fraud pattern on Redis (the hour-long
// legitimate mix needs a store on the test's clock; it runs in package
// otp on the memory store).
func TestGuardScenarios(t *testing.T) {
	t.Parallel()
	storetest.RunGuardScenarios(t, false, func(t *testing.T, _ func() time.Time) otp.Store {
		st, _ := newStore(t)
		return st.OTPStore()
	})
}

// TestReserveErrorGivesBack: a reservation whose pipeline fails (no
// retries, and the fault met by the number's step, after the token's
// step ran) gives every step back: the number is not held, the counter
// not counted, the verification and the token's record not kept.
func TestReserveErrorGivesBack(t *testing.T) {
	t.Parallel()
	redistestNeed(t)
	for _, kind := range []redistest.FaultKind{redistest.DropReply, redistest.ResetBefore, redistest.ResetAfter} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			p, err := redistest.NewProxy(redisSrv.Addr)
			require.NoError(t, err)
			t.Cleanup(func() { _ = p.Close() })
			rdb := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1})
			t.Cleanup(func() { _ = rdb.Close() })
			prefix := "test:" + randHex() + ":"
			s := redisstore.New(rdb, redisstore.WithPrefix(prefix)).OTPStore()
			ctx := context.Background()
			c := otp.Counter{Key: "g", Limit: 1, Window: time.Hour, Reason: otp.ReasonGlobal}
			res := func(num string) otp.Reservation {
				return otp.Reservation{ID: randHex(), Token: randHex(), Number: num, MAC: []byte("m"), MaxChecks: 5,
					TTL: time.Minute, Cooldown: time.Minute, Counters: []otp.Counter{c}}
			}
			// Load the scripts (a refused reservation runs every give-back).
			_, err = s.Reserve(ctx, otp.Reservation{ID: randHex(), Token: randHex(), Number: "w", MAC: []byte("m"), MaxChecks: 5, TTL: time.Minute,
				Counters: []otp.Counter{{Key: "w", Limit: 1, Window: time.Hour}}})
			require.NoError(t, err)
			ref, err := s.Reserve(ctx, otp.Reservation{ID: randHex(), Token: randHex(), Number: "w", MAC: []byte("m"), MaxChecks: 5, TTL: time.Minute,
				Counters: []otp.Counter{{Key: "w", Limit: 1, Window: time.Hour}}})
			require.NoError(t, err)
			require.Equal(t, otp.ReasonPending, ref.Reason)

			num := randHex()
			r := res(num)
			p.Inject(func(args []string) bool { return isScript(args) && strings.HasSuffix(args[3], ":hold") }, redistest.Fault{Kind: kind})
			_, err = s.Reserve(ctx, r)
			require.Error(t, err)
			require.Zero(t, p.Pending())

			got, err := s.Check(ctx, otp.CheckRequest{ID: r.ID, MAC: []byte("m"), Op: randHex()})
			require.NoError(t, err)
			assert.Equal(t, otp.CheckUnknown, got.Status, "no verification kept")
			n, err := rdb.Exists(ctx, prefix+"otp:t:{"+r.Token+"}").Result()
			require.NoError(t, err)
			assert.Zero(t, n, "no token record kept")
			ref, err = s.Reserve(ctx, res(num))
			require.NoError(t, err)
			assert.Equal(t, otp.ReasonNone, ref.Reason, "neither held nor counted")
		})
	}
}
