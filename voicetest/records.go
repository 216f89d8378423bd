package voicetest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/internal/redact"
)

// CallVerifyBody is the body of a callVerify request as the server decoded
// it. Fields the request did not carry (or sent as JSON null) are zero;
// when the body was refused, the fields decoded before the faulty one are
// set.
type CallVerifyBody struct {
	DisplayNbr   string // displayNbr: fixed-line number shown to the callee
	CalleeNbr    string // calleeNbr: the number called
	LanguageType int    // languageType
	PreTone      string // preTone: audio file played before the code
	VerifyCode   string // verifyCode: the code read out
	PosTone      string // posTone: audio file played after the code
	Times        *int   // times: read-outs, nil when absent (the platform then reads it 3 times)
	// StatusURL and FeeURL are the Base64-decoded statusUrl and feeUrl.
	StatusURL      string
	FeeURL         string
	ReturnIdlePort string // returnIdlePort: "true", "false" or "" when absent
	UserData       string // userData
	BindNbr        string // bindNbr (legacy)
}

// Request is one HTTP request the server received, with its answer.
type Request struct {
	// Seq numbers requests from 1 in the order they arrived.
	Seq    int
	Time   time.Time // when it arrived (server clock)
	Method string
	Path   string
	// API is the API the path names ("" for an unknown path).
	API API
	// Query holds the URL's query parameters (the recording API's
	// fileName and recordDomain); nil when there were none.
	Query url.Values
	// Header is a copy of the request's headers, X-AKSK included: it is
	// kept for assertions and must not be logged.
	Header http.Header
	// Signature is the parsed X-AKSK header (zero if it could not be parsed).
	// Its String method redacts the digest and nonce.
	Signature aksk.Signature
	// RawBody is the body as received (at most 1 MiB).
	RawBody []byte
	// Body is the decoded callVerify body.
	Body CallVerifyBody
	// Notify, Click2Call and Stop are the decoded bodies of callnotify,
	// click2Call and callStop requests (nil for other APIs).
	Notify     *CallNotifyBody
	Click2Call *Click2CallBody
	Stop       *CallStopBody
	// AppKey is the app the request was authenticated as ("" if it was not).
	AppKey string

	// HTTPStatus, ResultCode and ResultDesc are the answer that was, or
	// would have been, sent; HTTPStatus is 0 when a fault sent none.
	HTTPStatus int
	ResultCode voicecall.ResultCode
	ResultDesc string
	// Reason says in plain words why the request was refused, e.g.
	// "PasswordDigest does not match"; "" when it was accepted.
	Reason string
	// SessionID is the id of the call placed, "" if none was.
	SessionID string
	// Location is the download URL a recording request was answered with.
	Location string
	// Fault is the action of the fault applied to the request, or
	// [FaultNone].
	Fault FaultAction
}

// Callee returns the number the request asks to call: calleeNbr of a
// callVerify, callnotify or click2Call body ("" for other requests).
func (r Request) Callee() string {
	switch {
	case r.Notify != nil:
		return r.Notify.CalleeNbr
	case r.Click2Call != nil:
		return r.Click2Call.CalleeNbr
	}
	return r.Body.CalleeNbr
}

// String describes the request for logs: path, callee (masked), answer
// and reason, without headers, tokens, query or verification code.
func (r Request) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s %s", r.Seq, r.Method, r.Path)
	if c := r.Callee(); c != "" {
		fmt.Fprintf(&b, " callee=%s", redact.Phone(c))
	}
	if r.ResultCode != "" {
		fmt.Fprintf(&b, " -> %d resultcode=%s", r.HTTPStatus, string(r.ResultCode))
	}
	if r.SessionID != "" {
		fmt.Fprintf(&b, " sessionId=%s", r.SessionID)
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, " (%s)", redact.Text(r.Reason, 200))
	}
	if r.Fault != FaultNone {
		fmt.Fprintf(&b, " fault=%s", r.Fault)
	}
	return b.String()
}

// Call is a call the server placed.
type Call struct {
	// API is the API that placed it: callVerify, callnotify or click2Call.
	API        API
	SessionID  string
	AppKey     string
	DisplayNbr string
	// CalleeNbr is the number called: for a click-to-call, B.
	CalleeNbr string
	// CallerNbr and DisplayCalleeNbr are a click-to-call's A number and
	// the number shown to B.
	CallerNbr        string
	DisplayCalleeNbr string
	// VerifyCode is the code the callee hears (if the call is answered).
	VerifyCode string
	UserData   string
	// Scenario is the callee's scenario; CallerScenario A's, for a
	// click-to-call.
	Scenario       Scenario
	CallerScenario Scenario
	// Digits are the keys collected so far (voice notification), one
	// entry per collectInfo event.
	Digits []string
	// Recording is the file name of the call's recording, "" if none.
	Recording string
	// Stopped is set when a callStop ended the call.
	Stopped bool
	// StatusURL and FeeURL are where its notifications go ("" for none).
	StatusURL string
	FeeURL    string
	// Start is the simulated time of the callout; End that of the
	// disconnect (zero until the call ends).
	Start time.Time
	End   time.Time
	// Ended is set once the disconnect event was pushed (or skipped) and
	// the CDR was handed over for pushing.
	Ended bool
	// StateCode is the disconnect's stateCode, valid once Ended.
	StateCode voicecall.StateCode
	// Events is the call's timeline so far: one entry per status event
	// (callout, alerting, answer, collectInfo, disconnect), in order,
	// whether or not it was pushed (a call without a status URL has its
	// timeline too).
	Events []CallEvent
}

