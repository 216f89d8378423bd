package voicetest

import (
	"fmt"
	"time"

	"github.com/voicecall-go/voicecall"
)

// notifyTimeLayout is the layout of times in notifications (UTC).
const notifyTimeLayout = "2006-01-02 15:04:05"

// statusWire is a call-status notification as the platform pushes it.
type statusWire struct {
	EventType  voicecall.EventType `json:"eventType"`
	StatusInfo statusInfoWire      `json:"statusInfo"`
}

type statusInfoWire struct {
	SessionID string               `json:"sessionId"`
	Timestamp string               `json:"timestamp"`
	Caller    string               `json:"caller,omitempty"`
	Called    string               `json:"called,omitempty"`
	StateCode *voicecall.StateCode `json:"stateCode,omitempty"`
	StateDesc string               `json:"stateDesc,omitempty"`
	PartyType string               `json:"partyType,omitempty"`
	DigitInfo *string              `json:"digitInfo,omitempty"`
	UserData  string               `json:"userData,omitempty"`
}

// feeWire is a CDR notification.
type feeWire struct {
	EventType voicecall.EventType `json:"eventType"`
	FeeLst    []cdrWire           `json:"feeLst"`
}

// cdrWire is one CDR, in the field order of the platform's samples. The
// click-to-call fields (fwd*, record*) are left out of the CDRs of the
// other services.
type cdrWire struct {
	Direction             int    `json:"direction"`
	SpID                  string `json:"spId"`
	AppKey                string `json:"appKey"`
	ICID                  string `json:"icid"`
	BindNum               string `json:"bindNum"`
	SessionID             string `json:"sessionId"`
	CallerNum             string `json:"callerNum"`
	CalleeNum             string `json:"calleeNum"`
	FwdDisplayNum         string `json:"fwdDisplayNum,omitempty"`
	FwdDstNum             string `json:"fwdDstNum,omitempty"`
	FwdStartTime          string `json:"fwdStartTime,omitempty"`
	FwdAlertingTime       string `json:"fwdAlertingTime,omitempty"`
	FwdAnswerTime         string `json:"fwdAnswerTime,omitempty"`
	CallEndTime           string `json:"callEndTime"`
	FwdUnaswRsn           *int   `json:"fwdUnaswRsn,omitempty"`
	FailTime              string `json:"failTime,omitempty"`
	ULFailReason          int    `json:"ulFailReason"`
	SIPStatusCode         int    `json:"sipStatusCode"`
	CallOutStartTime      string `json:"callOutStartTime"`
	CallOutAlertingTime   string `json:"callOutAlertingTime,omitempty"`
	CallOutAnswerTime     string `json:"callOutAnswerTime,omitempty"`
	CallOutUnaswRsn       int    `json:"callOutUnaswRsn"`
	DynIVRStartTime       string `json:"dynIVRStartTime,omitempty"`
	DynIVRPath            string `json:"dynIVRPath,omitempty"`
	RecordFlag            int    `json:"recordFlag"`
	RecordStartTime       string `json:"recordStartTime,omitempty"`
	RecordObjectName      string `json:"recordObjectName,omitempty"`
	RecordBucketName      string `json:"recordBucketName,omitempty"`
	RecordDomain          string `json:"recordDomain,omitempty"`
	RecordFileDownloadURL string `json:"recordFileDownloadUrl,omitempty"`
	TTSPlayTimes          int    `json:"ttsPlayTimes"`
	TTSTransDuration      int    `json:"ttsTransDuration"`
	ServiceType           string `json:"serviceType"`
	HostName              string `json:"hostName"`
	UserData              string `json:"userData"`
}

// Legs of a call: the only leg of a verification or notification call,
// or the caller (A) leg of a click-to-call; and the callee (B) leg of a
// click-to-call.
const (
	legA = 0
	legB = 1
)

// tlStep is one status event of a call's timeline.
type tlStep struct {
	event  voicecall.EventType
	at     time.Duration // on the simulated timeline, from the first callout
	leg    int
	caller string
	called string
	digits *string // collectInfo only
}

// ending says how a call ended: the disconnect's codes and the CDR's.
type ending struct {
	stateCode    voicecall.StateCode
	stateDesc    string
	ulFailReason int
	sipStatus    int
	q850         int  // callOutUnaswRsn: the A leg's Q.850 cause
	fwdQ850      *int // fwdUnaswRsn: the B leg's (click-to-call only)
	partyType    voicecall.PartyType
}

