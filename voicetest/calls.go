package voicetest

import (
	"fmt"
	"time"

	"github.com/voicecall-go/voicecall"
)

// notifyTimeLayout is the layout of times in notifications (UTC).
const notifyTimeLayout = "2006-01-02 15:04:05"

// statusWire is a call-status notification (voicecall-api.md §5.3).
type statusWire struct {
	EventType  string         `json:"eventType"`
	StatusInfo statusInfoWire `json:"statusInfo"`
}

type statusInfoWire struct {
	SessionID string `json:"sessionId"`
	Timestamp string `json:"timestamp"`
	Caller    string `json:"caller,omitempty"`
	Called    string `json:"called,omitempty"`
	StateCode *int   `json:"stateCode,omitempty"`
	StateDesc string `json:"stateDesc,omitempty"`
	UserData  string `json:"userData,omitempty"`
}

// feeWire is a CDR notification (voicecall-api.md §6.2).
type feeWire struct {
	EventType string    `json:"eventType"`
	FeeLst    []cdrWire `json:"feeLst"`
}

// cdrWire is one CDR of the voice verification scenario, in the field
// order of the platform's samples.
type cdrWire struct {
	Direction           int    `json:"direction"`
	SpID                string `json:"spId"`
	AppKey              string `json:"appKey"`
	ICID                string `json:"icid"`
	BindNum             string `json:"bindNum"`
	SessionID           string `json:"sessionId"`
	CallerNum           string `json:"callerNum"`
	CalleeNum           string `json:"calleeNum"`
	CallEndTime         string `json:"callEndTime"`
	FailTime            string `json:"failTime,omitempty"`
	ULFailReason        int    `json:"ulFailReason"`
	SIPStatusCode       int    `json:"sipStatusCode"`
	CallOutStartTime    string `json:"callOutStartTime"`
	CallOutAlertingTime string `json:"callOutAlertingTime,omitempty"`
	CallOutAnswerTime   string `json:"callOutAnswerTime,omitempty"`
	CallOutUnaswRsn     int    `json:"callOutUnaswRsn"`
	RecordFlag          int    `json:"recordFlag"`
	TTSPlayTimes        int    `json:"ttsPlayTimes"`
	TTSTransDuration    int    `json:"ttsTransDuration"`
	ServiceType         string `json:"serviceType"`
	HostName            string `json:"hostName"`
	UserData            string `json:"userData"`
}

// simCall is a call in progress.
type simCall struct {
	call *Call
	app  App
	spec scenarioSpec
	body CallVerifyBody
	seq  int
}

// place registers a call for an accepted request; the caller must then
// start it with startCall. It returns the call, the idle ports left, and
// false when every port is busy.
func (s *Server) place(app App, body CallVerifyBody) (*simCall, int, bool) {
	start := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.placeLocked(app, body, start)
}

// startCall reports the call to the hook and plays it.
func (s *Server) startCall(sim *simCall) {
	s.mu.Lock()
	c := *sim.call
	s.mu.Unlock()
	if h := s.cfg.hooks.Call; h != nil {
		h(c)
	}
	go func() {
		defer s.wg.Done() // added by placeLocked
		s.play(sim)
	}()
}

