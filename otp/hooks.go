package otp

import (
	"context"

	"github.com/voicecall-go/voicecall"
)

// Hooks are optional functions a [Lifecycle] calls as verifications go,
// for metrics, audit logs and tracing (sends, refusals by reason,
// conversions by country), in the style of [voicecall.ClientHooks]. Set
// them in [Config].Hooks; any field may be nil. They run on the caller's
// goroutine, after the step they report, and must be quick.
//
// Events never carry a code, a MAC or a full phone number: a
// verification is named by its ID, a destination by its country and its
// range (the country calling code and the first 7 digits of the national
// number). A hook that panics is recovered: the Lifecycle goes on as if
// the hook had not been set.
type Hooks struct {
	// Sent is called once a send's call was placed, or may have been
	// (Outcome unknown).
	Sent func(ctx context.Context, e SentEvent)
	// Refused is called when a send is refused before any call: by the
	// [NumberPolicy] (Reason ReasonNone, Detail the policy's reason) or
	// by the guard (Reason set). With RecordOnly the guard only reported
	// the refusal and the send went on.
	Refused func(ctx context.Context, e RefusedEvent)
	// Checked is called after every check that reached the store, with
	// its result.
	Checked func(ctx context.Context, e CheckedEvent)
	// Approved is called when a check found the right code: the
	// verification is used up and its destination converted.
	Approved func(ctx context.Context, e VerificationEvent)
	// Expired is called when a check arrives after its verification's
	// TTL (while the store still remembers it, up to another TTL).
	Expired func(ctx context.Context, e VerificationEvent)
	// MaxAttempts is called when a wrong code used the verification's
	// last check.
	MaxAttempts func(ctx context.Context, e VerificationEvent)
}

// VerificationEvent names a verification and its destination.
type VerificationEvent struct {
	// ID is the verification's id, as [Sent].ID.
	ID string
	// Country and Range are the destination's, as the [NumberPolicy]
	// gave them ("CN", "+861350000").
	Country, Range string
}

// SentEvent describes a send whose call was placed or may have been.
type SentEvent struct {
	VerificationEvent
	// Outcome is accepted or unknown.
	Outcome voicecall.Outcome
	// Token is the call's correlation token (its userData).
	Token string
}

// RefusedEvent describes a send refused before its call.
type RefusedEvent struct {
	// Country and Range are the destination's, "" when the policy
	// refused the number.
	Country, Range string
	// Reason is the guard's reason; ReasonNone when the [NumberPolicy]
	// refused the number.
	Reason Reason
	// Detail is the policy's reason ([DestinationError].Reason) or the
	// guard's reason's name.
	Detail string
	// RecordOnly is true when the guard only reported the refusal and
	// the send went on ([Guard].RecordOnly).
	RecordOnly bool
}

// CheckedEvent describes one check.
type CheckedEvent struct {
	VerificationEvent
	// Result is the store's answer: valid, wrong, exhausted, unknown,
	// expired, used or rate-limited. Country and Range are "" when the
	// verification was not found.
	Result CheckStatus
	// AttemptsLeft is the checks still allowed (valid and wrong).
	AttemptsLeft int
}

func call[E any](ctx context.Context, hook func(context.Context, E), e E) {
	if hook == nil {
		return
	}
	defer func() { _ = recover() }()
	hook(ctx, e)
}
