package redisstore_test

// Latency of each store operation against the local redis-server, with
// op=ping (one round trip doing nothing) as the floor. The round trips
// are counted by TestOTPRoundTrips, TestDedupRoundTrips and
// TestCorrelationRoundTrips: a reservation is one pipeline of scripts
// (one per hash tag: token, verification, number, each counter) and its
// Settle on the same OTPStore one more; what an operation adds over ping
// is the scripts' work. op=reserve+settle and op=claim50+release50 are
// two operations each.

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
	store := st.OTPStore()
	mac := make([]byte, 32)
	counters := []otp.Counter{
		{Key: "nh", Limit: 1 << 30, Window: time.Hour, Reason: otp.ReasonNumberHourly},
		{Key: "nd", Limit: 1 << 30, Window: 24 * time.Hour, Reason: otp.ReasonNumberDaily},
		{Key: "g", Limit: 1 << 30, Window: time.Minute, Reason: otp.ReasonGlobal},
	}
	convs := []otp.Conversion{{Key: "uc:CN", Base: 1 << 30, Factor: 1, Window: time.Hour, Reason: otp.ReasonCountry}}
	b.Run("op=ping", func(b *testing.B) {
		for b.Loop() {
			if err := st.Client().Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("op=check", func(b *testing.B) {
		if _, err := store.Reserve(ctx, otp.Reservation{ID: "c", Token: "c", Number: "c", MAC: mac, MaxChecks: 1 << 30, TTL: time.Minute}); err != nil {
			b.Fatal(err)
		}
		wrong := make([]byte, 32)
		wrong[31] = 1
		i := 0
		for b.Loop() {
			i++
			if _, err := store.Check(ctx, otp.CheckRequest{ID: "c", MAC: wrong, Op: strconv.Itoa(i)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// op=check-right: a right code, which uses the verification up and
	// credits its conversion counter (one more round trip: on a cluster
	// the counters live in other slots than the verification). Each
	// iteration reserves a new verification with the timer stopped.
	b.Run("op=check-right", func(b *testing.B) {
		run := strconv.FormatInt(time.Now().UnixNano(), 36)
		i := 0
		for b.Loop() {
			i++
			b.StopTimer()
			id := "v" + run + "." + strconv.Itoa(i)
			ref, err := store.Reserve(ctx, otp.Reservation{ID: id, Number: id, Token: id, MAC: mac, MaxChecks: 5, TTL: time.Minute, Conversions: convs})
			if err != nil || ref.Reason != otp.ReasonNone {
				b.Fatal(err, ref)
			}
			b.StartTimer()
			res, err := store.Check(ctx, otp.CheckRequest{ID: id, MAC: mac, Op: id})
			if err != nil || res.Status != otp.CheckValid {
				b.Fatal(err, res)
			}
		}
	})
	b.Run("op=reserve+settle", func(b *testing.B) {
		run := strconv.FormatInt(time.Now().UnixNano(), 36) // fresh tokens for each run (-count)
		i := 0
		for b.Loop() {
			i++
			tok := "t" + run + "." + strconv.Itoa(i)
			ref, err := store.Reserve(ctx, otp.Reservation{ID: tok, Number: "r", Token: tok, MAC: mac, MaxChecks: 5, Cooldown: time.Minute, TTL: time.Minute, Counters: counters, Conversions: convs})
			if err != nil || ref.Reason != otp.ReasonNone {
				b.Fatal(err, ref)
			}
			if err := store.Settle(ctx, tok, otp.SettleReleased); err != nil {
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