// placeLocked registers the call and a task for it with the wait group;
// s.mu must be held.
func (s *Server) placeLocked(app App, body CallVerifyBody, start time.Time) (*simCall, int, bool) {
	if s.closed || s.active >= s.cfg.ports {
		return nil, 0, false
	}
	sc, ok := s.callee[body.CalleeNbr]
	if !ok {
		sc = s.scenario
	}
	s.sessionSeq++
	c := &Call{
		SessionID:  fmt.Sprintf("1200_%d_0_%s@%s", s.sessionSeq, start.UTC().Format("20060102150405"), s.cfg.hostName),
		AppKey:     app.Key,
		DisplayNbr: body.DisplayNbr,
		CalleeNbr:  body.CalleeNbr,
		VerifyCode: body.VerifyCode,
		UserData:   body.UserData,
		Scenario:   sc,
		StatusURL:  firstNonEmpty(body.StatusURL, app.StatusURL, s.cfg.statusURL),
		FeeURL:     firstNonEmpty(body.FeeURL, app.FeeURL, s.cfg.feeURL),
		Start:      start,
	}
	sim := &simCall{call: c, app: app, spec: scenarioSpecs[sc], body: body, seq: s.sessionSeq}
	s.wg.Add(1)
	s.active++
	s.calls = append(s.calls, c)
	s.notifyLocked()
	return sim, s.cfg.ports - s.active, true
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// play runs a call's timeline: one status push per step, in order, each
// at its scaled time, then the CDR.
func (s *Server) play(sim *simCall) {
	c := sim.call
	wallStart := time.Now()
	for _, st := range sim.spec.steps {
		if !s.sleep(time.Until(wallStart.Add(s.scale(st.at)))) {
			return
		}
		info := statusInfoWire{
			SessionID: c.SessionID,
			Timestamp: c.Start.Add(st.at).UTC().Format(notifyTimeLayout),
			Caller:    c.DisplayNbr,
			Called:    c.CalleeNbr,
			UserData:  c.UserData,
		}
		if st.event == EventDisconnect {
			code := sim.spec.stateCode
			info.StateCode, info.StateDesc = &code, sim.spec.stateDesc
		}
		if c.StatusURL != "" {
			s.pushStatus(sim.app, c.StatusURL, statusWire{EventType: st.event, StatusInfo: info})
		}
	}
	end := c.Start.Add(sim.spec.steps[len(sim.spec.steps)-1].at)
	cdr := s.buildCDR(sim, end)
	if c.FeeURL != "" {
		s.queueCDR(sim.app, c.FeeURL, cdr)
	}
	s.mu.Lock()
	s.active--
	c.Ended, c.End, c.StateCode = true, end, sim.spec.stateCode
	snapshot := *c
	s.notifyLocked()
	s.mu.Unlock()
	if h := s.cfg.hooks.Call; h != nil {
		h(snapshot)
	}
}

func (s *Server) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) * s.cfg.timeScale)
}

func (s *Server) buildCDR(sim *simCall, end time.Time) cdrWire {
	c, spec := sim.call, sim.spec
	format := func(d time.Duration, ok bool) string {
		if !ok {
			return ""
		}
		return c.Start.Add(d).UTC().Format(notifyTimeLayout)
	}
	bind := sim.body.BindNbr
	if bind == "" {
		bind = c.DisplayNbr
	}
	cdr := cdrWire{
		Direction:        0,
		SpID:             sim.app.SPID,
		AppKey:           c.AppKey,
		ICID:             fmt.Sprintf("CAE-%s-%08d", c.Start.In(voicecall.BeijingTime()).Format("20060102150405"), 12000000+sim.seq),
		BindNum:          bind,
		SessionID:        c.SessionID,
		CallerNum:        c.DisplayNbr,
		CalleeNum:        c.CalleeNbr,
		CallEndTime:      end.UTC().Format(notifyTimeLayout),
		ULFailReason:     spec.ulFailReason,
		SIPStatusCode:    spec.sipStatus,
		CallOutStartTime: format(0, true),
		CallOutUnaswRsn:  spec.q850,
		ServiceType:      "001",
		HostName:         s.cfg.hostName,
		UserData:         c.UserData,
	}
	cdr.CallOutAlertingTime = format(spec.at(EventAlerting))
	cdr.CallOutAnswerTime = format(spec.at(EventAnswer))
	if cdr.CallOutAnswerTime != "" {
		times := 3
		if sim.body.Times != nil && *sim.body.Times > 0 {
			times = *sim.body.Times
		}
		cdr.TTSPlayTimes = times
	} else {
		cdr.FailTime = cdr.CallEndTime
	}
	return cdr
}
