package voicecall

import (
	"context"
	"net/http"
	"unicode/utf8"
)

// callStopPath is the URI of the terminate-call API, appended to the
// client's base URL.
const callStopPath = "/rest/httpsessions/callStop/v2.0"

// maxSessionIDLen is the longest session id, in characters.
const maxSessionIDLen = 256

// CallStopRequest asks the platform to end a call in progress, releasing
// both parties (the signal "call_stop", the only one Huawei documents).
type CallStopRequest struct {
	// SessionID (sent as "sessionid", lower-case, as Huawei's page writes
	// it) is the session id the platform returned when it placed the call;
	// 1-256 characters.
	SessionID string
}

// Validate checks the request and returns a [*ValidationError], or nil.
func (r *CallStopRequest) Validate() error {
	var fs fieldErrors
	switch {
	case r.SessionID == "":
		fs.add("sessionid", "is required")
	case !utf8.ValidString(r.SessionID):
		fs.add("sessionid", "must be valid UTF-8")
	case utf8.RuneCountInString(r.SessionID) > maxSessionIDLen:
		fs.add("sessionid", "must be at most 256 characters")
	}
	return fs.err("CallStop")
}

// callStopWire is the JSON body.
type callStopWire struct {
	SessionID string `json:"sessionid"`
	Signal    string `json:"signal"`
}

// CallStopResponse is the platform's answer to an accepted
// [CallStopRequest].
type CallStopResponse struct {
	// ResultCode is [CodeSuccess]; ResultDesc the platform's resultdesc.
	ResultCode ResultCode
	ResultDesc string
}

// callStop is the terminate-call API. A second stop cannot place a call,
// so the retry policy may resend it after an unknown outcome.
var callStop = endpoint{op: "CallStop", method: http.MethodPost, path: callStopPath, idempotent: true}

// CallStop ends the call req.SessionID, which must be in progress: Huawei's
// page says that stopping a call that has already ended fails, so that is
// an [*APIError], not a success. The client must be the app's that placed
// the call.
//
// Stopping is the one POST the SDK may resend after an unknown outcome (a
// dropped connection, a 5xx answer), as the retry policy allows: a second
// stop cannot place a call. A resent stop whose first attempt did end the
// call is then answered with the ended-call error; [*APIError] does not
// say how many attempts were made, so when a stop after such a failure
// reports an error, check the call's disconnect event (stateCode 8017)
// before assuming the call is still up.
func (c *Client) CallStop(ctx context.Context, req *CallStopRequest) (*CallStopResponse, error) {
	if req == nil {
		return nil, newValidationError("CallStop", FieldError{Field: "request", Problem: "is nil"})
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	rep, err := c.do(ctx, &callStop, nil, &callStopWire{SessionID: req.SessionID, Signal: "call_stop"}, "", nil)
	if err != nil {
		return nil, err
	}
	return &CallStopResponse{ResultCode: CodeSuccess, ResultDesc: rep.ResultDesc}, nil
}
