package voicetest

import (
	"time"

	"github.com/voicecall-go/voicecall"
)

// maxDurationLimit is the largest maxDuration, in minutes.
const maxDurationLimit = 1440

// Click2CallBody is the body of a click-to-call (click2Call) request as
// the server decoded it; see [CallVerifyBody] for the conventions.
type Click2CallBody struct {
	DisplayNbr       string // displayNbr: number shown to the caller (A)
	CallerNbr        string // callerNbr: A, called first
	DisplayCalleeNbr string // displayCalleeNbr: number shown to the callee (B)
	CalleeNbr        string // calleeNbr: B, called once A answered
	// MaxDuration (maxDuration) is the longest call in minutes, counted
	// from B's answer; nil when absent; 0 means no limit.
	MaxDuration  *int
	LastMinVoice string // lastMinVoice
	LastMinToUE  string // lastMinToUE: "toa", "tob", "both" or ""
	PlayPreVoice string // playPreVoice: "true", "false" or ""
	PreVoice     string // preVoice
	WaitVoice    string // waitVoice
	CalleeMedia  string // calleeMedia: "all", "none", "fail" or ""
	// StatusURL and FeeURL are the Base64-decoded statusUrl and feeUrl.
	StatusURL                     string
	FeeURL                        string
	RecordFlag                    string // recordFlag: "true", "false" or ""
	RecordHintTone                string // recordHintTone
	PartyTypeRequiredInDisconnect string // partyTypeRequiredInDisconnect: "true", "false" or ""
	ReturnIdlePort                string // returnIdlePort
	UserData                      string // userData
}

// decodeClick2CallBody decodes and checks a click2Call body, stopping at the
// first problem.
func decodeClick2CallBody(raw []byte) (Click2CallBody, string, string) {
	var b Click2CallBody
	d := objectDecoder(raw, "")
	d.number("displayNbr", &b.DisplayNbr, true)
	d.number("callerNbr", &b.CallerNbr, true)
	d.number("displayCalleeNbr", &b.DisplayCalleeNbr, true)
	d.number("calleeNbr", &b.CalleeNbr, true)
	if d.integer("maxDuration", &b.MaxDuration) && b.MaxDuration != nil && (*b.MaxDuration < 0 || *b.MaxDuration > maxDurationLimit) {
		d.fail("maxDuration", "must be 0-1440 minutes")
	}
	d.tone("lastMinVoice", &b.LastMinVoice, false)
	d.enum("lastMinToUE", &b.LastMinToUE, "toa", "tob", "both")
	d.boolString("playPreVoice", &b.PlayPreVoice)
	d.tone("preVoice", &b.PreVoice, false)
	d.tone("waitVoice", &b.WaitVoice, false)
	d.enum("calleeMedia", &b.CalleeMedia, "all", "none", "fail")
	d.pushURL("statusUrl", &b.StatusURL)
	d.pushURL("feeUrl", &b.FeeURL)
	d.boolString("recordFlag", &b.RecordFlag)
	d.tone("recordHintTone", &b.RecordHintTone, false)
	d.boolString("partyTypeRequiredInDisconnect", &b.PartyTypeRequiredInDisconnect)
	d.boolString("returnIdlePort", &b.ReturnIdlePort)
	d.userData(&b.UserData)
	return b, d.field, d.problem
}

// callbackCall builds the simulated call of an accepted click2Call
// request: the caller's leg (A, with A's scenario), then, once A
// answered (and heard the preVoice), the callee's leg (B, with B's
// scenario); the call ends when B hangs up, when maxDuration runs out
// (stateCode 8010), or when a leg fails.
func (s *Server) click2CallSim(app App, b Click2CallBody, start time.Time) *simCall {
	s.mu.Lock()
	scA, scB := s.scenarioOfLocked(b.CallerNbr), s.takeNextLocked(b.CalleeNbr)
	s.mu.Unlock()
	specA, specB := scenarioSpecs[scA], scenarioSpecs[scB]
	c := &Call{
		API:              APIClick2Call,
		AppKey:           app.Key,
		DisplayNbr:       b.DisplayNbr,
		CallerNbr:        b.CallerNbr,
		DisplayCalleeNbr: b.DisplayCalleeNbr,
		CalleeNbr:        b.CalleeNbr,
		UserData:         b.UserData,
		Scenario:         scB,
		CallerScenario:   scA,
		StatusURL:        firstNonEmpty(b.StatusURL, app.StatusURL, s.cfg.statusURL),
		FeeURL:           firstNonEmpty(b.FeeURL, app.FeeURL, s.cfg.feeURL),
		Start:            start,
	}
	sim := &simCall{call: c, app: app, recordFlag: b.RecordFlag == "true", partyType: b.PartyTypeRequiredInDisconnect == "true"}
	add := func(leg int, e voicecall.EventType, at time.Duration) {
		caller, called := b.DisplayNbr, b.CallerNbr
		if leg == legB {
			caller, called = b.DisplayCalleeNbr, b.CalleeNbr
		}
		sim.steps = append(sim.steps, tlStep{event: e, at: at, leg: leg, caller: caller, called: called})
	}
	if !specA.answered() {
		for _, st := range specA.steps {
			add(legA, st.event, st.at)
		}
		sim.end = specA.ending(true)
		sim.end.partyType = voicecall.PartyTypeCaller
		return sim
	}
	add(legA, evCallout, 0)
	add(legA, evAlerting, ringDelay)
	add(legA, evAnswer, answerDelay)
	offset := answerDelay + time.Second
	if b.PlayPreVoice == "true" {
		offset += 3 * time.Second
	}
	for _, st := range specB.steps[:len(specB.steps)-1] {
		add(legB, st.event, offset+st.at)
	}
	end := specB.steps[len(specB.steps)-1].at + offset
	sim.end = specB.ending(false)
	sim.end.partyType = voicecall.PartyTypeCallee
	sim.end.q850 = 0
	q := specB.q850
	sim.end.fwdQ850 = &q
	if b.MaxDuration != nil && *b.MaxDuration > 0 && specB.answered() {
		limit := offset + answerDelay + time.Duration(*b.MaxDuration)*time.Minute
		if end > limit {
			end = limit
			sim.end = ending{stateCode: voicecall.StateMaxDurationReached, stateDesc: "超过通话最大时长挂机", partyType: voicecall.PartyTypeCallee}
		}
	}
	add(legB, evDisconnect, end)
	return sim
}
