package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall/internal/fakeclock"
	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/voicetest"
)

// newClock returns the scenarios' fake clock, set to a fixed instant.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) }

// RunGuardScenarios runs the guard's default limits through the two
// scenarios that decide them, with a [otp.Lifecycle] on newStore's store,
// a voicetest platform and a fake clock:
//
//   - TollFraud: 38 source addresses x 10 numbers of one range (+86168…)
//     within a minute place at most 10 calls (the measured attack placed
//     100).
//   - LegitimateMix: 2,000 distinct numbers across many ranges and
//     addresses in an hour, 80 % of them verified, are never refused.
//
// followsClock tells whether newStore's stores read the time from the
// now they are given (a memory store can; Redis keeps its own time).
// LegitimateMix spans an hour of simulated time, so it runs only on a
// store that follows the clock.
func RunGuardScenarios(t *testing.T, followsClock bool, newStore func(t *testing.T, now func() time.Time) otp.Store) {
	t.Run("TollFraud", func(t *testing.T) {
		t.Parallel()
		clock := newClock()
		lc, srv, ev := scenarioLifecycle(t, newStore(t, clock.Now), clock)
		ctx := context.Background()
		reasons := map[otp.Reason]int{}
		for a := range 38 {
			addr := fmt.Sprintf("198.%d.%d.7", 18+a/200, a%200) // 38 /24 networks
			for n := range 10 {
				number := fmt.Sprintf("+861681234%d%03d", a%10, a*10+n)
				_, err := lc.Send(ctx, number, addr)
				var r *otp.RefusedError
				switch {
				case err == nil:
				case errors.As(err, &r):
					reasons[r.Reason]++
				default:
					t.Fatalf("send %s from %s: %v", number, addr, err)
				}
				clock.Add(150 * time.Millisecond) // 380 sends in 57 s
			}
		}
		calls := len(srv.Calls())
		if calls > 10 || calls == 0 {
			t.Fatalf("the attack placed %d calls (refusals %v), want 1-10", calls, reasons)
		}
		if reasons[otp.ReasonRange] == 0 {
			t.Fatalf("refusals %v: want the range's allowance to refuse", reasons)
		}
		if got := ev.count("refused"); got != 380-calls {
			t.Fatalf("%d refusals reported, want %d", got, 380-calls)
		}
	})

	if !followsClock {
		return
	}
	t.Run("LegitimateMix", func(t *testing.T) {
		t.Parallel()
		clock := newClock()
		lc, srv, ev := scenarioLifecycle(t, newStore(t, clock.Now), clock)
		ctx := context.Background()
		prefixes := []string{"135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "182", "186", "187", "188", "189"}
		const users = 2000
		for i := range users {
			// Distinct numbers spread over many ranges; addresses over
			// 200 /24 networks, one in ten an IPv6 client.
			number := fmt.Sprintf("+86%s%04d%04d", prefixes[i%len(prefixes)], (i*7919)%10000, i)
			addr := fmt.Sprintf("100.64.%d.%d", i%200, 1+i/200)
			if i%10 == 0 {
				addr = fmt.Sprintf("2001:db8:%x::%x", i%500, i)
			}
			sent, err := lc.Send(ctx, number, addr)
			if err != nil {
				t.Fatalf("legitimate send %d (%s… from %s) refused: %v", i, number[:8], addr, err)
			}
			if i%5 != 0 { // 80 % verify, a few seconds later
				calls := srv.Calls()
				code := calls[len(calls)-1].VerifyCode
				clock.Add(900 * time.Millisecond)
				if err := lc.Check(ctx, sent.ID, code, addr); err != nil {
					t.Fatalf("legitimate check %d: %v", i, err)
				}
				clock.Add(900 * time.Millisecond)
			} else {
				clock.Add(1800 * time.Millisecond) // 2,000 sends in an hour
			}
		}
		if n := len(srv.Calls()); n != users {
			t.Fatalf("%d calls placed, want %d", n, users)
		}
		if got := ev.count("approved"); got != users*4/5 {
			t.Fatalf("%d approvals reported, want %d", got, users*4/5)
		}
	})
}

type scenarioEvents struct {
	mu sync.Mutex
	n  map[string]int
}

func (e *scenarioEvents) add(kind string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n[kind]++
}

func (e *scenarioEvents) count(kind string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n[kind]
}

func scenarioLifecycle(t *testing.T, store otp.Store, clock *fakeclock.Clock) (*otp.Lifecycle, *voicetest.Server, *scenarioEvents) {
	t.Helper()
	srv := voicetest.Start(t, voicetest.WithTimeScale(0), voicetest.WithPorts(65535), voicetest.WithMaxRecords(4000))
	client, err := srv.NewClient()
	must(t, err)
	ev := &scenarioEvents{n: map[string]int{}}
	lc, err := otp.New(otp.Config{
		Client: client, Key: []byte("scenario key, 32 bytes or longer!"), DisplayNumber: "+8675528000088", PreTone: "pretone.wav",
		Store: store, Now: clock.Now,
		Hooks: otp.Hooks{
			Refused:  func(context.Context, otp.RefusedEvent) { ev.add("refused") },
			Approved: func(context.Context, otp.VerificationEvent) { ev.add("approved") },
		},
	})
	must(t, err)
	return lc, srv, ev
}
