package vcotel

import (
	"context"

	"github.com/voicecall-go/voicecall/otp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys of the verification-code lifecycle's metrics and span
// events.
const (
	AttrOTPCountry    = attribute.Key("voicecall.otp.country")
	AttrOTPReason     = attribute.Key("voicecall.otp.reason")
	AttrOTPRecordOnly = attribute.Key("voicecall.otp.record_only")
	AttrOTPResult     = attribute.Key("voicecall.otp.result")
	AttrOTPAttempts   = attribute.Key("voicecall.otp.attempts_left")
	AttrOTPID         = attribute.Key("voicecall.otp.verification_id")
)

// Metric names of the verification-code lifecycle (counters).
const (
	MetricOTPSends       = "voicecall.otp.sends"
	MetricOTPRefusals    = "voicecall.otp.refusals"
	MetricOTPChecks      = "voicecall.otp.checks"
	MetricOTPConversions = "voicecall.otp.conversions"
	MetricOTPFailures    = "voicecall.otp.failures"
)

// Span event names of the verification-code lifecycle.
const (
	EventOTPSent        = "voicecall.otp.sent"
	EventOTPRefused     = "voicecall.otp.refused"
	EventOTPChecked     = "voicecall.otp.checked"
	EventOTPApproved    = "voicecall.otp.approved"
	EventOTPExpired     = "voicecall.otp.expired"
	EventOTPMaxAttempts = "voicecall.otp.max_attempts"
)

// reasonDestination is voicecall.otp.reason for a send the number policy
// refused (the guard's reasons are otp.Reason's names).
const reasonDestination = "destination"

// OTPHooks returns the hooks that turn a verification's steps into
// metrics and span events, for [otp.Config].Hooks:
//
//	lc, err := otp.New(otp.Config{..., Hooks: vcotel.OTPHooks()})
//
// Counters (attributes in brackets):
//
//   - voicecall.otp.sends: calls placed or possibly placed
//     [voicecall.otp.country, voicecall.outcome];
//   - voicecall.otp.refusals: sends refused before any call
//     [voicecall.otp.reason: the guard's reason, such as "range" or
//     "network", or "destination" when the number policy refused;
//     voicecall.otp.country; voicecall.otp.record_only: true when the
//     guard only reported it];
//   - voicecall.otp.checks: checks [voicecall.otp.result: valid, wrong,
//     exhausted, unknown, expired, used or rate-limited];
//   - voicecall.otp.conversions: verifications approved
//     [voicecall.otp.country]; conversions divided by sends, by
//     country, is the conversion rate a toll-fraud alert watches;
//   - voicecall.otp.failures: verifications that ended unverified
//     [voicecall.otp.reason: expired or max-attempts;
//     voicecall.otp.country].
//
// Each step is also an event on the span of the context the Lifecycle
// was called with (voicecall.otp.sent, .refused, .checked, .approved,
// .expired, .max_attempts), with the verification id and the attributes
// above: put the HTTP request's context in, and the request's span shows
// what the lifecycle did. Nothing recorded holds a code, a MAC or a
// phone number; the number range is left out of metrics (its values are
// unbounded) and of events (with a masked number in a log it would give
// the whole number).
func OTPHooks(opts ...Option) otp.Hooks {
	c := newConfig(opts)
	meter := c.mp.Meter(ScopeName)
	counter := func(name, desc string) metric.Int64Counter {
		ctr, err := meter.Int64Counter(name, metric.WithDescription(desc))
		reportErr(err)
		return ctr
	}
	sends := counter(MetricOTPSends, "Verification calls placed, or possibly placed")
	refusals := counter(MetricOTPRefusals, "Verification sends refused before any call")
	checks := counter(MetricOTPChecks, "Verification code checks")
	conversions := counter(MetricOTPConversions, "Verifications approved")
	failures := counter(MetricOTPFailures, "Verifications that ended unverified")

	event := func(ctx context.Context, name, id string, attrs ...attribute.KeyValue) {
		span := trace.SpanFromContext(ctx)
		if !span.IsRecording() {
			return
		}
		if id != "" {
			attrs = append(attrs, AttrOTPID.String(id))
		}
		span.AddEvent(name, trace.WithAttributes(attrs...))
	}
	ended := func(name, reason string) func(context.Context, otp.VerificationEvent) {
		return func(ctx context.Context, e otp.VerificationEvent) {
			country := AttrOTPCountry.String(e.Country)
			failures.Add(ctx, 1, metric.WithAttributes(AttrOTPReason.String(reason), country))
			event(ctx, name, e.ID, country)
		}
	}
	return otp.Hooks{
		Sent: func(ctx context.Context, e otp.SentEvent) {
			attrs := []attribute.KeyValue{AttrOTPCountry.String(e.Country), AttrOutcome.String(e.Outcome.String())}
			sends.Add(ctx, 1, metric.WithAttributes(attrs...))
			event(ctx, EventOTPSent, e.ID, attrs...)
		},
		Refused: func(ctx context.Context, e otp.RefusedEvent) {
			reason := reasonDestination
			if e.Reason != otp.ReasonNone {
				reason = e.Reason.String()
			}
			attrs := []attribute.KeyValue{AttrOTPReason.String(reason), AttrOTPCountry.String(e.Country), AttrOTPRecordOnly.Bool(e.RecordOnly)}
			refusals.Add(ctx, 1, metric.WithAttributes(attrs...))
			event(ctx, EventOTPRefused, "", attrs...)
		},
		Checked: func(ctx context.Context, e otp.CheckedEvent) {
			result := AttrOTPResult.String(e.Result.String())
			checks.Add(ctx, 1, metric.WithAttributes(result))
			event(ctx, EventOTPChecked, e.ID, result, AttrOTPCountry.String(e.Country), AttrOTPAttempts.Int(e.AttemptsLeft))
		},
		Approved: func(ctx context.Context, e otp.VerificationEvent) {
			country := AttrOTPCountry.String(e.Country)
			conversions.Add(ctx, 1, metric.WithAttributes(country))
			event(ctx, EventOTPApproved, e.ID, country)
		},
		Expired:     ended(EventOTPExpired, "expired"),
		MaxAttempts: ended(EventOTPMaxAttempts, "max-attempts"),
	}
}
