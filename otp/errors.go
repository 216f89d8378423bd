package otp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors of [Lifecycle.Send] and [Lifecycle.Check]; match them with
// [errors.Is].
var (
	// ErrInvalidNumber: the phone number is not a valid telephone number
	// ("+" and digits, 4-31 characters in all, of a shape the
	// [NumberPolicy] knows). Nothing was sent.
	ErrInvalidNumber = errors.New(`voicecall: otp: invalid phone number`)
	// ErrDestinationNotAllowed: a valid number the [NumberPolicy]
	// refuses (a country or a type of number not allowed). Nothing was
	// sent.
	ErrDestinationNotAllowed = errors.New("voicecall: otp: destination not allowed")
	// ErrRefused is matched by every [*RefusedError].
	ErrRefused = errors.New("voicecall: otp: refused by the guard")
	// ErrNoCode: the verification id is unknown, expired or used (one
	// and the same answer for the three).
	ErrNoCode = errors.New("voicecall: otp: no code pending: unknown, expired or used verification")
	// ErrWrongCode: the code does not match; the check was counted. It
	// is matched by every [*WrongCodeError].
	ErrWrongCode = errors.New("voicecall: otp: wrong code")
	// ErrTooManyChecks: the verification was checked MaxChecks times
	// already; a new code must be sent.
	ErrTooManyChecks = errors.New("voicecall: otp: too many checks: send a new code")
	// ErrMalformedCode: the code typed is not CodeLength digits. It was
	// not checked and not counted.
	ErrMalformedCode = errors.New("voicecall: otp: malformed code: must be the code's digits")
)

// Reason is why the guard refused a send or a check.
type Reason int

// Reasons of a refusal.
const (
	ReasonNone         Reason = iota // not refused
	ReasonPending                    // an earlier call's outcome is unknown
	ReasonCooldown                   // a code was sent to the number less than Cooldown ago
	ReasonNumberHourly               // the number's calls in the last hour reached PerNumberHour
	ReasonNumberDaily                // the number's calls in the last day reached PerNumberDay
	ReasonClient                     // the client's sends reached PerClient in ClientWindow
	ReasonGlobal                     // the app's calls in the last minute reached GlobalPerMinute
	ReasonGlobalHourly               // the app's calls in the last hour reached GlobalPerHour
	ReasonGlobalDaily                // the app's calls in the last day reached GlobalPerDay
	ReasonNetwork                    // the sends of the client's /24 (IPv4) or /64 (IPv6) reached PerNetwork
	ReasonCountry                    // the country's unverified sends reached its allowance (Guard.Country)
	ReasonRange                      // the number range's unverified sends reached its allowance (Guard.Range)
	ReasonChecks                     // the client's checks reached ChecksPerClient in ClientWindow
)

var reasonNames = [...]string{"none", "pending", "cooldown", "number-hourly", "number-daily", "client", "global",
	"global-hourly", "global-daily", "network", "country", "range", "checks"}

// String returns a short name: "cooldown", "number-daily"...
func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// RefusedError is returned, as a pointer, when the guard refuses a send
// (nothing was sent) or a check (nothing was checked or counted). It
// matches [ErrRefused].
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
	return fmt.Sprintf("voicecall: otp: refused by the guard: %s, retry after %ds", e.Reason, RetryAfterSeconds(e.RetryAfter))
}

// Is reports whether target is [ErrRefused].
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// WrongCodeError is returned, as a pointer, by [Lifecycle.Check] for a
// wrong code. It matches [ErrWrongCode].
type WrongCodeError struct {
	// AttemptsLeft is how many more checks the verification allows.
	AttemptsLeft int
}

// Error says how many checks are left.
func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("voicecall: otp: wrong code: %d attempts left", e.AttemptsLeft)
}

// Is reports whether target is [ErrWrongCode].
func (e *WrongCodeError) Is(target error) bool { return target == ErrWrongCode }

// DestinationError is a NumberPolicy's refusal of a number.
type DestinationError struct {
	// Err is ErrInvalidNumber (not a valid telephone number) or ErrDestinationNotAllowed
	// (a valid number the policy refuses).
	Err error
	// Reason says why, without the number, such as "country FR not allowed",
	// "premium-rate number" or "too long for CN".
	Reason string
}

// Error returns "otp: ", Err's text after "otp: ", ": " and Reason, such
// as "otp: destination not allowed: premium-rate number".
func (e *DestinationError) Error() string {
	msg := "destination refused"
	if e.Err != nil {
		msg = e.Err.Error()
		if _, after, ok := strings.Cut(msg, "otp: "); ok {
			msg = after
		}
	}
	return "otp: " + msg + ": " + e.Reason
}

// Unwrap returns Err.
func (e *DestinationError) Unwrap() error { return e.Err }

// RetryAfterSeconds rounds d up to whole seconds, at least 1, as an HTTP
// Retry-After header wants it.
func RetryAfterSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

func errf(format string, args ...any) error {
	return fmt.Errorf("voicecall: otp: "+format, args...)
}
