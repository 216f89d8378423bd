package voicetest

import (
	"net/http"
	"time"

	"github.com/voicecall-go/voicecall"
)

// API names an API of the platform that the server serves.
type API string

// The APIs the server serves, with their paths below.
const (
	APICallVerify API = "callVerify" // voice verification code
	APICallNotify API = "callnotify" // voice notification
	APIClick2Call API = "click2Call" // click-to-call
	APICallStop   API = "callStop"   // terminate a call
	APIRecording  API = "record"     // recording download URL
)

// jsonContentType is the Content-Type of the platform's requests and
// answers, as Huawei's pages give it.
const jsonContentType = "application/json;charset=UTF-8"

// Paths of the APIs, written down here as Huawei's pages give them rather
// than taken from the SDK.
const (
	CallVerifyPath   = "/rest/httpsessions/callVerify/v1.0"
	CallNotifyPath   = "/rest/httpsessions/callnotify/v2.0"
	CallNotifyPathV1 = "/rest/httpsessions/callnotify/v1.0" // the demos' "v1.0 or v2.0"
	Click2CallPath   = "/rest/httpsessions/click2Call/v2.0"
	CallStopPath     = "/rest/httpsessions/callStop/v2.0"
	RecordingPath    = "/rest/provision/voice/record/v1.0"
)

// route returns the API of a path and the method it takes.
func route(path string) (API, string, bool) {
	switch path {
	case CallVerifyPath:
		return APICallVerify, http.MethodPost, true
	case CallNotifyPath, CallNotifyPathV1:
		return APICallNotify, http.MethodPost, true
	case Click2CallPath:
		return APIClick2Call, http.MethodPost, true
	case CallStopPath:
		return APICallStop, http.MethodPost, true
	case RecordingPath:
		return APIRecording, http.MethodGet, true
	}
	return "", "", false
}

// verifyCall builds the simulated call of an accepted callVerify request.
func (s *Server) verifyCall(app App, b CallVerifyBody, start time.Time) *simCall {
	s.mu.Lock()
	sc := s.takeNextLocked(b.CalleeNbr)
	s.mu.Unlock()
	spec := scenarioSpecs[sc]
	c := &Call{
		API:        APICallVerify,
		AppKey:     app.Key,
		DisplayNbr: b.DisplayNbr,
		CalleeNbr:  b.CalleeNbr,
		VerifyCode: b.VerifyCode,
		UserData:   b.UserData,
		Scenario:   sc,
		StatusURL:  firstNonEmpty(b.StatusURL, app.StatusURL, s.cfg.statusURL),
		FeeURL:     firstNonEmpty(b.FeeURL, app.FeeURL, s.cfg.feeURL),
		Start:      start,
	}
	sim := &simCall{call: c, app: app, end: spec.ending(false), bindNbr: b.BindNbr}
	for _, st := range spec.steps {
		sim.steps = append(sim.steps, tlStep{event: st.event, at: st.at, caller: b.DisplayNbr, called: b.CalleeNbr})
	}
	times := 3
	if b.Times != nil && *b.Times > 0 {
		times = *b.Times
	}
	sim.ttsPlays = times
	return sim
}

// accept is the success answer of an API that places a call.
func (s *Server) accept(req *Request, sim *simCall, idle int, returnIdle string) answer {
	req.SessionID = sim.call.SessionID
	req.ResultCode, req.ResultDesc, req.HTTPStatus = voicecall.CodeSuccess, "Success", http.StatusOK
	var idlePort *int
	if returnIdle == "true" {
		idlePort = &idle
	}
	return answer{status: http.StatusOK, contentType: jsonContentType,
		body: resultJSON(voicecall.CodeSuccess, "Success", sim.call.SessionID, idlePort), call: sim}
}
