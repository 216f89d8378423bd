package voicecall

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/voicecall-go/voicecall/internal/redact"
)

// Errors the Client's methods return, wrapped: match them with
// [errors.Is].
var (
	// ErrOutcomeUnknown is matched (with [errors.Is]) by every error after
	// which the request may have reached the platform, so that what it asked
	// for may or may not have happened: a connection lost after the request
	// was written, a timeout or cancellation while waiting for the answer, an
	// HTTP 1xx or 5xx, an HTML page, a truncated or malformed answer. Do not
	// resend a request that places a call blindly: a second request rings
	// the phone a second time.
	// Settle the outcome from the notifications instead, by the error's
	// UserData (see "Correlation" in the package documentation).
	ErrOutcomeUnknown = errors.New("voicecall: outcome unknown: the request may have reached the platform")

	// ErrRecordingTooLarge is returned (wrapped) by
	// [Client.DownloadRecording] when the file is larger than the bound.
	ErrRecordingTooLarge = errors.New("voicecall: recording larger than the download bound")
)

// Outcome is how a request ended.
type Outcome int

const (
	// OutcomeAccepted: the platform accepted the request (for CallVerify:
	// placed the call and returned a session id).
	OutcomeAccepted Outcome = iota
	// OutcomeRejected: the platform answered with a result code other
	// than "0", or the request provably never left this process: nothing
	// happened (no call was placed).
	OutcomeRejected
	// OutcomeUnknown: the request may have reached the platform; see
	// [ErrOutcomeUnknown].
	OutcomeUnknown
)

// String returns "accepted", "rejected" or "unknown".
func (o Outcome) String() string {
	switch o {
	case OutcomeAccepted:
		return "accepted"
	case OutcomeRejected:
		return "rejected"
	case OutcomeUnknown:
		return "unknown"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// OutcomeOf classifies the error returned by a request method: nil is
// [OutcomeAccepted], an error matching [ErrOutcomeUnknown] is
// [OutcomeUnknown], and any other error is [OutcomeRejected].
func OutcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return OutcomeAccepted
	case errors.Is(err, ErrOutcomeUnknown):
		return OutcomeUnknown
	default:
		return OutcomeRejected
	}
}

// UserDataOf returns the userData the failed request carried (the
// correlation token, see the package documentation), or "" when err
// carries none, as for a [*ValidationError].
func UserDataOf(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.UserData
	}
	var reqErr *RequestError
	if errors.As(err, &reqErr) {
		return reqErr.UserData
	}
	return ""
}

// APIError is returned, as a pointer, for every platform answer whose
// resultcode is not "0", whatever its HTTP status: the platform rejected
// the request and placed no call. An answer with an HTTP status of 500 or
// more is not certain enough for that, so it comes as a [*RequestError]
// that matches [ErrOutcomeUnknown] and wraps the APIError.
type APIError struct {
	// Op is the operation, e.g. "CallVerify".
	Op string
	// HTTPStatus is the HTTP status code of the answer.
	HTTPStatus int
	// Code is the platform's resultcode, verbatim.
	Code ResultCode
	// Description is the platform's resultdesc (for 1010002 it usually
	// names the offending parameter), with control characters removed.
	Description string
	// Body is the start of the answer's body (at most 512 bytes), for
	// diagnosis, with control characters removed.
	Body string
	// UserData is the userData of the request (the correlation token).
	UserData string
}

// Error returns "voicecall: <op>: rejected by the platform: resultcode
// <code> (<description>), http <status>".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("voicecall: ")
	b.WriteString(e.Op)
	b.WriteString(": rejected by the platform: resultcode ")
	b.WriteString(string(e.Code))
	if e.Description != "" {
		b.WriteString(" (")
		b.WriteString(e.Description)
		b.WriteString(")")
	} else if d := e.Code.Description(); d != "" {
		b.WriteString(" (")
		b.WriteString(d)
		b.WriteString(")")
	}
	b.WriteString(", http ")
	b.WriteString(strconv.Itoa(e.HTTPStatus))
	return b.String()
}

// IsAuthFailure reports whether the platform refused the credentials or
// the signature; see [ResultCode.IsAuthFailure].
func (e *APIError) IsAuthFailure() bool { return e.Code.IsAuthFailure() }

// IsClockSkew reports whether Created was too far from the platform's
// clock (1010013).
func (e *APIError) IsClockSkew() bool { return e.Code == CodeTimeOutLimit }

// IsThrottled reports whether a flow-control or call-limit code was
// returned; see [ResultCode.IsThrottled].
func (e *APIError) IsThrottled() bool { return e.Code.IsThrottled() }

// IsInvalidParameter reports whether a request parameter was refused;
// see [ResultCode.IsInvalidParameter].
func (e *APIError) IsInvalidParameter() bool { return e.Code.IsInvalidParameter() }

// IsAccountState reports whether the account, app or number is not in a
// state that allows calls; see [ResultCode.IsAccountState].
func (e *APIError) IsAccountState() bool { return e.Code.IsAccountState() }

