package otp

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Errors of [Lifecycle.Send] and [Lifecycle.Check]; match them with
// [errors.Is].
var (
	// ErrInvalidNumber: the phone number is not "+" followed by digits,
	// 4-31 characters in all. Nothing was sent.
	ErrInvalidNumber = errors.New(`voicecall: otp: invalid phone number: must be "+" followed by digits, 4-31 characters in all`)
	// ErrDestinationNotAllowed: the number starts with none of the
	// allowed prefixes ([Guard].AllowedPrefixes). Nothing was sent.
	ErrDestinationNotAllowed = errors.New("voicecall: otp: destination not allowed: the number matches no allowed prefix")
	// ErrRefused is matched by every [*RefusedError].
	ErrRefused = errors.New("voicecall: otp: send refused by the guard")
	// ErrNoCode: no code is pending for the number: none was sent, it
	// expired, or it was used.
	ErrNoCode = errors.New("voicecall: otp: no code pending: none was sent, it expired or it was used")
	// ErrWrongCode: the code does not match; the check was counted.
	ErrWrongCode = errors.New("voicecall: otp: wrong code")
	// ErrTooManyChecks: the pending code was checked MaxChecks times
	// already; a new code must be sent.
	ErrTooManyChecks = errors.New("voicecall: otp: too many checks: send a new code")
)

// Reason is why the guard refused a send.
type Reason int

// Reasons of a refusal.
const (
	ReasonNone         Reason = iota // not refused
	ReasonPending                    // an earlier call's outcome is unknown
	ReasonCooldown                   // a code was sent to the number less than Cooldown ago
	ReasonNumberHourly               // the number's calls in the last hour reached PerNumberHour
	ReasonNumberDaily                // the number's calls in the last day reached PerNumberDay
	ReasonClient                     // the client key's calls reached PerClient in ClientWindow
	ReasonGlobal                     // the app's calls in the last minute reached GlobalPerMinute
)

var reasonNames = [...]string{"none", "pending", "cooldown", "number-hourly", "number-daily", "client", "global"}

// String returns a short name: "cooldown", "number-daily"...
func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// RefusedError is returned, as a pointer, when the guard refuses a send;
// nothing was sent. It matches [ErrRefused].
type RefusedError struct {
	// Reason is the first limit that refused.
	Reason Reason
	// RetryAfter is how long until that limit lets a send through.
	// Another limit may still refuse then. For [ReasonPending] it is the
	// time left of the cooldown, when one runs (the call in flight will
	// most likely be settled by then), else of the hold.
	RetryAfter time.Duration
}

// Error names the reason and the time to wait, in whole seconds.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("voicecall: otp: send refused by the guard: %s, retry after %ds", e.Reason, RetryAfterSeconds(e.RetryAfter))
}

// Is reports whether target is [ErrRefused].
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// RetryAfterSeconds rounds d up to whole seconds, at least 1, as an HTTP
// Retry-After header wants it.
func RetryAfterSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

func errf(format string, args ...any) error {
	return fmt.Errorf("voicecall: otp: "+format, args...)
}
