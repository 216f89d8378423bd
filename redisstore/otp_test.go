package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/storetest"
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
