package voicetest

import (
	"fmt"
	"strings"
	"time"
)

// Scenario is how a simulated call goes. Each one produces the status
// events and the CDR the platform documents for that outcome
// (voicecall-api.md §5, §6 and §7).
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
)

// Scenarios returns every scenario, [ScenarioAnswered] first.
func Scenarios() []Scenario {
	return []Scenario{ScenarioAnswered, ScenarioNoAnswer, ScenarioBusy, ScenarioPoweredOff, ScenarioRejected, ScenarioNotExist}
}

// ParseScenario returns the scenario named s (case-insensitive), e.g.
// "busy" or "no-answer".
func ParseScenario(s string) (Scenario, error) {
	for _, sc := range Scenarios() {
		if strings.EqualFold(s, string(sc)) {
			return sc, nil
		}
	}
	names := make([]string, 0, 6)
	for _, sc := range Scenarios() {
		names = append(names, string(sc))
	}
	return "", fmt.Errorf("voicetest: unknown scenario %q (want one of %s)", s, strings.Join(names, ", "))
}

func (s Scenario) valid() bool { _, ok := scenarioSpecs[s]; return ok }

// StateCode returns the stateCode of the scenario's disconnect event.
func (s Scenario) StateCode() int { return scenarioSpecs[s].stateCode }

// Events returns the event types the scenario pushes, in order, e.g.
// callout, alerting, answer, disconnect.
func (s Scenario) Events() []string {
	spec, ok := scenarioSpecs[s]
	if !ok {
		return nil
	}
	evs := make([]string, 0, 4)
	for _, st := range spec.steps {
		evs = append(evs, st.event)
	}
	return evs
}

// Event types of status notifications.
const (
	EventCallout    = "callout"
	EventAlerting   = "alerting"
	EventAnswer     = "answer"
	EventDisconnect = "disconnect"
	EventFee        = "fee"
)

type step struct {
	event string
	at    time.Duration // on the simulated timeline, from callout
}

type scenarioSpec struct {
	steps        []step // the last one is the disconnect
	stateCode    int
	stateDesc    string
	ulFailReason int
	sipStatus    int
	q850         int
}

func (sp scenarioSpec) at(event string) (time.Duration, bool) {
	for _, st := range sp.steps {
		if st.event == event {
			return st.at, true
		}
	}
	return 0, false
}

// State descriptions are the platform's (voicecall-api.md §7.1).
var scenarioSpecs = map[Scenario]scenarioSpec{
	ScenarioAnswered: {
		steps:     []step{{EventCallout, 0}, {EventAlerting, 2 * time.Second}, {EventAnswer, 6 * time.Second}, {EventDisconnect, 20 * time.Second}},
		stateCode: 0, stateDesc: "接通后主动挂机",
	},
	ScenarioNoAnswer: {
		steps:     []step{{EventCallout, 0}, {EventAlerting, 2 * time.Second}, {EventDisconnect, 47 * time.Second}},
		stateCode: 8101, stateDesc: "被叫无应答", ulFailReason: 514, sipStatus: 480, q850: 19,
	},
	ScenarioBusy: {
		steps:     []step{{EventCallout, 0}, {EventDisconnect, 3 * time.Second}},
		stateCode: 8102, stateDesc: "被叫用户正忙", ulFailReason: 518, sipStatus: 486, q850: 17,
	},
	ScenarioPoweredOff: {
		steps:     []step{{EventCallout, 0}, {EventDisconnect, 4 * time.Second}},
		stateCode: 8104, stateDesc: "被叫已关机", ulFailReason: 518, sipStatus: 480, q850: 20,
	},
	ScenarioRejected: {
		steps:     []step{{EventCallout, 0}, {EventAlerting, 2 * time.Second}, {EventDisconnect, 8 * time.Second}},
		stateCode: 8004, stateDesc: "用户振铃时挂机", ulFailReason: 518, sipStatus: 603, q850: 21,
	},
	ScenarioNotExist: {
		steps:     []step{{EventCallout, 0}, {EventDisconnect, 2 * time.Second}},
		stateCode: 8100, stateDesc: "被叫号码不存在", ulFailReason: 518, sipStatus: 404, q850: 1,
	},
}
