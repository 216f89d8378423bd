package voicetest

import (
	"net/http"
	"unicode/utf8"

	"github.com/voicecall-go/voicecall"
)

// SignalCallStop is the only signal of callStop: both parties are
// released.
const SignalCallStop = "call_stop"

// codeSessionEnded is what the server answers a callStop for a session
// that is not in progress. Huawei's page says only that callStop fails
// once the call has ended; the fake answers 1020001 "Parameter error."
// with HTTP 200.
const codeSessionEnded voicecall.ResultCode = "1020001"

// CallStopBody is the body of a callStop request as the server decoded it.
type CallStopBody struct {
	// SessionID is the sessionid field (lower-case on the wire, as Huawei
	// documents it).
	SessionID string
	// Signal is the signal field, "call_stop".
	Signal string
}

// decodeStopBody decodes and checks a callStop body.
func decodeStopBody(raw []byte) (CallStopBody, string, string) {
	var b CallStopBody
	d := objectDecoder(raw, "")
	if d.str("sessionid", &b.SessionID) {
		switch {
		case b.SessionID == "":
			d.fail("sessionid", "is required (the key is lower-case)")
		case utf8.RuneCountInString(b.SessionID) > 256:
			d.fail("sessionid", "must be at most 256 characters")
		}
	}
	if d.str("signal", &b.Signal) && b.Signal != SignalCallStop {
		d.fail("signal", `must be "call_stop"`)
	}
	return b, d.field, d.problem
}

// stopCall ends the app's live call req.Stop.SessionID: the answer is
// sent at once and the call's disconnect (stateCode 8017) and CDR
// follow. A session that is unknown, of another app, or already ended
// is refused with codeSessionEnded.
func (s *Server) stopCall(req *Request, app App) answer {
	s.mu.Lock()
	sim, ok := s.live[req.Stop.SessionID]
	if ok && (sim.app.Key != app.Key || sim.finishing || sim.stopping) {
		ok = false
	}
	if ok {
		sim.stopping = true
		close(sim.stop)
	}
	s.mu.Unlock()
	if !ok {
		return s.refuse(req, codeSessionEnded, "no call in progress with this sessionid")
	}
	req.ResultCode, req.ResultDesc, req.HTTPStatus = voicecall.CodeSuccess, "Success", http.StatusOK
	return answer{status: http.StatusOK, contentType: jsonContentType, body: resultJSON(voicecall.CodeSuccess, "Success", "", nil)}
}