// CallEvent is one status event of a call's timeline.
type CallEvent struct {
	Type voicecall.EventType
	// Time is the event's time on the simulated timeline, as in the
	// notification's timestamp.
	Time time.Time
	// Caller and Called are the numbers of the event (for a voice
	// callback, the leg it is about).
	Caller string
	Called string
	// StateCode is set for the disconnect.
	StateCode *voicecall.StateCode
	// Digits are the keys of a collectInfo event.
	Digits string
}

// String describes the call with the callee masked and without the code.
func (c Call) String() string {
	s := fmt.Sprintf("call %s callee=%s scenario=%s", c.SessionID, redact.Phone(c.CalleeNbr), c.Scenario)
	if c.Ended {
		s += fmt.Sprintf(" ended stateCode=%d", int(c.StateCode))
	}
	return s
}

// Kind is the kind of a notification push.
type Kind string

// Kinds of push.
const (
	KindStatus Kind = "status" // a call-status event, to the status URL
	KindFee    Kind = "fee"    // a CDR batch, to the fee URL
)

// Delivery is one attempt to push a notification.
type Delivery struct {
	// Seq numbers deliveries from 1 in the order they were attempted.
	Seq  int
	Kind Kind
	// EventType is callout, alerting, answer, collectInfo, disconnect or
	// fee.
	EventType voicecall.EventType
	URL       string
	// SessionIDs are the calls the push is about: one for a status event,
	// one per CDR for a fee batch.
	SessionIDs []string
	// Attempt is 1 for the first push of a notification, 2 for its first
	// retry, and so on (only CDR pushes are retried).
	Attempt int
	// Header and Body are what was sent.
	Header http.Header
	Body   []byte
	// StatusCode is the receiver's HTTP status, 0 if none was read; Err
	// says why when the push failed before an answer.
	StatusCode int
	Err        error
	// Time is when the push was attempted (wall clock).
	Time time.Time
	// Latency is how long the receiver took to answer (or the push to
	// fail).
	Latency time.Duration
	// Answer is the start of the receiver's answer body (at most
	// [MaxDeliveryAnswer] bytes).
	Answer []byte
	// AppKey is the app the notification is for.
	AppKey string
	// RepushOf is the Seq of the delivery this one repeats
	// ([Server.Repush]), 0 for a push the platform made by itself.
	RepushOf int
}

// MaxDeliveryAnswer bounds the part of a receiver's answer a [Delivery]
// keeps.
const MaxDeliveryAnswer = 1024

// OK reports whether the receiver answered HTTP 200, the only answer the
// platform counts as a success.
func (d Delivery) OK() bool { return d.Err == nil && d.StatusCode == http.StatusOK }

// Has reports whether the push is about the call with the given session id.
func (d Delivery) Has(sessionID string) bool { return slices.Contains(d.SessionIDs, sessionID) }

// String describes the delivery.
func (d Delivery) String() string {
	s := fmt.Sprintf("push %s %s -> %s attempt=%d", d.Kind, d.EventType, d.URL, d.Attempt)
	if len(d.SessionIDs) == 1 {
		s += " sessionId=" + d.SessionIDs[0]
	} else {
		s += fmt.Sprintf(" cdrs=%d", len(d.SessionIDs))
	}
	if d.Err != nil {
		return s + " error=" + redact.Text(d.Err.Error(), 200)
	}
	return s + fmt.Sprintf(" status=%d", d.StatusCode)
}

// Requests returns the requests received so far, oldest first: at most
// the last [WithMaxRecords] of them.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Calls returns the calls placed so far, oldest first: at most the last
// [WithMaxRecords] of them (a call in progress that dropped out of the
// list still plays and can still be stopped).
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsLocked()
}

func (s *Server) callsLocked() []Call {
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = *c
		out[i].Digits = slices.Clone(c.Digits)
		out[i].Events = slices.Clone(c.Events)
	}
	return out
}

// Deliveries returns the push attempts made so far, oldest first: at most
// the last [WithMaxRecords] of them.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// WaitRequest waits until a received request satisfies match (any request
// when match is nil) and returns the first that does, or ctx's error.
func (s *Server) WaitRequest(ctx context.Context, match func(Request) bool) (Request, error) {
	return waitFor(ctx, s, func() []Request { return s.requests }, match)
}

// WaitCall waits until a call satisfies match (any call when match is nil)
// and returns the first that does, or ctx's error. The predicate is
// evaluated again each time a call is placed or ends, so
//
//	srv.WaitCall(ctx, func(c voicetest.Call) bool { return c.SessionID == id && c.Ended })
//
// waits for a call to end.
func (s *Server) WaitCall(ctx context.Context, match func(Call) bool) (Call, error) {
	return waitFor(ctx, s, s.callsLocked, match)
}

// WaitDelivery waits until a push attempt satisfies match (any when match
// is nil) and returns the first that does, or ctx's error.
func (s *Server) WaitDelivery(ctx context.Context, match func(Delivery) bool) (Delivery, error) {
	return waitFor(ctx, s, func() []Delivery { return s.deliveries }, match)
}

// waitFor evaluates match over list() (called with s.mu held) each time
// the records change, until one matches or ctx ends.
func waitFor[T any](ctx context.Context, s *Server, list func() []T, match func(T) bool) (T, error) {
	var zero T
	for {
		s.mu.Lock()
		items, changed := list(), s.changed
		s.mu.Unlock()
		for _, it := range items {
			if match == nil || match(it) {
				return it, nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return zero, fmt.Errorf("voicetest: wait: %w", ctx.Err())
		}
	}
}

// notifyLocked wakes the waiters; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}
