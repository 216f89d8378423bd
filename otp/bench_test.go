package otp

// Paired benchmark: the sub-benchmarks of BenchmarkLifecycle are named
// impl=... so that one run gives the ratio with `benchstat -col /impl`. impl=callverify is the
// baseline, a bare CallVerify against voicetest; impl=send is
// Lifecycle.Send (code, guard, CallVerify, store) and impl=send+check
// adds one Lifecycle.Check, on the memory stores.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/voicetest"
)

// noLimits sets every limit of the guard high enough to let every send
// through; its store work (hold, cooldown, counters) is still done.
var noLimits = Guard{
	Cooldown: time.Nanosecond, PerNumberHour: 1 << 30, PerNumberDay: 1 << 30, PerClient: 1 << 30, PerNetwork: 1 << 30,
	ChecksPerClient: 1 << 30, GlobalPerMinute: 1 << 30, GlobalPerHour: 1 << 30, GlobalPerDay: 1 << 30,
	Country: Allowance{Base: 1 << 30}, Range: Allowance{Base: 1 << 30},
}

var (
	benchKey = []byte("0123456789abcdef0123456789abcdef")
	benchTo  = "+8613500000001"
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
	lc, err := New(Config{
		Client: client, Key: benchKey, DisplayNumber: "+8675528000088", PreTone: "pretone.wav",
		Guard: noLimits,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("impl=callverify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := client.CallVerify(ctx, &voicecall.CallVerifyRequest{
				DisplayNumber: "+8675528000088", CalleeNumber: benchTo, LanguageType: voicecall.LanguageChinese,
				PreTone: "pretone.wav", VerifyCode: "123456",
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=send", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := lc.Send(ctx, benchTo, "203.0.113.7"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=send+check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sent, err := lc.Send(ctx, benchTo, "203.0.113.7")
			if err != nil {
				b.Fatal(err)
			}
			// A wrong code costs what a right one does (one MAC, one
			// store step) and keeps the loop free of look-ups.
			if err := lc.Check(ctx, sent.ID, "000000", "203.0.113.7"); !errors.Is(err, ErrWrongCode) && err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSendOverhead measures what Send and Check add to a call: every
// step of Send but the CallVerify itself (validation, the code, the
// token, the guard, the MAC, the code store, the settlement), then one
// Check, on the memory stores with every limit checked (set high enough
// to let every send through). The stores are renewed every 1,000 sends:
// the default global cap (100 a minute) keeps a real store about that
// size, where a benchmark running 50,000 sends a second would grow it
// without bound. Compare it with BenchmarkLifecycle/impl=callverify, the
// call alone.
func BenchmarkSendOverhead(b *testing.B) {
	srv := voicetest.Start(b)
	client, err := srv.NewClient()
	if err != nil {
		b.Fatal(err)
	}
	lc, err := New(Config{
		Client: client, Key: benchKey, DisplayNumber: "+8675528000088", PreTone: "pretone.wav",
		Guard: noLimits,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	resp := &voicecall.CallResponse{SessionID: "1200_1_0_20190101000000", ResultCode: voicecall.CodeSuccess}
	for _, mode := range []string{"send", "send+check"} {
		b.Run("steps="+mode, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i++; i%1000 == 0 {
					lc.store = NewMemoryStore()
				}
				p, err := lc.reserve(ctx, "+8613500000001", "203.0.113.7")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := lc.finish(ctx, p, resp, nil); err != nil {
					b.Fatal(err)
				}
				if mode == "send+check" {
					if err := lc.Check(ctx, p.id, p.code, "203.0.113.7"); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
