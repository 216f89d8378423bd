package redisstore_test

// Latency of each store operation against the local redis-server, with
// op=ping (one round trip doing nothing) as the floor. Every operation
// is one round trip (TestOTPRoundTrips, TestDedupRoundTrips and
// TestCorrelationRoundTrips count them); what it adds over ping is the
// script's work. op=reserve+settle and op=claim50+release50 are two
// operations each.

import (
	"context"
	"encoding/binary"
	"strconv"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/otp"
)

func BenchmarkRedisOTP(b *testing.B) {
	st, _ := newStore(b)
	ctx := context.Background()
	codes, guard := st.CodeStore(), st.GuardStore()
	mac := make([]byte, 32)
	counters := []otp.Counter{
		{Key: "nh", Limit: 1 << 30, Window: time.Hour, Reason: otp.ReasonNumberHourly},
		{Key: "nd", Limit: 1 << 30, Window: 24 * time.Hour, Reason: otp.ReasonNumberDaily},
		{Key: "g", Limit: 1 << 30, Window: time.Minute, Reason: otp.ReasonGlobal},
	}
	b.Run("op=ping", func(b *testing.B) {
		for b.Loop() {
			if err := st.Client().Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("op=put", func(b *testing.B) {
		for b.Loop() {
			if err := codes.Put(ctx, "n", mac, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("op=check", func(b *testing.B) {
		if err := codes.Put(ctx, "c", mac, time.Minute); err != nil {
			b.Fatal(err)
		}
		wrong := make([]byte, 32)
		wrong[31] = 1
		for b.Loop() {
			if _, err := codes.Check(ctx, "c", wrong, 1<<30); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("op=reserve+settle", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			tok := "t" + strconv.Itoa(i)
			ref, err := guard.Reserve(ctx, otp.Reservation{Number: "r", Token: tok, Cooldown: time.Minute, Hold: time.Minute, Counters: counters})
			if err != nil || ref.Reason != otp.ReasonNone {
				b.Fatal(err, ref)
			}
			if err := guard.Settle(ctx, tok, otp.SettleFailed); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRedisReceiver(b *testing.B) {
	st, _ := newStore(b)
	ctx := context.Background()
	d := st.DedupStore(0, 0)
	c := st.CorrelationStore(0)
	keys := make([]voicecall.DedupKey, 50)
	b.Run("op=claim50+release50", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			for j := range keys {
				binary.BigEndian.PutUint64(keys[j][:], uint64(i))
				keys[j][8] = byte(j)
			}
			if _, err := d.Claim(ctx, keys); err != nil {
				b.Fatal(err)
			}
			if err := d.Release(ctx, keys); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("op=commit50", func(b *testing.B) {
		for b.Loop() {
			if err := d.Commit(ctx, keys); err != nil {
				b.Fatal(err)
			}
		}
	})
	now := time.Now()
	s := voicecall.CallSighting{UserData: "vc0123456789abcdef0123456789abcdef", SessionID: "1200_1_0_20260101000000", LastEvent: voicecall.EventAnswer, Answered: true, FirstSeen: now, LastSeen: now}
	b.Run("op=observe", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.Observe(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("op=lookup", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := c.Lookup(ctx, s.UserData); err != nil {
				b.Fatal(err)
			}
		}
	})
}
