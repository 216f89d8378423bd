package otp_test

// Paired benchmark: the sub-benchmarks are named impl=... so that one run
// gives the ratio with `benchstat -col /impl`. impl=callverify is the
// baseline, a bare CallVerify against voicetest; impl=send is
// Lifecycle.Send (code, guard, CallVerify, store) and impl=send+check
// adds one Lifecycle.Check, on the memory stores.

import (
	"context"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/voicetest"
)

func BenchmarkLifecycle(b *testing.B) {
	srv := voicetest.Start(b, voicetest.WithTimeScale(0), voicetest.WithPorts(65535))
	client, err := srv.NewClient()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// The guard's limits are off, so that every send goes through; its
	// store work (hold, cooldown, counters) is still done.
	lc, err := otp.New(otp.Config{
		Client: client, Key: testKey, DisplayNumber: "+8675528000088", PreTone: "pretone.wav",
		Guard: otp.Guard{Cooldown: time.Nanosecond, PerNumberHour: 1 << 30, PerNumberDay: 1 << 30, GlobalPerMinute: 1 << 30},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("impl=callverify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := client.CallVerify(ctx, &voicecall.CallVerifyRequest{
				DisplayNumber: "+8675528000088", CalleeNumber: phone, LanguageType: voicecall.LanguageChinese,
				PreTone: "pretone.wav", VerifyCode: "123456",
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=send", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := lc.Send(ctx, phone, "203.0.113.7"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=send+check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := lc.Send(ctx, phone, "203.0.113.7"); err != nil {
				b.Fatal(err)
			}
			// A wrong code costs what a right one does (one MAC, one
			// store step) and keeps the loop free of look-ups.
			if err := lc.Check(ctx, phone, "0000000"); err != otp.ErrWrongCode {
				b.Fatal(err)
			}
		}
	})
}