// simCall is a call in progress.
type simCall struct {
	call  *Call
	app   App
	steps []tlStep // the last is the disconnect
	end   ending
	seq   int
	// bindNbr is the legacy bindNbr of a callVerify request ("" if none).
	bindNbr string
	// ttsPlays counts template plays (voice notification) or read-outs
	// (verification) for the CDR.
	ttsPlays int
	// recordFlag asks for the call to be recorded (click-to-call).
	recordFlag bool
	// partyType says whether disconnects carry partyType.
	partyType bool
	// stop is closed by callStop; stopping is set (under s.mu) when it is,
	// and finishing once the disconnect is being pushed (the call can no
	// longer be stopped).
	stop      chan struct{}
	stopping  bool
	finishing bool
}

// place registers a call for an accepted request; the caller must then
// start it with startCall. It returns false when every port is busy.
func (s *Server) place(sim *simCall) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.active >= s.cfg.ports {
		return 0, false
	}
	s.sessionSeq++
	sim.seq = s.sessionSeq
	prefix := "1200"
	switch sim.call.API {
	case APICallNotify:
		prefix = "1201"
	case APIClick2Call:
		prefix = "1202"
	}
	c := sim.call
	c.SessionID = fmt.Sprintf("%s_%d_0_%s@%s", prefix, s.sessionSeq, c.Start.UTC().Format("20060102150405"), s.cfg.hostName)
	sim.stop = make(chan struct{})
	s.wg.Add(1)
	s.active++
	s.live[c.SessionID] = sim
	s.appendCallLocked(c)
	s.notifyLocked()
	return s.cfg.ports - s.active, true
}

// scenarioOf returns the scenario of calls to number; s.mu must be held.
func (s *Server) scenarioOfLocked(number string) Scenario {
	if sc, ok := s.callee[number]; ok {
		return sc
	}
	if m, ok := s.magicLocked(number); ok && m.Scenario != "" {
		return m.Scenario
	}
	return s.scenario
}

// takeNextLocked returns the scenario of a call to callee: the one set
// with [Server.SetNextScenario], used up, or else the number's; s.mu must
// be held.
func (s *Server) takeNextLocked(callee string) Scenario {
	if sc := s.next; sc != "" {
		s.next = ""
		return sc
	}
	return s.scenarioOfLocked(callee)
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
		defer s.wg.Done() // added by place
		s.play(sim)
	}()
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
// at its scaled time, then the CDR. A callStop cuts it short with a
// disconnect of its own.
func (s *Server) play(sim *simCall) {
	c := sim.call
	wallStart := time.Now()
	var last time.Duration
	steps, end := sim.steps, sim.end
	for i := 0; i < len(steps); i++ {
		st := steps[i]
		wait := time.Until(wallStart.Add(s.scale(st.at)))
		ok, stopped := s.sleepOrStop(wait, sim.stop)
		if !ok {
			return
		}
		s.mu.Lock()
		stopped = stopped || sim.stopping
		if stopped || st.event == voicecall.EventDisconnect {
			sim.finishing = true // from now on the call cannot be stopped
		}
		s.mu.Unlock()
		if stopped {
			at := last
			if s.cfg.timeScale > 0 {
				at = time.Duration(float64(time.Since(wallStart)) / s.cfg.timeScale).Truncate(time.Second)
			}
			at = max(at, last)
			if at > st.at {
				at = st.at
			}
			disc := steps[len(steps)-1]
			disc.at = at
			steps = append(steps[:i:i], disc)
			// The SP ended the call (用户指示挂机; release point 1003,
			// SP调用总机释放接口挂机).
			end = ending{stateCode: voicecall.StateHangUpRequested, stateDesc: "用户指示挂机", ulFailReason: 1003}
			st = disc
			s.mu.Lock()
			c.Stopped = true
			s.mu.Unlock()
		}
		last = st.at
		info := statusInfoWire{
			SessionID: c.SessionID,
			Timestamp: c.Start.Add(st.at).UTC().Format(notifyTimeLayout),
			Caller:    st.caller,
			Called:    st.called,
			DigitInfo: st.digits,
			UserData:  c.UserData,
		}
		if st.event == voicecall.EventDisconnect {
			code := end.stateCode
			info.StateCode, info.StateDesc = &code, end.stateDesc
			if sim.partyType && !c.Stopped {
				info.PartyType = string(end.partyType)
			}
		}
		ev := CallEvent{Type: st.event, Time: c.Start.Add(st.at), Caller: st.caller, Called: st.called, StateCode: info.StateCode}
		s.mu.Lock()
		if st.digits != nil {
			c.Digits = append(c.Digits, *st.digits)
			ev.Digits = *st.digits
		}
		c.Events = append(c.Events, ev)
		s.notifyLocked()
		s.mu.Unlock()
		if c.StatusURL != "" {
			s.pushStatus(sim.app, c.StatusURL, statusWire{EventType: st.event, StatusInfo: info})
		}
	}
	endAt := steps[len(steps)-1].at
	cdr := s.buildCDR(sim, steps, end, endAt)
	if c.FeeURL != "" {
		s.queueCDR(sim.app, c.FeeURL, cdr)
	}
	s.mu.Lock()
	s.active--
	delete(s.live, c.SessionID)
	c.Ended, c.End, c.StateCode = true, c.Start.Add(endAt), end.stateCode
	snapshot := *c
	s.notifyLocked()
	s.mu.Unlock()
	if h := s.cfg.hooks.Call; h != nil {
		h(snapshot)
	}
}