// Hint says, in one sentence for a person, what to check when the
// platform refused the credentials, the signature, the caller's IP
// address or the clock; it returns "" for every other refusal. Command
// line tools print it beside the error.
func (e *APIError) Hint() string {
	switch {
	case e.IsClockSkew():
		return "Created was too far from the platform's clock: synchronise this machine's clock (NTP); " +
			"if it is right, the platform may expect Beijing time (voicecall.WithCreatedLocation(voicecall.BeijingTime()))"
	case e.Code == CodeInvalidAppKey || e.Code == CodeAppKeyInvalid:
		return "the platform does not know the app key for this API: check that it is the APP_Key shown on the console, " +
			"of an app created for this capability (an app of another type is refused), and that the base URL is that app's access address"
	case e.Code == CodeIPNotWhitelisted:
		return "this machine's IP address is not in the app's white list: add it on the console"
	case e.Code == CodeIPBlocked:
		return "too many failed authentications: this IP address is blocked for 30 minutes; fix the app key and secret before trying again"
	case e.IsAuthFailure():
		return "the platform refused the signature: check that the app key and the app secret are the " +
			"APP_Key and APP_Secret of the same app on the console (no quotes or spaces), and that this machine's clock is right"
	}
	return ""
}

// RequestError is returned, as a pointer, when a request failed without a
// platform answer that says it was rejected: a network error, a timeout,
// a cancelled context, a redirect, an HTTP 5xx, an HTML page, a truncated
// or malformed answer.
//
// When Outcome is [OutcomeUnknown] the error matches [ErrOutcomeUnknown]
// and its message says so. Err holds the cause and is reachable with
// [errors.Is] and [errors.As] (context.DeadlineExceeded, *net.OpError,
// *APIError for a 5xx that carried a result code, ...).
type RequestError struct {
	// Op is the operation, e.g. "CallVerify".
	Op string
	// Outcome is OutcomeRejected when the request provably never left
	// this process (or was refused before processing, like a redirect or
	// a TLS handshake refused for want of a client certificate), and
	// OutcomeUnknown otherwise.
	Outcome Outcome
	// Attempts is the number of HTTP attempts made (see [RetryPolicy] for
	// when there is more than one).
	Attempts int
	// HTTPStatus is the HTTP status of the answer, 0 if none was read.
	HTTPStatus int
	// ContentType is the Content-Type of the answer, if any.
	ContentType string
	// Body is the start of the answer's body (at most 512 bytes), with
	// control characters removed.
	Body string
	// UserData is the userData of the request (the correlation token).
	UserData string
	// Err is the cause.
	Err error
}

// Error describes the failure; for an unknown outcome it starts with
// "voicecall: <op>: outcome unknown, the request may have reached the
// platform".
func (e *RequestError) Error() string {
	var b strings.Builder
	b.WriteString("voicecall: ")
	b.WriteString(e.Op)
	if e.Outcome == OutcomeUnknown {
		b.WriteString(": outcome unknown, the request may have reached the platform")
		if e.UserData != "" {
			b.WriteString(" (settle it with userData ")
			b.WriteString(strconv.Quote(e.UserData))
			b.WriteString(")")
		}
	} else {
		b.WriteString(": request not sent")
	}
	if e.HTTPStatus != 0 {
		b.WriteString(": http ")
		b.WriteString(strconv.Itoa(e.HTTPStatus))
		if e.ContentType != "" {
			b.WriteString(" ")
			b.WriteString(e.ContentType)
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Body != "" {
		b.WriteString(": body ")
		b.WriteString(strconv.Quote(e.Body))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// Is matches [ErrOutcomeUnknown] when the outcome is unknown.
func (e *RequestError) Is(target error) bool {
	return target == ErrOutcomeUnknown && e.Outcome == OutcomeUnknown
}

// FieldError is one problem with one field.
type FieldError struct {
	// Field is the field's name as it is on the wire, e.g. "calleeNbr";
	// for [NewClient], the argument's or the option's name, e.g.
	// "baseURL" or "WithTimeout".
	Field string
	// Problem says what is wrong, without repeating the value (which may
	// be a phone number or a verification code).
	Problem string
}

// Error returns "<field>: <problem>".
func (f FieldError) Error() string { return f.Field + ": " + f.Problem }

// ValidationError lists every invalid field of an input. It is returned,
// as a pointer, before anything is sent: the outcome is
// [OutcomeRejected].
type ValidationError struct {
	// Op is what was being validated, e.g. "CallVerify".
	Op string
	// Fields are the problems, in field order.
	Fields []FieldError
}

func newValidationError(op string, fields ...FieldError) *ValidationError {
	return &ValidationError{Op: op, Fields: fields}
}

// Error returns "voicecall: <op>: invalid <field>: <problem>; ...".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("voicecall: ")
	b.WriteString(e.Op)
	b.WriteString(": invalid ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Error())
	}
	return b.String()
}

// Has reports whether field is among the invalid fields.
func (e *ValidationError) Has(field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// snippet bounds and sanitizes a response body for an error.
func snippet(body []byte) string {
	return redact.Text(string(body[:min(len(body), 2*maxSnippet)]), maxSnippet)
}

const maxSnippet = 512

// errf is fmt.Errorf with the package prefix.
func errf(format string, args ...any) error { return fmt.Errorf("voicecall: "+format, args...) }
