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
	DisplayNbr   string     // displayNbr: fixed-line number shown to the callee
	CalleeNbr    string     // calleeNbr: the number called
	PlayInfoList []PlayInfo // playInfoList: what is played, in order (1-5 items)
	// StatusURL and FeeURL are the Base64-decoded statusUrl and feeUrl.
	StatusURL      string
	FeeURL         string
	ReturnIdlePort string // returnIdlePort: "true", "false" or ""
	UserData       string // userData
	BindNbr        string // bindNbr (legacy)
}

// PlayInfo is one item of a voice notification's playInfoList.
type PlayInfo struct {
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
	d, ok := objectDecoder(raw)
	if !ok {
		return b, "body", "must be a JSON object"
	}
	if p := d.number("displayNbr", &b.DisplayNbr, true); p != "" {
		return b, "displayNbr", p
	}
	if p := d.number("calleeNbr", &b.CalleeNbr, true); p != "" {
		return b, "calleeNbr", p
	}
	r := d.raw("playInfoList")
	if r == nil {
		return b, "playInfoList", "is required"
	}
	var items []json.RawMessage
	if r[0] != '[' || json.Unmarshal(r, &items) != nil {
		return b, "playInfoList", "must be an array"
	}
	if len(items) < 1 || len(items) > maxPlayInfos {
		return b, "playInfoList", "must hold 1-5 items"
	}
	for i, item := range items {
		pi, field, p := decodePlayInfo(item)
		b.PlayInfoList = append(b.PlayInfoList, pi)
		if p != "" {
			return b, "playInfoList[" + strconv.Itoa(i) + "]" + field, p
		}
	}
	if p := d.pushURL("statusUrl", &b.StatusURL); p != "" {
		return b, "statusUrl", p
	}
	if p := d.pushURL("feeUrl", &b.FeeURL); p != "" {
		return b, "feeUrl", p
	}
	if p := d.boolString("returnIdlePort", &b.ReturnIdlePort); p != "" {
		return b, "returnIdlePort", p
	}
	if p := d.userData(&b.UserData); p != "" {
		return b, "userData", p
	}
	if p := d.number("bindNbr", &b.BindNbr, false); p != "" {
		return b, "bindNbr", p
	}
	return b, "", ""
}

// decodePlayInfo checks one playInfoList item; the field it names starts
// with "." (or is "" for the item itself).
func decodePlayInfo(raw json.RawMessage) (PlayInfo, string, string) {
	var pi PlayInfo
	d, ok := objectDecoder(raw)
	if !ok {
		return pi, "", "must be a JSON object"
	}
	if p := d.tone("notifyVoice", &pi.NotifyVoice, false); p != "" {
		return pi, ".notifyVoice", p
	}
	if p := d.str("templateId", &pi.TemplateID); p != "" {
		return pi, ".templateId", p
	}
	if utf8.RuneCountInString(pi.TemplateID) > maxToneLen {
		return pi, ".templateId", "must be at most 128 characters"
	}
	if r := d.raw("templateParas"); r != nil {
		if r[0] != '[' || json.Unmarshal(r, &pi.TemplateParas) != nil {
			return pi, ".templateParas", "must be an array of strings"
		}
	}
	switch {
	case pi.NotifyVoice == "" && pi.TemplateID == "":
		return pi, "", "must have notifyVoice or templateId"
	case pi.NotifyVoice != "" && pi.TemplateID != "":
		return pi, "", "must have notifyVoice or templateId, not both"
	case pi.TemplateID == "" && pi.TemplateParas != nil:
		return pi, ".templateParas", "is only allowed with templateId"
	}
	if p := d.integer("collectInd", &pi.CollectInd); p != "" {
		return pi, ".collectInd", p
	}
	if pi.CollectInd != nil && (*pi.CollectInd < 0 || *pi.CollectInd > maxCollectInd) {
		return pi, ".collectInd", "must be 0-32"
	}
	if p := d.boolString("replayAfterCollection", &pi.ReplayAfterCollection); p != "" {
		return pi, ".replayAfterCollection", p
	}
	if p := d.str("collectContentTriggerReplaying", &pi.CollectContentTriggerReplaying); p != "" {
		return pi, ".collectContentTriggerReplaying", p
	}
	if t := pi.CollectContentTriggerReplaying; len(t) > maxCollectInd || strings.Trim(t, "0123456789*#") != "" {
		return pi, ".collectContentTriggerReplaying", "must be at most 32 keys (0-9, * and #)"
	}
	return pi, "", ""
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
	sc := s.scenarioOfLocked(b.CalleeNbr)
	presses, ok := s.digits[b.CalleeNbr]
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
