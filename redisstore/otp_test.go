package redisstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/storetest"
	"github.com/voicecall-go/voicecall/voicetest"
)

func TestCodeStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.RunCodeStoreTests(t, func(t *testing.T) otp.CodeStore {
		st, _ := newStore(t)
		return st.CodeStore()
	})
}

func TestGuardStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.RunGuardStoreTests(t, func(t *testing.T) otp.GuardStore {
		st, _ := newStore(t)
		return st.GuardStore()
	})
}

// TestOTPRoundTrips: every operation of the code and guard stores is one
// round trip, once the scripts are loaded.
func TestOTPRoundTrips(t *testing.T) {
	t.Parallel()
	st, rt := newStore(t)
	ctx := context.Background()
	codes, guard := st.CodeStore(), st.GuardStore()
	warm := func() { // load every script: EVALSHA, NOSCRIPT, EVAL
		require.NoError(t, codes.Put(ctx, "warm", []byte("m"), time.Minute))
		_, err := codes.Check(ctx, "warm", []byte("m"), 5)
		require.NoError(t, err)
		_, err = guard.Reserve(ctx, otp.Reservation{Number: "warm", Token: "warm", Hold: time.Minute})
		require.NoError(t, err)
		require.NoError(t, guard.Settle(ctx, "warm", otp.SettleFailed))
	}
	warm()
	counters := []otp.Counter{
		{Key: "a", Limit: 5, Window: time.Hour, Reason: otp.ReasonNumberHourly},
		{Key: "b", Limit: 10, Window: 24 * time.Hour, Reason: otp.ReasonNumberDaily},
		{Key: "c", Limit: 100, Window: time.Minute, Reason: otp.ReasonGlobal},
	}
	ops := []struct {
		name string
		op   func() error
	}{
		{"Put", func() error { return codes.Put(ctx, "n", make([]byte, 32), time.Minute) }},
		{"Check", func() error { _, err := codes.Check(ctx, "n", make([]byte, 32), 5); return err }},
		{"Reserve", func() error {
			_, err := guard.Reserve(ctx, otp.Reservation{Number: "n", Token: "t", Cooldown: time.Minute, Hold: time.Minute, Counters: counters})
			return err
		}},
		{"Settle", func() error { return guard.Settle(ctx, "t", otp.SettlePlaced) }},
	}
	for _, o := range ops {
		before := rt.n.Load()
		require.NoError(t, o.op(), o.name)
		assert.Equal(t, int64(1), rt.n.Load()-before, "%s: round trips", o.name)
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
			Codes: st.CodeStore(), Guards: st.GuardStore(),
		})
		require.NoError(t, err)
		lcs = append(lcs, lc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const phone = "+8613500000001"

	sendErrs := concurrently(16, func(i int) error { _, err := lcs[i%2].Send(ctx, phone, ""); return err })
	var sent int
	for _, err := range sendErrs {
		if err == nil {
			sent++
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

	checkErrs := concurrently(20, func(i int) error { return lcs[i%2].Check(ctx, phone, wrong) })
	counts := map[error]int{}
	for _, err := range checkErrs {
		counts[err]++
	}
	assert.Equal(t, map[error]int{otp.ErrWrongCode: 5, otp.ErrTooManyChecks: 15}, counts)
	assert.ErrorIs(t, lcs[0].Check(ctx, phone, code), otp.ErrTooManyChecks)
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
