package voicetest

import (
	"fmt"
	"strings"
	"time"

	"github.com/voicecall-go/voicecall"
)

// Scenario is how a simulated call goes for one number. Each one produces
// the status events and the CDR the platform documents for that outcome.
// For a voice verification or notification call it is the callee's
// scenario; a click-to-call plays the caller's (A) and then the callee's
// (B) scenario, each looked up by its number.
type Scenario string

// The scenarios, with the events they push and the disconnect stateCode.
// Durations are on the simulated timeline (see [WithTimeScale]).
const (
	// ScenarioAnswered: callout, alerting after 2 s, answer after 6 s,
	// disconnect with stateCode 0 after 20 s; the code is read out.
	ScenarioAnswered Scenario = "answered"
	// ScenarioNoAnswer: callout, alerting, disconnect with stateCode 8101
	// after a 45-second ring timeout (release point 514, SIP 480, Q.850 19).
	ScenarioNoAnswer Scenario = "no-answer"
	// ScenarioBusy: callout, disconnect with stateCode 8102 after 3 s
	// (release point 518, SIP 486, Q.850 17).
	ScenarioBusy Scenario = "busy"
	// ScenarioPoweredOff: callout, disconnect with stateCode 8104 after 4 s
	// (release point 518, SIP 480, Q.850 20).
	ScenarioPoweredOff Scenario = "powered-off"
	// ScenarioRejected: the callee hangs up while it rings: callout,
	// alerting, disconnect with stateCode 8004 after 8 s (release point
	// 518, SIP 603, Q.850 21).
	ScenarioRejected Scenario = "rejected"
	// ScenarioNotExist: the number does not exist: callout, disconnect with
	// stateCode 8100 after 2 s (release point 518, SIP 404, Q.850 1).
	ScenarioNotExist Scenario = "not-exist"
	// ScenarioLongCall: answered like ScenarioAnswered, then the call
	// lasts an hour (simulated) before the callee hangs up, unless it is
	// stopped first (callStop, or a click-to-call's maxDuration). Use it
	// to stop a live call.
	ScenarioLongCall Scenario = "long-call"
)

// Scenarios returns every scenario, [ScenarioAnswered] first.
func Scenarios() []Scenario {
	return []Scenario{ScenarioAnswered, ScenarioNoAnswer, ScenarioBusy, ScenarioPoweredOff, ScenarioRejected, ScenarioNotExist, ScenarioLongCall}
}

// ParseScenario returns the scenario named s (case-insensitive), e.g.
// "busy" or "no-answer".
func ParseScenario(s string) (Scenario, error) {
	for _, sc := range Scenarios() {
		if strings.EqualFold(s, string(sc)) {
			return sc, nil
		}
	}
	names := make([]string, 0, 7)
	for _, sc := range Scenarios() {
		names = append(names, string(sc))
	}
	return "", fmt.Errorf("voicetest: unknown scenario %q (want one of %s)", s, strings.Join(names, ", "))
}

func (s Scenario) valid() bool { _, ok := scenarioSpecs[s]; return ok }

// StateCode returns the stateCode of the scenario's disconnect event in a
// voice verification call.
func (s Scenario) StateCode() voicecall.StateCode { return scenarioSpecs[s].stateCode }

// Events returns the event types the scenario pushes in a voice
// verification call, in order, e.g. callout, alerting, answer,
// disconnect.
func (s Scenario) Events() []voicecall.EventType {
	spec, ok := scenarioSpecs[s]
	if !ok {
		return nil
	}
	evs := make([]voicecall.EventType, 0, 4)
	for _, st := range spec.steps {
		evs = append(evs, st.event)
	}
	return evs
}

type step struct {
	event voicecall.EventType
	at    time.Duration // on the simulated timeline, from callout
}

type scenarioSpec struct {
	steps        []step // the last one is the disconnect
	stateCode    voicecall.StateCode
	stateDesc    string
	ulFailReason int
	sipStatus    int
	q850         int
	// callerCode and callerDesc replace stateCode and stateDesc when the
	// number is the caller (A) of a click-to-call.
	callerCode voicecall.StateCode
	callerDesc string
}

func (sp scenarioSpec) answered() bool {
	for _, st := range sp.steps {
		if st.event == voicecall.EventAnswer {
			return true
		}
	}
	return false
}

// ending returns the disconnect of a call that ended on this number.
func (sp scenarioSpec) ending(asCaller bool) ending {
	e := ending{stateCode: sp.stateCode, stateDesc: sp.stateDesc, ulFailReason: sp.ulFailReason, sipStatus: sp.sipStatus, q850: sp.q850}
	if asCaller && sp.callerCode != 0 {
		e.stateCode, e.stateDesc = sp.callerCode, sp.callerDesc
	}
	return e
}

// Simulated durations of the steps of a call.
const (
	ringDelay    = 2 * time.Second // callout to alerting
	answerDelay  = 6 * time.Second // callout to answer
	talkDuration = 14 * time.Second
	longCall     = time.Hour
)

const (
	evCallout    = voicecall.EventCallout
	evAlerting   = voicecall.EventAlerting
	evAnswer     = voicecall.EventAnswer
	evCollect    = voicecall.EventCollectInfo
	evDisconnect = voicecall.EventDisconnect
)

// State descriptions are the platform's Chinese texts.
var scenarioSpecs = map[Scenario]scenarioSpec{
	ScenarioAnswered: {
		steps:     []step{{evCallout, 0}, {evAlerting, ringDelay}, {evAnswer, answerDelay}, {evDisconnect, answerDelay + talkDuration}},
		stateCode: 0, stateDesc: "接通后主动挂机",
	},
	ScenarioNoAnswer: {
		steps:     []step{{evCallout, 0}, {evAlerting, ringDelay}, {evDisconnect, 47 * time.Second}},
		stateCode: 8101, stateDesc: "被叫无应答", ulFailReason: 514, sipStatus: 480, q850: 19,
		callerCode: 8107, callerDesc: "主叫无应答",
	},
	ScenarioBusy: {
		steps:     []step{{evCallout, 0}, {evDisconnect, 3 * time.Second}},
		stateCode: 8102, stateDesc: "被叫用户正忙", ulFailReason: 518, sipStatus: 486, q850: 17,
		callerCode: 8108, callerDesc: "主叫用户正忙",
	},
	ScenarioPoweredOff: {
		steps:     []step{{evCallout, 0}, {evDisconnect, 4 * time.Second}},
		stateCode: 8104, stateDesc: "被叫已关机", ulFailReason: 518, sipStatus: 480, q850: 20,
		callerCode: 8110, callerDesc: "主叫已关机",
	},
	ScenarioRejected: {
		steps:     []step{{evCallout, 0}, {evAlerting, ringDelay}, {evDisconnect, 8 * time.Second}},
		stateCode: 8004, stateDesc: "用户振铃时挂机", ulFailReason: 518, sipStatus: 603, q850: 21,
	},
	ScenarioNotExist: {
		steps:     []step{{evCallout, 0}, {evDisconnect, ringDelay}},
		stateCode: 8100, stateDesc: "被叫号码不存在", ulFailReason: 518, sipStatus: 404, q850: 1,
		callerCode: 8106, callerDesc: "主叫号码不存在",
	},
	ScenarioLongCall: {
		steps:     []step{{evCallout, 0}, {evAlerting, ringDelay}, {evAnswer, answerDelay}, {evDisconnect, answerDelay + longCall}},
		stateCode: 0, stateDesc: "接通后主动挂机",
	},
}
