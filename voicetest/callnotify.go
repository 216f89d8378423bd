package voicetest

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voicecall-go/voicecall"
)

// Limits Huawei's voice notification page documents.
const (
	maxPlayInfos  = 5
	maxCollectInd = 32
	// playDuration is how long one playInfoList item plays (simulated).
	playDuration = 10 * time.Second
	// pressDelay is how long after the playback the callee presses keys
	// (the platform waits 5 s).
	pressDelay = 2 * time.Second
	// maxReplays bounds how often the fake replays one item.
	maxReplays = 3
)

// DefaultDigits is what a callee presses when a voice notification
// collects digits and no digits were scripted for it ([WithCalleeDigits],
// [Server.SetDigits]).
const DefaultDigits = "1"

// CallNotifyBody is the body of a voice notification (callnotify) request
// as the server decoded it; see [CallVerifyBody] for the conventions.
type CallNotifyBody struct {
	DisplayNbr   string         // displayNbr: fixed-line number shown to the callee
	CalleeNbr    string         // calleeNbr: the number called
	PlayInfoList []PlayInfoBody // playInfoList: what is played, in order (1-5 items)
	// StatusURL and FeeURL are the Base64-decoded statusUrl and feeUrl.
	StatusURL      string
	FeeURL         string
	ReturnIdlePort string // returnIdlePort: "true", "false" or ""
	UserData       string // userData
	BindNbr        string // bindNbr (legacy)
}

// PlayInfoBody is one item of a voice notification's playInfoList as the
// server decoded it: the wire's values, as [CallNotifyBody] keeps them
// (the SDK's typed request item is [voicecall.PlayInfo]).
type PlayInfoBody struct {
	NotifyVoice   string   // notifyVoice: an approved audio file
	TemplateID    string   // templateId: an approved TTS template
	TemplateParas []string // templateParas: the template's variables
	// CollectInd (collectInd) is how many digits to collect after the
	// item played, 0-32; nil when absent (no collection).
	CollectInd *int
	// ReplayAfterCollection (replayAfterCollection) is "true", "false" or "".
	ReplayAfterCollection string
	// CollectContentTriggerReplaying (collectContentTriggerReplaying) is the
	// digits that make the item play again.
	CollectContentTriggerReplaying string
}

// decodeNotifyBody decodes and checks a callnotify body, stopping at the
// first problem (field wire name and problem, as decodeBody).
func decodeNotifyBody(raw []byte) (CallNotifyBody, string, string) {
	var b CallNotifyBody
	d := objectDecoder(raw, "")
	d.number("displayNbr", &b.DisplayNbr, true)
	d.number("calleeNbr", &b.CalleeNbr, true)
	if d.ok() {
		var items []json.RawMessage
		switch r := d.raw("playInfoList"); {
		case r == nil:
			d.fail("playInfoList", "is required")
		case r[0] != '[' || json.Unmarshal(r, &items) != nil:
			d.fail("playInfoList", "must be an array")
		case len(items) < 1 || len(items) > maxPlayInfos:
			d.fail("playInfoList", "must hold 1-5 items")
		}
		for i, item := range items {
			if !d.ok() {
				break
			}
			b.PlayInfoList = append(b.PlayInfoList, d.playInfo(item, "playInfoList["+strconv.Itoa(i)+"]"))
		}
	}
	d.pushURL("statusUrl", &b.StatusURL)
	d.pushURL("feeUrl", &b.FeeURL)
	d.boolString("returnIdlePort", &b.ReturnIdlePort)
	d.userData(&b.UserData)
	d.number("bindNbr", &b.BindNbr, false)
	return b, d.field, d.problem
}

