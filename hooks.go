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
	CallStart func(ctx context.Context, info CallStartInfo) context.Context

	// CallEnd is called once when the request method returns, with the
	// context CallStart returned.
	CallEnd func(ctx context.Context, info CallEndInfo)

	// AttemptStart is called before each HTTP attempt; the context it
	// returns, if not nil, is used for that attempt's HTTP request and
	// passed to AttemptEnd.
	AttemptStart func(ctx context.Context, info AttemptStartInfo) context.Context

	// AttemptEnd is called after each HTTP attempt.
	AttemptEnd func(ctx context.Context, info AttemptEndInfo)
}

// CallStartInfo describes a request that starts.
type CallStartInfo struct {
	// Operation names the API: "CallVerify", "CallNotify", "Click2Call",
	// "CallStop" or "RecordingURL".
	Operation string
	// Method is the HTTP method, Host the host (and port) of the base URL
	// and Path the request path without its query.
	Method, Host, Path string
}

// CallEndInfo describes how a request ended.
type CallEndInfo struct {
	Operation string
	// Outcome is accepted, rejected or unknown (see [OutcomeOf]).
	Outcome Outcome
	// ResultCode is the platform's resultcode when an answer carried one.
	ResultCode ResultCode
	// Attempts is the number of HTTP attempts made (0 when none was).
	Attempts int
	// Duration is the time from CallStart to CallEnd.
	Duration time.Duration
	// Err is the error the method returns, nil on success.
	Err error
}

// AttemptStartInfo describes one HTTP attempt that starts.
type AttemptStartInfo struct {
	Operation string
	// Attempt counts from 1.
	Attempt            int
	Method, Host, Path string
}

// AttemptEndInfo describes how one HTTP attempt ended.
type AttemptEndInfo struct {
	Operation string
	Attempt   int
	// StatusCode is the HTTP status of the answer, 0 when none arrived.
	StatusCode int
	// ErrorClass is "" on success, else a short low-cardinality class of
	// the failure, for metrics: "dns", "dial", "tls", "timeout",
	// "canceled", "connection", "status" (an answer that is no platform
	// answer: 5xx, HTML, malformed), "platform" (a resultcode other than
	// "0") or "other".
	ErrorClass string
	// ConnReused reports whether the attempt used a kept-alive connection.
	ConnReused bool
	// Duration is the attempt's time, from sending to reading the answer.
	Duration time.Duration
	// Err is the attempt's error, nil on success.
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
	NotificationStart func(ctx context.Context, info NotificationStartInfo) context.Context

	// NotificationEnd is called once the answer to the push is decided.
	NotificationEnd func(ctx context.Context, info NotificationEndInfo)
}

// NotificationStartInfo describes a push that arrived.
type NotificationStartInfo struct {
	// Path is the request path the push was sent to.
	Path string
}

// NotificationEndInfo describes how a push was handled.
type NotificationEndInfo struct {
	// Kind is the notification's kind; 0 when the body was refused before
	// it was parsed.
	Kind NotificationKind
	// EventType is the normalised eventType, "" when unknown or refused.
	EventType EventType
	// Records is the number of CDRs in a fee batch; Duplicates how many of
	// them were skipped as handled before.
	Records, Duplicates int
	// Verification is "" when push verification is off, else "ok" or
	// "failed".
	Verification string
	// Status is the HTTP status answered.
	Status int
	// CallbackDuration is the time spent in the application's callbacks.
	CallbackDuration time.Duration
	// Err is the callback's or the refusal's error, nil when none.
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
