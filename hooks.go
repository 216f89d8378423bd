package voicecall

import (
	"context"
	"time"
)

// ClientHooks are optional functions the [Client] calls as a request
// runs, for tracing and metrics (the OpenTelemetry module,
// github.com/voicecall-go/voicecall/otel, is built on them). Set them
// with [WithHooks]; any field may be nil. They run on the caller's
// goroutine and must be quick.
//
// Hooks never receive the app secret, a digest, a nonce, a verification
// code or a full phone number. A hook that panics is recovered: the
// call goes on as if the hook had not been set.
type ClientHooks struct {
	// CallStart is called once when a request method starts sending (after
	// validation: an invalid request calls no hook). The context it
	// returns, if not nil, is used for the call and passed to the other
	// hooks (a span, say).
	CallStart func(ctx context.Context, info CallInfo) context.Context

	// CallEnd is called once when the request method returns, with the
	// context CallStart returned and the [CallInfo] CallStart got,
	// completed with how the call ended.
	CallEnd func(ctx context.Context, info CallInfo)

	// AttemptStart is called before each HTTP attempt; the context it
	// returns, if not nil, is used for that attempt's HTTP request and
	// passed to AttemptEnd.
	AttemptStart func(ctx context.Context, info AttemptInfo) context.Context

	// AttemptEnd is called after each HTTP attempt, with the [AttemptInfo]
	// AttemptStart got, completed with how the attempt ended.
	AttemptEnd func(ctx context.Context, info AttemptInfo)
}

// CallInfo describes one call of a request method, given to
// [ClientHooks].CallStart and CallEnd. Operation, Method, Host and Path
// are set at both hooks; Outcome, ResultCode, Attempts, Duration and Err
// are set only at CallEnd (zero at CallStart).
type CallInfo struct {
	// Operation names the API: "CallVerify", "CallNotify", "Click2Call",
	// "CallStop" or "RecordingURL".
	Operation string
	// Method is the HTTP method, Host the host (and port) of the base URL
	// and Path the request path without its query.
	Method, Host, Path string

	// Outcome is accepted, rejected or unknown (see [OutcomeOf]). CallEnd
	// only.
	Outcome Outcome
	// ResultCode is the platform's resultcode when an answer carried one.
	// CallEnd only.
	ResultCode ResultCode
	// Attempts is the number of HTTP attempts made (0 when none was).
	// CallEnd only.
	Attempts int
	// Duration is the time from CallStart to CallEnd. CallEnd only.
	Duration time.Duration
	// Err is the error the method returns, nil on success. CallEnd only.
	Err error
}

// AttemptInfo describes one HTTP attempt, given to
// [ClientHooks].AttemptStart and AttemptEnd. Operation, Attempt, Method,
// Host and Path are set at both hooks; StatusCode, ErrorClass,
// ConnReused, Duration and Err are set only at AttemptEnd (zero at
// AttemptStart).
type AttemptInfo struct {
	// Operation names the API, as in [CallInfo].
	Operation string
	// Attempt counts from 1.
	Attempt int
	// Method is the HTTP method, Host the host (and port) of the base URL
	// and Path the request path without its query.
	Method, Host, Path string

	// StatusCode is the HTTP status of the answer, 0 when none arrived.
	// AttemptEnd only.
	StatusCode int
	// ErrorClass is "" on success, else a short low-cardinality class of
	// the failure, for metrics: "dns", "dial", "tls", "timeout",
	// "canceled", "connection", "status" (an answer that is no platform
	// answer: 5xx, HTML, malformed), "platform" (a resultcode other than
	// "0") or "other". AttemptEnd only.
	ErrorClass string
	// ConnReused reports whether the attempt used a kept-alive connection.
	// AttemptEnd only.
	ConnReused bool
	// Duration is the attempt's time, from sending to reading the answer.
	// AttemptEnd only.
	Duration time.Duration
	// Err is the attempt's error, nil on success. AttemptEnd only.
	Err error
}

// HandlerHooks are optional functions the [Handler] calls for each
// notification, for tracing and metrics. Set them in
// [HandlerConfig].Hooks; any field may be nil. They never receive a full
// phone number, a secret or an X-AKSK value; a hook that panics is
// recovered and the notification is handled as if it had not been set.
type HandlerHooks struct {
	// NotificationStart is called when a push arrives, before its body is
	// read. The context it returns, if not nil, is used for the callbacks
	// and passed to NotificationEnd.
	NotificationStart func(ctx context.Context, info NotificationInfo) context.Context

	// NotificationEnd is called once the answer to the push is decided,
	// with the [NotificationInfo] NotificationStart got, completed with
	// how the push was handled.
	NotificationEnd func(ctx context.Context, info NotificationInfo)
}

// NotificationInfo describes one push, given to
// [HandlerHooks].NotificationStart and NotificationEnd. Path is set at
// both hooks; Kind, EventType, Records, Duplicates, Verification, Status,
// CallbackDuration and Err are set only at NotificationEnd (zero at
// NotificationStart).
type NotificationInfo struct {
	// Path is the request path the push was sent to.
	Path string

	// Kind is the notification's kind; 0 when the body was refused before
	// it was parsed. NotificationEnd only.
	Kind NotificationKind
	// EventType is the normalised eventType, "" when unknown or refused.
	// NotificationEnd only.
	EventType EventType
	// Records is the number of CDRs in a fee batch; Duplicates how many of
	// them were skipped as handled before. NotificationEnd only.
	Records, Duplicates int
	// Verification is "" when push verification is off, else "ok" or
	// "failed". NotificationEnd only.
	Verification string
	// Status is the HTTP status answered. NotificationEnd only.
	Status int
	// CallbackDuration is the time spent in the application's callbacks.
	// NotificationEnd only.
	CallbackDuration time.Duration
	// Err is the callback's or the refusal's error, nil when none.
	// NotificationEnd only.
	Err error
}

// callHook runs f, recovering a panic so that a broken hook never breaks
// a call.
func callHook(f func()) {
	defer func() { _ = recover() }()
	f()
}

// hookContext runs a context-returning hook, keeping ctx when the hook
// returns nil or panics.
func hookContext[I any](ctx context.Context, f func(context.Context, I) context.Context, info I) context.Context {
	if f == nil {
		return ctx
	}
	out := ctx
	callHook(func() {
		if c := f(ctx, info); c != nil {
			out = c
		}
	})
	return out
}

// hookEnd runs an end hook, recovering a panic.
func hookEnd[I any](ctx context.Context, f func(context.Context, I), info I) {
	if f == nil {
		return
	}
	callHook(func() { f(ctx, info) })
}