// playInfo decodes and checks raw, the playInfoList item at at, and
// takes its first problem.
func (d *decoder) playInfo(raw json.RawMessage, at string) PlayInfoBody {
	var pi PlayInfoBody
	item := objectDecoder(raw, at)
	defer d.adopt(item)
	item.tone("notifyVoice", &pi.NotifyVoice, false)
	if item.str("templateId", &pi.TemplateID) && utf8.RuneCountInString(pi.TemplateID) > maxToneLen {
		item.fail("templateId", "must be at most 128 characters")
	}
	if r := item.raw("templateParas"); item.ok() && r != nil && (r[0] != '[' || json.Unmarshal(r, &pi.TemplateParas) != nil) {
		item.fail("templateParas", "must be an array of strings")
	}
	switch {
	case !item.ok():
	case pi.NotifyVoice == "" && pi.TemplateID == "":
		item.fail("", "must have notifyVoice or templateId")
	case pi.NotifyVoice != "" && pi.TemplateID != "":
		item.fail("", "must have notifyVoice or templateId, not both")
	case pi.TemplateID == "" && pi.TemplateParas != nil:
		item.fail("templateParas", "is only allowed with templateId")
	}
	if item.integer("collectInd", &pi.CollectInd) && pi.CollectInd != nil && (*pi.CollectInd < 0 || *pi.CollectInd > maxCollectInd) {
		item.fail("collectInd", "must be 0-32")
	}
	item.boolString("replayAfterCollection", &pi.ReplayAfterCollection)
	if item.str("collectContentTriggerReplaying", &pi.CollectContentTriggerReplaying) {
		if t := pi.CollectContentTriggerReplaying; len(t) > maxCollectInd || strings.Trim(t, "0123456789*#") != "" {
			item.fail("collectContentTriggerReplaying", "must be at most 32 keys (0-9, * and #)")
		}
	}
	return pi
}

// notifyCall builds the simulated call of an accepted callnotify request:
// the items play in order; after an item with collectInd > 0 the callee
// presses keys (collectInfo), and the platform hangs up, unless the item
// asks for a replay (replayAfterCollection "true", and the digits equal
// collectContentTriggerReplaying when it is set), in which case the item
// plays again (at most 3 times here). Without collection the call ends
// after the last item.
func (s *Server) notifyCall(app App, b CallNotifyBody, start time.Time) *simCall {
	s.mu.Lock()
	sc := s.takeNextLocked(b.CalleeNbr)
	presses, ok := s.digits[b.CalleeNbr]
	if m, magic := s.magicLocked(b.CalleeNbr); !ok && magic && m.Digits != "" {
		presses, ok = []string{m.Digits}, true
	}
	if !ok {
		presses = s.digits[""]
	}
	s.mu.Unlock()
	spec := scenarioSpecs[sc]
	c := &Call{
		API:        APICallNotify,
		AppKey:     app.Key,
		DisplayNbr: b.DisplayNbr,
		CalleeNbr:  b.CalleeNbr,
		UserData:   b.UserData,
		Scenario:   sc,
		StatusURL:  firstNonEmpty(b.StatusURL, app.StatusURL, s.cfg.statusURL),
		FeeURL:     firstNonEmpty(b.FeeURL, app.FeeURL, s.cfg.feeURL),
		Start:      start,
	}
	sim := &simCall{call: c, app: app, end: spec.ending(false), bindNbr: b.BindNbr}
	add := func(e voicecall.EventType, at time.Duration) *tlStep {
		sim.steps = append(sim.steps, tlStep{event: e, at: at, caller: b.DisplayNbr, called: b.CalleeNbr})
		return &sim.steps[len(sim.steps)-1]
	}
	if !spec.answered() {
		for _, st := range spec.steps {
			add(st.event, st.at)
		}
		return sim
	}
	add(evCallout, 0)
	add(evAlerting, ringDelay)
	add(evAnswer, answerDelay)
	at := answerDelay
	collections := 0
items:
	for _, pi := range b.PlayInfoList {
		for replay := 0; ; replay++ {
			at += playDuration
			if pi.TemplateID != "" {
				sim.ttsPlays++
			}
			if pi.CollectInd == nil || *pi.CollectInd == 0 {
				break
			}
			digits := DefaultDigits
			if len(presses) > 0 {
				digits = presses[min(collections, len(presses)-1)]
			}
			if len(digits) > *pi.CollectInd {
				digits = digits[:*pi.CollectInd]
			}
			collections++
			at += pressDelay
			add(evCollect, at).digits = &digits
			again := pi.ReplayAfterCollection == "true" &&
				(pi.CollectContentTriggerReplaying == "" || pi.CollectContentTriggerReplaying == digits)
			if !again || replay == maxReplays {
				break items
			}
		}
	}
	if sc == ScenarioLongCall {
		at = max(at, answerDelay+longCall)
	}
	add(evDisconnect, at+time.Second)
	return sim
}