// stepAt returns the time of the first event e on leg.
func stepAt(steps []tlStep, leg int, e voicecall.EventType) (time.Duration, bool) {
	for _, st := range steps {
		if st.leg == leg && st.event == e {
			return st.at, true
		}
	}
	return 0, false
}

// sleepOrStop waits for d, until the server closes (ok false) or until
// stop is closed (stopped true).
func (s *Server) sleepOrStop(d time.Duration, stop <-chan struct{}) (ok, stopped bool) {
	select {
	case <-stop:
		return true, true
	default:
	}
	if d <= 0 {
		return s.ctx.Err() == nil, false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true, false
	case <-stop:
		return true, true
	case <-s.ctx.Done():
		return false, false
	}
}

func (s *Server) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) * s.cfg.timeScale)
}

// buildCDR builds the call's CDR from the events that were pushed.
func (s *Server) buildCDR(sim *simCall, steps []tlStep, end ending, endAt time.Duration) cdrWire {
	c := sim.call
	format := func(d time.Duration, ok bool) string {
		if !ok {
			return ""
		}
		return c.Start.Add(d).UTC().Format(notifyTimeLayout)
	}
	bind := sim.bindNbr
	if bind == "" {
		bind = c.DisplayNbr
	}
	service := "001"
	callee := c.CalleeNbr
	if c.API == APIClick2Call {
		service = "002"
		callee = c.CallerNbr
	}
	cdr := cdrWire{
		Direction:        0,
		SpID:             sim.app.SPID,
		AppKey:           c.AppKey,
		ICID:             fmt.Sprintf("CAE-%s-%08d", c.Start.In(voicecall.BeijingTime()).Format("20060102150405"), 12000000+sim.seq),
		BindNum:          bind,
		SessionID:        c.SessionID,
		CallerNum:        c.DisplayNbr,
		CalleeNum:        callee,
		CallEndTime:      c.Start.Add(endAt).UTC().Format(notifyTimeLayout),
		ULFailReason:     end.ulFailReason,
		SIPStatusCode:    end.sipStatus,
		CallOutStartTime: format(0, true),
		CallOutUnaswRsn:  end.q850,
		ServiceType:      service,
		HostName:         s.cfg.hostName,
		UserData:         c.UserData,
	}
	cdr.CallOutAlertingTime = format(stepAt(steps, legA, voicecall.EventAlerting))
	cdr.CallOutAnswerTime = format(stepAt(steps, legA, voicecall.EventAnswer))
	answered := cdr.CallOutAnswerTime != ""
	if c.API == APIClick2Call {
		cdr.FwdDisplayNum = c.DisplayCalleeNbr
		cdr.FwdDstNum = c.CalleeNbr
		cdr.FwdStartTime = format(stepAt(steps, legB, voicecall.EventCallout))
		cdr.FwdAlertingTime = format(stepAt(steps, legB, voicecall.EventAlerting))
		cdr.FwdAnswerTime = format(stepAt(steps, legB, voicecall.EventAnswer))
		q := 0
		if end.fwdQ850 != nil {
			q = *end.fwdQ850
		}
		cdr.FwdUnaswRsn = &q
		answered = cdr.FwdAnswerTime != ""
		if bAnswer, ok := stepAt(steps, legB, voicecall.EventAnswer); ok && sim.recordFlag && endAt-bAnswer >= minRecording {
			rec := s.addRecording(c, endAt-bAnswer)
			cdr.RecordFlag = 1
			cdr.RecordStartTime = cdr.FwdAnswerTime
			cdr.RecordObjectName = rec.name
			cdr.RecordBucketName = recordBucket
			if s.cfg.recordDownloadURLs {
				cdr.RecordFileDownloadURL = rec.location
			} else {
				cdr.RecordDomain = rec.domain
			}
		}
	} else if answered {
		cdr.TTSPlayTimes = sim.ttsPlays
	}
	if c.API == APICallNotify && answered {
		cdr.DynIVRStartTime = cdr.CallOutAnswerTime
		path := ""
		for _, d := range c.Digits {
			if path != "" {
				path += "-"
			}
			path += d
		}
		cdr.DynIVRPath = path
	}
	if !answered {
		cdr.FailTime = cdr.CallEndTime
	}
	return cdr
}
