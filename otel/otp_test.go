package vcotel_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/internal/fakeclock"
	vcotel "github.com/voicecall-go/voicecall/otel"
	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/voicetest"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// counts returns the int64 counter name's values by the attributes
// given, rendered "k=v,k=v" in the order of keys.
func (tm *telemetry) counts(t *testing.T, name string, keys ...attribute.Key) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, dp := range tm.sum(t, name) {
		var parts []string
		for _, k := range keys {
			v, _ := dp.Attributes.Value(k)
			parts = append(parts, string(k)+"="+v.Emit())
		}
		out[strings.Join(parts, ",")] += dp.Value
	}
	return out
}

// TestOTPHooks drives a Lifecycle through every step and checks the
// counters and the span events each one leaves.
func TestOTPHooks(t *testing.T) {
	tm := newTelemetry(t)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	platform := voicetest.Start(t)
	client, err := platform.NewClient()
	require.NoError(t, err)
	clock := fakeclock.New(time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC))
	lc, err := otp.New(otp.Config{
		Client: client, Key: []byte("0123456789abcdef0123456789abcdef"),
		DisplayNumber: "+8675528000088", PreTone: "pretone.wav",
		MaxChecks: 2,
		Store:     otp.NewMemoryStoreClock(clock.Now),
		Now:       clock.Now,
		Hooks:     vcotel.OTPHooks(tm.opts...),
	})
	require.NoError(t, err)

	ctx, span := tp.Tracer("test").Start(context.Background(), "request")
	codeOf := func(phone string) string {
		t.Helper()
		calls := platform.Calls()
		for i := len(calls) - 1; i >= 0; i-- {
			if calls[i].CalleeNbr == phone {
				return calls[i].VerifyCode
			}
		}
		t.Fatalf("no call to %s", phone)
		return ""
	}
	wrong := func(code string) string {
		if code == "000000" {
			return "111111"
		}
		return "000000"
	}

	// Approved: a send, a wrong check, the right one.
	a, err := lc.Send(ctx, "+8613500000001", "198.51.100.7")
	require.NoError(t, err)
	require.ErrorIs(t, lc.Check(ctx, a.ID, wrong(codeOf("+8613500000001")), "198.51.100.7"), otp.ErrWrongCode)
	require.NoError(t, lc.Check(ctx, a.ID, codeOf("+8613500000001"), "198.51.100.7"))
	// Max attempts: two wrong checks.
	b, err := lc.Send(ctx, "+8613500000002", "198.51.100.7")
	require.NoError(t, err)
	for range 2 {
		require.ErrorIs(t, lc.Check(ctx, b.ID, wrong(codeOf("+8613500000002")), "198.51.100.7"), otp.ErrWrongCode)
	}
	// Expired: a check after the TTL.
	c, err := lc.Send(ctx, "+8613500000003", "198.51.100.7")
	require.NoError(t, err)
	clock.Add(otp.DefaultTTL + time.Second)
	require.ErrorIs(t, lc.Check(ctx, c.ID, codeOf("+8613500000003"), "198.51.100.7"), otp.ErrNoCode)
	// Refused by the number policy and by the guard (the cooldown).
	_, err = lc.Send(ctx, "+8690012345678", "198.51.100.7")
	var dest *otp.DestinationError
	require.ErrorAs(t, err, &dest)
	clock.Add(time.Second)
	d, err := lc.Send(ctx, "+8613500000001", "198.51.100.7")
	require.NoError(t, err, "the first code's cooldown is over")
	_, err = lc.Send(ctx, "+8613500000001", "198.51.100.7")
	var refused *otp.RefusedError
	require.ErrorAs(t, err, &refused, "a second send within the cooldown is refused")
	span.End()

	assert.Equal(t, map[string]int64{"voicecall.otp.country=CN,voicecall.outcome=accepted": 4},
		tm.counts(t, vcotel.MetricOTPSends, vcotel.AttrOTPCountry, vcotel.AttrOutcome))
	assert.Equal(t, map[string]int64{
		"voicecall.otp.reason=destination,voicecall.otp.record_only=false": 1,
		"voicecall.otp.reason=cooldown,voicecall.otp.record_only=false":    1,
	}, tm.counts(t, vcotel.MetricOTPRefusals, vcotel.AttrOTPReason, vcotel.AttrOTPRecordOnly))
	assert.Equal(t, map[string]int64{
		"voicecall.otp.result=wrong": 3, "voicecall.otp.result=valid": 1, "voicecall.otp.result=expired": 1,
	}, tm.counts(t, vcotel.MetricOTPChecks, vcotel.AttrOTPResult))
	assert.Equal(t, map[string]int64{"voicecall.otp.country=CN": 1},
		tm.counts(t, vcotel.MetricOTPConversions, vcotel.AttrOTPCountry))
	assert.Equal(t, map[string]int64{
		"voicecall.otp.reason=max-attempts,voicecall.otp.country=CN": 1,
		"voicecall.otp.reason=expired,voicecall.otp.country=CN":      1,
	}, tm.counts(t, vcotel.MetricOTPFailures, vcotel.AttrOTPReason, vcotel.AttrOTPCountry))

	ended := spans.Ended()
	require.Len(t, ended, 1)
	var names []string
	for _, ev := range ended[0].Events() {
		names = append(names, ev.Name)
		for _, kv := range ev.Attributes {
			assert.NotContains(t, kv.Value.Emit(), "13500000", "%s: no phone number in %s", ev.Name, kv.Key)
			if kv.Key == vcotel.AttrOTPID {
				assert.Contains(t, []string{a.ID, b.ID, c.ID, d.ID}, kv.Value.AsString(), "the verification's id")
			}
		}
	}
	assert.Equal(t, []string{
		vcotel.EventOTPSent, vcotel.EventOTPChecked, vcotel.EventOTPChecked, vcotel.EventOTPApproved,
		vcotel.EventOTPSent, vcotel.EventOTPChecked, vcotel.EventOTPChecked, vcotel.EventOTPMaxAttempts,
		vcotel.EventOTPSent, vcotel.EventOTPChecked, vcotel.EventOTPExpired,
		vcotel.EventOTPRefused, vcotel.EventOTPSent, vcotel.EventOTPRefused,
	}, names)
}
