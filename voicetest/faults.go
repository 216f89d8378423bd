package voicetest

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/voicecall-go/voicecall"
)

// FaultAction is what a [Fault] does to a request.
type FaultAction int

const (
	// FaultNone processes the request normally; with a Delay, it only
	// delays the answer.
	FaultNone FaultAction = iota
	// FaultResultCode answers Fault.Code without placing a call, as the
	// platform does for flow control (1010010), port or call limits
	// (1020165, 1013001-1013003) and the like. It is applied before any
	// check, so even a badly signed request gets it.
	FaultResultCode
	// FaultHTMLError answers an HTML error page, like a gateway in front of
	// the platform (status Fault.HTTPStatus, default 502). No call is
	// placed.
	FaultHTMLError
	// FaultRaw answers Fault.HTTPStatus (default 200) with Fault.Header and
	// Fault.Body verbatim, for malformed answers: "{}", a numeric
	// resultcode, a redirect, a huge body... No call is placed.
	FaultRaw
	// FaultDrop processes the request (a valid one places its call and
	// its notifications flow), then closes the connection without
	// answering: the response is lost.
	FaultDrop
	// FaultReset is FaultDrop with a TCP reset (RST) instead of a close.
	FaultReset
	// FaultTruncate processes the request, then sends the answer's status
	// line and headers with a Content-Length larger than what follows, half
	// of the JSON body, and closes the connection.
	FaultTruncate
)

// String returns the action's name, e.g. "drop".
func (a FaultAction) String() string {
	switch a {
	case FaultNone:
		return "none"
	case FaultResultCode:
		return "result-code"
	case FaultHTMLError:
		return "html-error"
	case FaultRaw:
		return "raw"
	case FaultDrop:
		return "drop"
	case FaultReset:
		return "reset"
	case FaultTruncate:
		return "truncate"
	}
	return fmt.Sprintf("FaultAction(%d)", int(a))
}

// Fault describes how a request fails. Install it with [Server.FailNext],
// [Server.FailCallee] or [Server.FailWhen].
type Fault struct {
	Action FaultAction
	// Code is the result code of FaultResultCode; ResultDesc defaults to
	// the platform's text for the code.
	Code       voicecall.ResultCode
	ResultDesc string
	// HTTPStatus is the status of FaultResultCode (default: the status the
	// server uses for the code, see the package documentation),
	// FaultHTMLError (default 502) and FaultRaw (default 200).
	HTTPStatus int
	// Header and Body are the answer of FaultRaw. Content-Length is set
	// by the server.
	Header http.Header
	Body   []byte
	// Delay is waited before anything is answered, after the request was
	// read (and, when the action places calls, processed: the call is
	// placed before the delay). It ends early when the server is closed.
	Delay time.Duration
}

// FailCode returns a fault that answers code, e.g.
// FailCode(voicecall.CodeFlowControl).
func FailCode(code voicecall.ResultCode) Fault { return Fault{Action: FaultResultCode, Code: code} }

// FailHTML returns a fault that answers an HTML page with the given status.
func FailHTML(status int) Fault { return Fault{Action: FaultHTMLError, HTTPStatus: status} }

// DropResponse returns a fault that places the call and closes the
// connection without answering.
func DropResponse() Fault { return Fault{Action: FaultDrop} }

// ResetConnection returns a fault that places the call and resets the
// connection (RST) without answering.
func ResetConnection() Fault { return Fault{Action: FaultReset} }

// TruncateResponse returns a fault that places the call and sends half of
// its answer, with a Content-Length for the whole.
func TruncateResponse() Fault { return Fault{Action: FaultTruncate} }

// DelayResponse returns a fault that places the call and answers after d.
func DelayResponse(d time.Duration) Fault { return Fault{Action: FaultNone, Delay: d} }

func (f Fault) check() error {
	switch f.Action {
	case FaultNone, FaultHTMLError, FaultRaw, FaultDrop, FaultReset, FaultTruncate:
	case FaultResultCode:
		if f.Code == "" || f.Code == "0" {
			return fmt.Errorf("voicetest: FaultResultCode needs a non-zero Code")
		}
	default:
		return fmt.Errorf("voicetest: unknown fault action %d", int(f.Action))
	}
	if f.Delay < 0 {
		return fmt.Errorf("voicetest: negative fault delay")
	}
	if f.HTTPStatus != 0 && (f.HTTPStatus < 100 || f.HTTPStatus > 999) {
		return fmt.Errorf("voicetest: invalid fault HTTP status %d", f.HTTPStatus)
	}
	return nil
}

// faultRule is an installed fault with the requests it applies to.
type faultRule struct {
	fault  Fault
	left   int // requests left; <0 for unlimited
	callee string
	api    API
	match  func(Request) bool
}

// FailNext makes the next n requests (n ≥ 1), to any API, fail with f. Rules
// are tried in the order they were installed; the first that matches a
// request is applied (and, for FailNext, used up).
func (s *Server) FailNext(n int, f Fault) error {
	if n < 1 {
		return fmt.Errorf("voicetest: FailNext: n must be at least 1")
	}
	return s.addFault(faultRule{fault: f, left: n})
}

// FailNextOn makes the next n requests to api (n ≥ 1) fail with f.
func (s *Server) FailNextOn(api API, n int, f Fault) error {
	if n < 1 {
		return fmt.Errorf("voicetest: FailNextOn: n must be at least 1")
	}
	return s.addFault(faultRule{fault: f, left: n, api: api})
}

// FailCallee makes every request whose calleeNbr is callee (see
// [Request.Callee]) fail with f, until [Server.ClearFaults].
func (s *Server) FailCallee(callee string, f Fault) error {
	return s.addFault(faultRule{fault: f, left: -1, callee: callee})
}

// FailWhen makes every request for which match returns true fail with f,
// until [Server.ClearFaults]. match sees the request as read: method,
// path, headers, raw and decoded body (Seq and Time are set; the answer
// fields are not).
func (s *Server) FailWhen(match func(Request) bool, f Fault) error {
	if match == nil {
		return fmt.Errorf("voicetest: FailWhen: nil match")
	}
	return s.addFault(faultRule{fault: f, left: -1, match: match})
}

// ClearFaults removes every installed fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (s *Server) addFault(r faultRule) error {
	if err := r.fault.check(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &r)
	return nil
}

// takeFault returns the fault that applies to req, using up one of its
// requests.
func (s *Server) takeFault(req Request) (Fault, bool) {
	s.mu.Lock()
	rules := slices.Clone(s.faults)
	s.mu.Unlock()
	for _, r := range rules {
		if r.callee != "" && r.callee != req.Callee() {
			continue
		}
		if r.api != "" && r.api != req.API {
			continue
		}
		if r.match != nil && !r.match(req) {
			continue
		}
		s.mu.Lock()
		if r.left == 0 {
			s.mu.Unlock()
			continue
		}
		if r.left > 0 {
			r.left--
			if r.left == 0 {
				s.faults = slices.DeleteFunc(s.faults, func(x *faultRule) bool { return x == r })
			}
		}
		f := r.fault
		s.mu.Unlock()
		return f, true
	}
	return Fault{}, false
}
