package redisstore_test

import (
	"context"
	"errors"
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

func TestOTPStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.RunStoreTests(t, func(t *testing.T) storetest.Harness {
		st, _ := newStore(t)
		return storetest.Harness{Store: st.OTPStore()}
	})
}

// TestOTPRoundTrips: every operation of the store is one round trip, once
// the scripts are loaded; so a send reserves (and stores its code) in one
// and a check is one.
func TestOTPRoundTrips(t *testing.T) {
	t.Parallel()
	st, rt := newStore(t)
	ctx := context.Background()
	store := st.OTPStore()
	warm := func() { // load every script: EVALSHA, NOSCRIPT, EVAL
		_, err := store.Reserve(ctx, otp.Reservation{ID: "warm", Token: "warm", Number: "warm", MAC: []byte("m"), MaxChecks: 5, TTL: time.Minute})
		require.NoError(t, err)
		_, err = store.Check(ctx, otp.CheckRequest{ID: "warm", MAC: []byte("m"), Op: "warm"})
		require.NoError(t, err)
		require.NoError(t, store.Settle(ctx, "warm", otp.SettleFailed))
	}
	warm()
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
	ops := []struct {
		name string
		op   func() error
	}{
		{"Reserve", func() error {
			_, err := store.Reserve(ctx, otp.Reservation{ID: "v", Token: "t", Number: "n", MAC: make([]byte, 32), MaxChecks: 5,
				TTL: time.Minute, Cooldown: time.Minute, Counters: counters, Conversions: convs})
			return err
		}},
		{"CheckWrong", func() error {
			_, err := store.Check(ctx, otp.CheckRequest{ID: "v", MAC: []byte("x"), Op: "1", Client: client})
			return err
		}},
		{"CheckValid", func() error {
			_, err := store.Check(ctx, otp.CheckRequest{ID: "v", MAC: make([]byte, 32), Op: "2", Client: client})
			return err
		}},
		{"Settle", func() error { return store.Settle(ctx, "t", otp.SettlePlaced) }},
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
