package voicecall

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voicecall-go/voicecall/internal/redact"
)

// EventType is the eventType of a notification. The platform sends the
// status event types below to the statusUrl and [EventFee] to the feeUrl;
// other values are kept verbatim in an [UnknownEvent].
type EventType string

// Event types documented on Huawei's call status and CDR notification pages.
const (
	// EventCallout: the platform started dialling the callee (呼出事件).
	EventCallout EventType = "callout"
	// EventAlerting: the callee's phone is ringing (振铃事件).
	EventAlerting EventType = "alerting"
	// EventAnswer: the callee answered (应答事件).
	EventAnswer EventType = "answer"
	// EventCollectInfo: the result of collecting key presses (放音收号结果
	// 事件), voice notification only; see StatusEvent.DigitInfo.
	EventCollectInfo EventType = "collectInfo"
	// EventDisconnect: the call ended (挂机事件); StatusEvent.StateCode
	// says why.
	EventDisconnect EventType = "disconnect"
	// EventFee: a batch of CDRs (话单事件), see [FeeRecord].
	EventFee EventType = "fee"
)

// IsStatus reports whether t is one of the five documented call-status
// event types, exactly as the constants spell them ([ParseNotification]
// normalises the case of what it reads).
func (t EventType) IsStatus() bool {
	switch t {
	case EventCallout, EventAlerting, EventAnswer, EventCollectInfo, EventDisconnect:
		return true
	}
	return false
}

// StatusEvent is one call-status notification (呼叫状态通知), pushed in
// real time to the statusUrl. The platform pushes each event once and
// never again, even when the receiver fails (Huawei's Voice Call FAQ).
//
// Phone numbers are in global format, e.g. "+8613800000021"; they are
// personal data: mask them before logging (the SDK's own log lines keep
// only the last four digits).
type StatusEvent struct {
	// Type is the event type, one of the status types ([EventType.IsStatus]).
	Type EventType

	// SessionID (sessionId) identifies the call; it equals the sessionId
	// returned by CallVerify and the one in the call's CDR. Empty when the
	// push carried none (the event is delivered anyway, with its userData).
	SessionID string

	// Timestamp is when the event happened on the platform, in UTC. It is
	// the zero time when the platform sent none or a value the SDK cannot
	// read; RawTimestamp then holds what was sent. The SDK reads
	// "yyyy-MM-dd HH:mm:ss" (UTC, as in the platform's examples; one or
	// more spaces or a "T" between date and time, an optional trailing
	// "Z") and, because the field's documentation says "UNIX timestamp",
	// a Unix time in seconds (up to 11 digits) or milliseconds (12-13
	// digits), as a JSON string or number.
	Timestamp time.Time

	// RawTimestamp is the timestamp exactly as sent ("" when absent). A
	// JSON number is kept as its literal text.
	RawTimestamp string

	// UserData (userData) echoes the userData of the request that placed
	// the call: the app's own value, or the correlation token the SDK
	// generated (see [IsCorrelationToken] and [CorrelationIndex]).
	UserData string

	// Caller is the calling number. For a callout event it is the display
	// number (displayNbr) the app set.
	Caller string

	// Called is the called number. For a disconnect event it is the
	// callee (the "A" number).
	Called string

	// StateCode (stateCode) is why the call ended; disconnect events
	// only. Check HasStateCode: 0 is a meaningful value ("hung up after
	// the call was connected").
	StateCode StateCode

	// HasStateCode reports whether the event carried a stateCode.
	HasStateCode bool

	// StateDesc (stateDesc) is the platform's description of StateCode;
	// see also [StateCode.Description].
	StateDesc string

	// PartyType (partyType) is the type of the party that hung up; sent
	// in disconnect events of click-to-call (click2Call) when the request
	// set PartyTypeInDisconnect. A JSON number is kept as its text.
	PartyType PartyType

	// DigitInfo (digitInfo) holds the keys the callee pressed
	// (collectInfo events of voice notification).
	DigitInfo string

	// DisplayCallerNum (displayCallerNum) is the number shown to the
	// callee, when the platform sends it.
	DisplayCallerNum string

	// Extra holds, raw, the statusInfo members the SDK does not model,
	// members it models whose value it could not read as their type, and
	// differently-cased duplicates of modelled members (nil when none).
	Extra map[string]json.RawMessage
}

// PartyType is the partyType of a click-to-call's disconnect event: who
// hung up. Huawei's click-to-call status page describes the field as
// "the type of the user who hung up" without a value table the SDK could
// confirm; the constants are the SDK's reading (1 the caller, 2 the
// callee), and any other value is kept verbatim.
type PartyType string

// Party types.
const (
	PartyTypeCaller PartyType = "1" // the caller (A, callerNbr)
	PartyTypeCallee PartyType = "2" // the callee (B, calleeNbr)
)

// UnknownEvent is a notification whose eventType the SDK does not know.
// It is passed through, never rejected, so that new platform events are
// not lost.
type UnknownEvent struct {
	// Type is the eventType as sent (never empty).
	Type EventType
	// Raw is a copy of the whole request body, a valid JSON object.
	Raw json.RawMessage
}

// NotificationKind says which field of a [Notification] is set.
type NotificationKind int

// Kinds of notification.
const (
	// NotificationStatus: a call-status event, in Notification.Status.
	NotificationStatus NotificationKind = iota + 1
	// NotificationFee: a CDR batch, in Notification.Fees.
	NotificationFee
	// NotificationUnknown: an event type the SDK does not know, in
	// Notification.Unknown.
	NotificationUnknown
)

// String returns "status", "fee" or "unknown".
func (k NotificationKind) String() string {
	switch k {
	case NotificationStatus:
		return "status"
	case NotificationFee:
		return "fee"
	case NotificationUnknown:
		return "unknown"
	}
	return "NotificationKind(" + strconv.Itoa(int(k)) + ")"
}

// Notification is one request body the platform pushed, parsed by
// [ParseNotification]. Exactly one of Status, Fees and Unknown is set,
// as Kind says.
type Notification struct {
	// Kind says which of the fields below is set.
	Kind NotificationKind
	// Status is the call-status event when Kind is NotificationStatus.
	Status *StatusEvent
	// Fees are the CDRs of a fee batch (in body order; the platform sends
	// at most 50, "每条消息最多携带50个话单", but larger batches are parsed:
	// refusing one would lose its records) when Kind is NotificationFee.
	Fees []FeeRecord
	// Unknown is the event when Kind is NotificationUnknown.
	Unknown *UnknownEvent
	// Extra holds, raw, the envelope members of a status or fee event
	// other than eventType, statusInfo and feeLst (nil when none).
	Extra map[string]json.RawMessage
}

// Type returns the notification's eventType.
func (n Notification) Type() EventType {
	switch {
	case n.Kind == NotificationStatus && n.Status != nil:
		return n.Status.Type
	case n.Kind == NotificationFee:
		return EventFee
	case n.Kind == NotificationUnknown && n.Unknown != nil:
		return n.Unknown.Type
	}
	return ""
}

const parseOp = "parse notification"

// ParseNotification parses the body of a notification the platform
// pushed. It is a pure function, safe for concurrent use; the result does
// not refer to body.
//
// It is liberal in what carries data and strict where it protects:
//
//   - The body must be valid UTF-8 and one JSON object (the envelope)
//     with an "eventType" string that is not empty, and must not repeat
//     "eventType", "statusInfo" or "feeLst" under exactly the same name
//     (two readers could see two different events). Anything else is
//     an error.
//   - eventType is matched without regard to case and normalised to the
//     constants ("FEE" is [EventFee], "Disconnect" is [EventDisconnect]).
//   - Member names are matched exactly first, as the platform's names
//     are case-sensitive; a member spelled with other letter case is read
//     when the exact name is absent. In the envelope a differently-cased
//     duplicate never overwrites the exact member; it is kept in Extra.
//     Inside statusInfo or a record, a member repeated under the same
//     name or in another letter case ("sessionId" twice, or "sessionId"
//     and "SESSIONID", modelled or not) is an error naming it, e.g.
//     "feeLst[2].sessionId": the platform never sends one, and a forger
//     could show a signature checker or a de-duplication store one value
//     and the application another.
//   - A status event is parsed whatever statusInfo holds: a missing
//     statusInfo or sessionId leaves those fields empty.
//   - A fee event's feeLst is an array of records (a single object is
//     taken as one record), of any length; records without sessionId are
//     delivered too, null elements are skipped. A feeLst that is missing,
//     or an element that is not an object, is an error (the platform
//     re-pushes CDRs).
//   - Integers accept JSON numbers and strings of digits; strings accept
//     numbers (kept as their text). A member whose value cannot be read
//     as its documented type is not an error: the field stays zero and
//     the member is kept, raw, in Extra. So are members the SDK does not
//     model, so that nothing the platform adds is lost.
//   - Any other eventType gives a [NotificationUnknown] with a copy of
//     the body.
//
// Times the SDK cannot read are not an error either: the time.Time
// stays zero and the raw text is kept (see StatusEvent.Timestamp,
// FeeRecord.RawTimes).
//
// Errors are a *[ValidationError] with Op "parse notification" whose
// Fields name the member at fault with its path, e.g. "eventType",
// "feeLst[3]", or "body" when the body itself is not valid JSON or
// UTF-8. Error texts never include values.
func ParseNotification(body []byte) (Notification, error) {
	if !utf8.Valid(body) {
		return Notification{}, parseError("body", "not valid UTF-8")
	}
	if n, ok := parsePlain(body); ok {
		return n, nil
	}
	return parseLenient(body)
}

// parseLenient is ParseNotification's general path: every object is
// decoded into a map of raw members, so that names can be matched
// exactly first and unmodelled members kept.
func parseLenient(body []byte) (Notification, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Notification{}, parseError("body", "must be a JSON object")
		}
		return Notification{}, parseError("body", jsonProblem(err))
	}
	if env == nil {
		return Notification{}, parseError("body", "must be a JSON object")
	}
	if err := checkEnvelopeKeys(body); err != nil {
		return Notification{}, err
	}
	var vals [len(envelopeMembers)]json.RawMessage
	extra, ambiguous := pickMembers(env, envelopeMembers[:], envelopeIndex, vals[:])
	if ambiguous[0] {
		return Notification{}, parseError("eventType", "spelled with different letter cases, none exact")
	}
	if vals[0] == nil {
		return Notification{}, parseError("eventType", "missing")
	}
	raw, ok := readString(vals[0])
	if !ok || vals[0][0] != '"' {
		return Notification{}, parseError("eventType", "must be a string")
	}
	if raw == "" {
		return Notification{}, parseError("eventType", "empty")
	}
	et := normalizeEventType(raw)
	switch {
	case et.IsStatus():
		ev := &StatusEvent{Type: et}
		if err := ev.read(vals[1]); err != nil {
			return Notification{}, err
		}
		return Notification{Kind: NotificationStatus, Status: ev, Extra: extra}, nil
	case et == EventFee:
		recs, err := feeRecords(vals[2], ambiguous[2])
		if err != nil {
			return Notification{}, err
		}
		return Notification{Kind: NotificationFee, Fees: recs, Extra: extra}, nil
	default:
		raw := make(json.RawMessage, len(body))
		copy(raw, body)
		return Notification{Kind: NotificationUnknown, Unknown: &UnknownEvent{Type: et, Raw: raw}}, nil
	}
}

// plainEnvelope is the envelope as parsePlain decodes it.
type plainEnvelope struct {
	EventType  *string     `json:"eventType"`
	StatusInfo *wireStatus `json:"statusInfo"`
	FeeLst     []*wireFee  `json:"feeLst"`
}

// parsePlain is ParseNotification's fast path, for the bodies the
// platform actually sends: no escapes, every member name exactly one the
// SDK models, every value of its documented type, records flat. It
// decodes with encoding/json into typed structs (a fifth of the
// allocations of parseLenient, and 2-3 times faster) and reports false
// whenever any of that does not hold, leaving the body to parseLenient,
// so both give the same result (the fuzz target checks it).
func parsePlain(body []byte) (Notification, bool) {
	if bytes.IndexByte(body, '\\') >= 0 {
		return Notification{}, false
	}
	var env plainEnvelope
	if json.Unmarshal(body, &env) != nil || env.EventType == nil || !plainKeys(body) {
		return Notification{}, false
	}
	if *env.EventType == "" {
		return Notification{}, false
	}
	et := normalizeEventType(*env.EventType)
	switch {
	case et.IsStatus():
		ev := &StatusEvent{Type: et}
		if w := env.StatusInfo; w != nil {
			ev.SessionID = w.SessionID
			ev.RawTimestamp = w.Timestamp
			ev.UserData = w.UserData
			ev.Caller = w.Caller
			ev.Called = w.Called
			ev.StateDesc = w.StateDesc
			ev.PartyType = PartyType(w.PartyType)
			ev.DigitInfo = w.DigitInfo
			ev.DisplayCallerNum = w.DisplayCallerNum
			if w.StateCode != nil {
				if int64(*w.StateCode) != int64(int32(*w.StateCode)) {
					return Notification{}, false // out of range: parseLenient keeps it raw
				}
				ev.StateCode, ev.HasStateCode = StateCode(*w.StateCode), true
			}
			ev.Timestamp, _ = parsePlatformTime(ev.RawTimestamp)
		}
		return Notification{Kind: NotificationStatus, Status: ev}, true
	case et == EventFee:
		if env.FeeLst == nil {
			return Notification{}, false
		}
		recs := make([]FeeRecord, 0, len(env.FeeLst))
		for _, w := range env.FeeLst {
			if w == nil {
				continue
			}
			recs = append(recs, FeeRecord{})
			if !recs[len(recs)-1].fromWire(w) {
				return Notification{}, false
			}
		}
		return Notification{Kind: NotificationFee, Fees: recs}, true
	default:
		return Notification{Kind: NotificationUnknown, Unknown: &UnknownEvent{Type: et, Raw: bytes.Clone(body)}}, true
	}
}

// Exact member names parsePlain accepts in the envelope (those of
// statusInfo and the records it finds with statusIndex and feeIndex).
var plainEnvelopeNames = exactSet(envelopeMembers[:])

func exactSet(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// plainKeys reports whether body, valid JSON without backslashes, is an
// envelope whose member names are all exactly ones the SDK models (each
// envelope member once), whose statusInfo and records are flat objects,
// and whose feeLst holds only records (or nulls).
func plainKeys(body []byte) bool {
	const (
		inEnvelope = iota + 1
		inStatus
		inFeeList
		inRecord
	)
	var stack [4]int
	depth := 0
	expectKey := false
	var lastKey []byte
	var seen [len(envelopeMembers)]bool
	var seenInObject uint64 // the modelled members seen in the current statusInfo or record, by position
	for i := 0; i < len(body); i++ {
		top := 0
		if depth > 0 {
			top = stack[depth-1]
		}
		switch body[i] {
		case '"':
			j := bytes.IndexByte(body[i+1:], '"')
			if j < 0 {
				return false
			}
			str := body[i+1 : i+1+j]
			i += j + 1
			if !expectKey {
				continue
			}
			expectKey = false
			lastKey = str
			switch top {
			case inEnvelope:
				if !plainEnvelopeNames[string(str)] {
					return false
				}
				for k, m := range envelopeMembers {
					if string(str) == m {
						if seen[k] {
							return false
						}
						seen[k] = true
					}
				}
			case inStatus, inRecord:
				names, index := statusMembers[:], statusIndex
				if top == inRecord {
					names, index = feeNames, feeIndex
				}
				k, ok := index[string(str)]
				if !ok || names[k] != string(str) || seenInObject&(1<<k) != 0 {
					return false // not a modelled name, or repeated: parseLenient decides
				}
				seenInObject |= 1 << k
			}
		case '{':
			switch {
			case depth == 0:
				stack[0] = inEnvelope
			case top == inEnvelope && string(lastKey) == "statusInfo":
				stack[depth] = inStatus
				seenInObject = 0
			case top == inFeeList:
				stack[depth] = inRecord
				seenInObject = 0
			default:
				return false
			}
			depth++
			expectKey = true
		case '[':
			if top != inEnvelope || string(lastKey) != "feeLst" {
				return false
			}
			stack[depth] = inFeeList
			depth++
		case '}', ']':
			depth--
		case ',':
			expectKey = top != inFeeList
		}
	}
	return depth == 0
}

// normalizeEventType returns the constant that s spells without regard
// to case, or s.
func normalizeEventType(s string) EventType {
	for _, t := range [...]EventType{EventCallout, EventAlerting, EventAnswer, EventCollectInfo, EventDisconnect, EventFee} {
		if strings.EqualFold(s, string(t)) {
			return t
		}
	}
	return EventType(s)
}

func parseError(field, problem string) *ValidationError {
	return newValidationError(parseOp, FieldError{Field: field, Problem: problem})
}

// jsonProblem describes a JSON syntax error without quoting the input
// (encoding/json names at most one offending character).
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return "invalid JSON at offset " + strconv.FormatInt(syn.Offset, 10) + ": " + redact.Text(syn.Error(), 80)
	}
	return "invalid JSON"
}

// pickMembers finds, for each name of names, its member in m: the exact
// name, else the one member whose name equals it without regard to case
// (ambiguous[i] is set when there are several, and vals[i] left nil).
// It returns the members it did not pick (nil when none). index maps the
// lower-case names to their position.
func pickMembers(m map[string]json.RawMessage, names []string, index map[string]int, vals []json.RawMessage) (extra map[string]json.RawMessage, ambiguous []bool) {
	ambiguous = make([]bool, len(names))
	exact := 0
	for i, n := range names {
		if v, ok := m[n]; ok {
			vals[i] = v
			exact++
		}
	}
	if exact == len(m) {
		return nil, ambiguous
	}
	var folded []string // names picked case-insensitively
	for k, v := range m {
		if i, ok := index[k]; ok && names[i] == k {
			continue // exact
		}
		i, ok := index[strings.ToLower(k)]
		if !ok || m[names[i]] != nil {
			if extra == nil {
				extra = map[string]json.RawMessage{}
			}
			extra[k] = v
			continue
		}
		if vals[i] != nil || ambiguous[i] {
			ambiguous[i] = true
			vals[i] = nil
		} else {
			vals[i] = v
		}
		folded = append(folded, k)
	}
	for _, k := range folded {
		if i := index[strings.ToLower(k)]; ambiguous[i] {
			if extra == nil {
				extra = map[string]json.RawMessage{}
			}
			extra[k] = m[k]
		}
	}
	return extra, ambiguous
}

// lowerIndex maps the lower-case form of each name to its position.
func lowerIndex(names []string) map[string]int {
	out := make(map[string]int, 2*len(names))
	for i, n := range names {
		out[strings.ToLower(n)] = i
		out[n] = i
	}
	return out
}

// isNull reports whether raw is the JSON null.
func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// readString reads a JSON string, or a number as its literal text. null
// reads as "". It reports false for other values.
func readString(raw json.RawMessage) (string, bool) {
	switch {
	case len(raw) > 1 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0:
		return string(raw[1 : len(raw)-1]), true
	case len(raw) > 0 && raw[0] == '"':
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", false
		}
		return v, true
	case len(raw) > 0 && (raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9'):
		return string(raw), true
	case isNull(raw):
		return "", true
	}
	return "", false
}

// readInt reads an integer: a JSON number with an integral value, or a
// string holding one (surrounding spaces allowed). null reads as 0 and
// not present. It reports ok false for anything else, or a value outside
// the int32 range.
func readInt(raw json.RawMessage) (v int, present, ok bool) {
	if isNull(raw) {
		return 0, false, true
	}
	s := raw
	if len(s) > 1 && s[0] == '"' && s[len(s)-1] == '"' {
		s = bytes.TrimSpace(s[1 : len(s)-1])
	}
	if len(s) == 0 || len(s) > 32 {
		return 0, false, false
	}
	if n, err := strconv.ParseInt(string(s), 10, 32); err == nil {
		return int(n), true, true
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || f != float64(int64(f)) || f < -(1<<31) || f > 1<<31-1 {
		return 0, false, false
	}
	return int(f), true, true
}

// keepRaw adds a member the SDK could not read to extra.
func keepRaw(extra *map[string]json.RawMessage, name string, raw json.RawMessage) {
	if *extra == nil {
		*extra = map[string]json.RawMessage{}
	}
	(*extra)[name] = raw
}

// statusMembers are the statusInfo members the SDK models, in the order
// of statusIndex.
var statusMembers = [...]string{"timestamp", "userData", "sessionId", "caller", "called", "stateCode", "stateDesc", "partyType", "digitInfo", "displayCallerNum"}

var (
	statusIndex   = lowerIndex(statusMembers[:])
	envelopeIndex = lowerIndex(envelopeMembers[:])
)

// read fills ev from the raw statusInfo member (nil when absent). A
// statusInfo that is not an object is kept in ev.Extra["statusInfo"].
func (ev *StatusEvent) read(raw json.RawMessage) error {
	if raw == nil || isNull(raw) {
		return nil
	}
	var m map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		keepRaw(&ev.Extra, "statusInfo", raw)
		return nil
	}
	if err := checkRepeated(m, countMembers(raw, 1), raw, "statusInfo", statusMembers[:], statusIndex); err != nil {
		return err
	}
	var vals [len(statusMembers)]json.RawMessage
	ev.Extra, _ = pickMembers(m, statusMembers[:], statusIndex, vals[:])
	strs := [...]*string{&ev.RawTimestamp, &ev.UserData, &ev.SessionID, &ev.Caller, &ev.Called, nil, &ev.StateDesc, (*string)(&ev.PartyType), &ev.DigitInfo, &ev.DisplayCallerNum}
	for i, v := range vals {
		if v == nil {
			continue
		}
		if strs[i] == nil { // stateCode
			n, present, ok := readInt(v)
			if !ok {
				keepRaw(&ev.Extra, statusMembers[i], v)
				continue
			}
			ev.StateCode, ev.HasStateCode = StateCode(n), present
			continue
		}
		str, ok := readString(v)
		if !ok {
			keepRaw(&ev.Extra, statusMembers[i], v)
			continue
		}
		*strs[i] = str
	}
	ev.Timestamp, _ = parsePlatformTime(ev.RawTimestamp)
	return nil
}

// envelopeMembers are the envelope members the SDK reads.
var envelopeMembers = [...]string{"eventType", "statusInfo", "feeLst"}

// checkEnvelopeKeys rejects a body whose top-level object holds one of
// envelopeMembers more than once under exactly its name (after
// unescaping): encoding/json would silently keep the last. Other
// repeated members of the envelope are harmless and let through (inside
// statusInfo and the records, checkRepeated refuses them all).
// It runs on a body that encoding/json has already accepted as valid
// JSON.
func checkEnvelopeKeys(body []byte) error {
	var count [len(envelopeMembers)]int
	var err error
	walkMemberNames(body, 1, func(name []byte) bool {
		for k, m := range envelopeMembers {
			if string(name) == m {
				if count[k]++; count[k] > 1 {
					err = parseError(m, "appears more than once")
					return false
				}
			}
		}
		return true
	})
	return err
}

// Repeated members inside statusInfo or a record are refused: two
// members under the same name (encoding/json would keep the last
// silently) or under names equal without regard to letter case (the
// parser reads a member under any case). The platform never sends one; a
// forger might, to show a checker one value and the application another.
// The error names the member: its modelled spelling, or for a member the
// SDK does not model one of its spellings, sanitised.

// repeatedProblem is the problem of a repeated member's error.
const repeatedProblem = "appears more than once (member names are compared without regard to letter case)"

// checkRepeated checks one object: m is its decoded members, n the number
// of members its text holds (more than len(m) when a name is repeated
// exactly), obj its text, path its name in errors.
func checkRepeated(m map[string]json.RawMessage, n int, obj []byte, path string, names []string, index map[string]int) error {
	if n > len(m) {
		if name := exactRepeated(obj); name != "" {
			return parseError(path+"."+memberField(name, names, index), repeatedProblem)
		}
	}
	if name := caseRepeated(m, names, index); name != "" {
		return parseError(path+"."+memberField(name, names, index), repeatedProblem)
	}
	return nil
}

// memberField is how an error names the member name: its modelled
// spelling, or the name sanitised.
func memberField(name string, names []string, index map[string]int) string {
	if i, ok := index[strings.ToLower(name)]; ok {
		return names[i]
	}
	return redact.Text(name, 64)
}

// exactRepeated returns a member name that the object obj holds twice
// exactly (after unescaping), or "". Only called once a count showed
// one.
func exactRepeated(obj []byte) string {
	seen := map[string]bool{}
	repeated := ""
	walkMemberNames(obj, 1, func(name []byte) bool {
		if seen[string(name)] {
			repeated = string(name)
			return false
		}
		seen[string(name)] = true
		return true
	})
	return repeated
}

// caseRepeated returns a name of m that equals another of m's names
// without regard to letter case (the smallest such name, so that the
// answer does not depend on map order), or "". Names spelled exactly as
// modelled cost nothing.
func caseRepeated(m map[string]json.RawMessage, names []string, index map[string]int) string {
	var others map[string]string // lower-case form -> smallest spelling, of the names not modelled exactly
	found := ""
	report := func(k string) {
		if found == "" || k < found {
			found = k
		}
	}
	for k := range m {
		if i, ok := index[k]; ok && names[i] == k {
			continue
		}
		lower := strings.ToLower(k)
		if i, ok := index[lower]; ok {
			if _, exact := m[names[i]]; exact {
				report(names[i])
				continue
			}
		}
		if other, ok := others[lower]; ok {
			report(min(k, other))
			others[lower] = min(k, other)
			continue
		}
		if others == nil {
			others = map[string]string{}
		}
		others[lower] = k
	}
	return found
}

// countMembers returns how many member names the objects at nesting
// level of body (1: body itself, 2: the objects of the array body) hold.
func countMembers(body []byte, level int) int {
	n := 0
	walkMemberNames(body, level, func([]byte) bool { n++; return true })
	return n
}

// walkMemberNames calls f with the name (unescaped) of each member of
// the objects at nesting level of body, valid JSON (1: body itself, an
// object; 2: the objects of body, an array of objects and nulls), in
// order, until f returns false. It only tracks strings and nesting; when
// body holds no backslash (no escapes: the usual case), values nested
// deeper are skipped bracket to bracket with vectorized byte searches.
func walkMemberNames(body []byte, level int, f func(name []byte) bool) {
	noEscapes := bytes.IndexByte(body, '\\') < 0
	depth := 0
	expectKey := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '"' {
			switch c {
			case '{', '[':
				if depth == level && noEscapes {
					i = skipContainer(body, i)
					continue
				}
				depth++
				expectKey = depth == level && c == '{'
			case '}', ']':
				depth--
			case ',':
				expectKey = depth == level
			}
			continue
		}
		start := i + 1
		end := stringEnd(body, start)
		i = end
		if depth != level || !expectKey {
			continue
		}
		expectKey = false
		name := body[start:end]
		if !noEscapes && bytes.IndexByte(name, '\\') >= 0 {
			var s string
			if json.Unmarshal(body[start-1:end+1], &s) == nil {
				name = []byte(s)
			}
		}
		if !f(name) {
			return
		}
	}
}

// stringEnd returns the index of the quote that closes the JSON string
// whose contents start at body[start] (len(body) if there is none).
func stringEnd(body []byte, start int) int {
	for end := start; ; end++ {
		k := bytes.IndexByte(body[end:], '"')
		if k < 0 {
			return len(body)
		}
		end += k
		bs := 0
		for m := end - 1; m >= start && body[m] == '\\'; m-- {
			bs++
		}
		if bs%2 == 0 {
			return end
		}
	}
}

// skipContainer returns the index of the bracket that closes the array
// or object opening at body[i], in a valid JSON text without
// backslashes: every quote then delimits a string, so a bracket is
// structural exactly when an even number of quotes precede it.
func skipContainer(body []byte, i int) int {
	var next [4]int // next position of '{', '}', '[', ']' at or after pos; -1: none
	chars := [4]byte{'{', '}', '[', ']'}
	for k := range next {
		next[k] = -2 // not searched yet
	}
	depth := 0
	inString := false
	prev := i // quotes before prev are accounted for in inString
	pos := i
	for {
		j, kind := -1, -1
		for k := range next {
			if next[k] == -2 || (next[k] >= 0 && next[k] < pos) {
				if x := bytes.IndexByte(body[pos:], chars[k]); x >= 0 {
					next[k] = pos + x
				} else {
					next[k] = -1
				}
			}
			if next[k] >= 0 && (j < 0 || next[k] < j) {
				j, kind = next[k], k
			}
		}
		if j < 0 {
			return len(body) - 1 // cannot happen in valid JSON
		}
		if bytes.Count(body[prev:j], []byte{'"'})%2 == 1 {
			inString = !inString
		}
		prev, pos = j, j+1
		if inString {
			continue
		}
		if kind%2 == 0 {
			depth++
		} else if depth--; depth == 0 {
			return j
		}
	}
}

// platformTimeLayout is how the platform writes times in notifications,
// in UTC.
const platformTimeLayout = "2006-01-02 15:04:05"

// parsePlatformTime reads a notification time: "yyyy-MM-dd HH:mm:ss" in
// UTC, with one or more spaces or a "T" between date and time and an
// optional trailing "Z", or a Unix time in seconds (1-11 digits) or
// milliseconds (12-13 digits). Surrounding spaces are ignored. It reports
// false, with the zero time, for anything else, including "".
func parsePlatformTime(s string) (time.Time, bool) {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	if len(s) == 0 {
		return time.Time{}, false
	}
	if len(s) <= 13 && allDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		if len(s) >= 12 {
			return time.UnixMilli(n).UTC(), true
		}
		return time.Unix(n, 0).UTC(), true
	}
	// yyyy-MM-dd
	if len(s) < 19 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	rest := s[10:]
	if rest[0] == 'T' {
		rest = rest[1:]
	} else {
		n := 0
		for n < len(rest) && rest[n] == ' ' {
			n++
		}
		if n == 0 {
			return time.Time{}, false
		}
		rest = rest[n:]
	}
	if len(rest) == 9 && rest[8] == 'Z' {
		rest = rest[:8]
	}
	if len(rest) != 8 || rest[2] != ':' || rest[5] != ':' {
		return time.Time{}, false
	}
	hour, ok4 := digits(rest[0:2])
	minute, ok5 := digits(rest[3:5])
	sec, ok6 := digits(rest[6:8])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// formatPlatformTime is the inverse of parsePlatformTime for marshalling:
// raw when set, else t in platformTimeLayout (UTC), else "".
func formatPlatformTime(raw string, t time.Time) string {
	if raw != "" {
		return raw
	}
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(platformTimeLayout)
}

// MarshalJSON returns the notification in the platform's wire format, the
// inverse of [ParseNotification]: times are written as their raw text
// when it is set, else in "yyyy-MM-dd HH:mm:ss" UTC; Extra members are
// written after the modelled ones (an Extra member named like a modelled
// one replaces it); an unknown event is written as its Raw body. It
// fails for a status event of a non-status type or without Status, an
// unknown event without a valid JSON body, and a statusInfo or record
// whose Extra holds a member named like a modelled one, or like another
// Extra member, in another letter case (the parser refuses such a
// record). Test servers
// can use it to push notifications.
func (n Notification) MarshalJSON() ([]byte, error) {
	const op = "marshal notification"
	switch n.Kind {
	case NotificationStatus:
		ev := n.Status
		switch {
		case ev == nil:
			return nil, newValidationError(op, FieldError{Field: "statusInfo", Problem: "missing"})
		case !ev.Type.IsStatus():
			return nil, newValidationError(op, FieldError{Field: "eventType", Problem: "not a status event type"})
		}
		w := wireStatus{
			Timestamp:        formatPlatformTime(ev.RawTimestamp, ev.Timestamp),
			UserData:         ev.UserData,
			SessionID:        ev.SessionID,
			Caller:           ev.Caller,
			Called:           ev.Called,
			StateDesc:        ev.StateDesc,
			PartyType:        string(ev.PartyType),
			DigitInfo:        ev.DigitInfo,
			DisplayCallerNum: ev.DisplayCallerNum,
		}
		if ev.HasStateCode {
			c := int(ev.StateCode)
			w.StateCode = &c
		}
		info, err := marshalWithExtra(w, ev.Extra, "statusInfo", statusMembers[:], statusIndex)
		if err != nil {
			return nil, err
		}
		return marshalWithExtra(struct {
			EventType  string          `json:"eventType"`
			StatusInfo json.RawMessage `json:"statusInfo"`
		}{string(ev.Type), info}, n.Extra, "", nil, nil)
	case NotificationFee:
		recs := make([]json.RawMessage, len(n.Fees))
		for i := range n.Fees {
			b, err := marshalWithExtra(n.Fees[i].wire(), n.Fees[i].Extra, "feeLst["+strconv.Itoa(i)+"]", feeNames, feeIndex)
			if err != nil {
				return nil, err
			}
			recs[i] = b
		}
		return marshalWithExtra(struct {
			EventType string            `json:"eventType"`
			FeeLst    []json.RawMessage `json:"feeLst"`
		}{string(EventFee), recs}, n.Extra, "", nil, nil)
	case NotificationUnknown:
		if n.Unknown == nil || !json.Valid(n.Unknown.Raw) {
			return nil, newValidationError(op, FieldError{Field: "body", Problem: "unknown event without a valid JSON body"})
		}
		return append([]byte(nil), n.Unknown.Raw...), nil
	}
	return nil, newValidationError(op, FieldError{Field: "kind", Problem: "not a notification kind"})
}

// marshalWithExtra marshals v, a struct, to a JSON object and merges the
// extra members in (name order; an extra member replaces a modelled one
// of the same name). For a record (statusInfo or a fee record: path is
// its name in errors, names and index its modelled members), an extra
// member named like a modelled one or another extra member in another
// letter case is an error.
func marshalWithExtra(v any, extra map[string]json.RawMessage, path string, names []string, index map[string]int) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	if path != "" {
		m := make(map[string]json.RawMessage, len(names)+len(extra))
		for _, n := range names {
			m[n] = nil
		}
		for k, raw := range extra {
			m[k] = raw
		}
		if name := caseRepeated(m, names, index); name != "" {
			return nil, newValidationError("marshal notification", FieldError{Field: path + "." + memberField(name, names, index),
				Problem: "extra member named like another in another letter case (the parser refuses such a record)"})
		}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, raw := range extra {
		if !json.Valid(raw) {
			return nil, newValidationError("marshal notification", FieldError{Field: redact.Text(k, 64), Problem: "extra member is not valid JSON"})
		}
		m[k] = raw
	}
	return json.Marshal(m) // encoding/json writes map keys sorted
}

// wireStatus is statusInfo as written by MarshalJSON.
type wireStatus struct {
	Timestamp        string `json:"timestamp,omitempty"`
	UserData         string `json:"userData,omitempty"`
	SessionID        string `json:"sessionId,omitempty"`
	Caller           string `json:"caller,omitempty"`
	Called           string `json:"called,omitempty"`
	StateCode        *int   `json:"stateCode,omitempty"`
	StateDesc        string `json:"stateDesc,omitempty"`
	PartyType        string `json:"partyType,omitempty"`
	DigitInfo        string `json:"digitInfo,omitempty"`
	DisplayCallerNum string `json:"displayCallerNum,omitempty"`
}

// StateCode is the hang-up reason of a disconnect event (statusInfo.
// stateCode, "通话挂机原因值", from Huawei's table of hang-up reasons). Codes the SDK does not
// know are kept as they are; their Description is "".
type StateCode int

// Hang-up reasons documented by the platform. The comments give the
// platform's Chinese text.
const (
	StateHangUpAfterAnswer           StateCode = 0    // 接通后主动挂机
	StateDeveloperFrequencyLimit     StateCode = 7001 // 开发者呼叫频次管控
	StateAppFrequencyLimit           StateCode = 7002 // 应用呼叫频次管控
	StateDisplayNumberFrequencyLimit StateCode = 7003 // 显示号码呼叫频次管控
	StateCalleeBlacklisted           StateCode = 7004 // 被叫黑名单呼叫管控
	StateCallerBlacklisted           StateCode = 7005 // 主叫黑名单呼叫管控
	StateAppNotFound                 StateCode = 7100 // app信息不存在
	StateServiceTypeMismatch         StateCode = 7105 // 业务类型不匹配
	StatePrivateNumberNotEnabled     StateCode = 7106 // APP未申请个人小号能力
	StateSecurityToneFailed          StateCode = 7107 // 安全管控提示音放音失败
	StateUserFrozen                  StateCode = 7108 // 用户状态已冻结
	StateNoVoicePorts                StateCode = 7109 // 语音端口不足
	StateInternalError               StateCode = 8000 // 内部错误
	StateNotConnected                StateCode = 8001 // 用户未接续成功
	StateFarEndFailureTone           StateCode = 8002 // 接续用户时对端返回失败放音
	StateRingTimeout                 StateCode = 8003 // 用户振铃超时
	StateHangUpWhileRinging          StateCode = 8004 // 用户振铃时挂机
	StateTTSFailed                   StateCode = 8005 // TTS转换失败
	StateAudioFileMissing            StateCode = 8006 // 放音文件不存在
	StatePlaybackFailed              StateCode = 8007 // 给用户放音失败
	StateCollectFailed               StateCode = 8008 // 给用户放音收号失败
	StateCallerHangUpBeforeAnswer    StateCode = 8009 // 接通前主叫用户主动挂机
	StateMaxDurationReached          StateCode = 8010 // 超过通话最大时长挂机
	StateInvalidAppKey               StateCode = 8012 // 无效的app_key
	StateInvalidPrivateNumberCall    StateCode = 8013 // 无效的个人小号呼叫 (older tables)
	StateInvalidRelationNumberCall   StateCode = 8014 // 无效的关系小号呼叫 (older tables)
	StateRecordingFailed             StateCode = 8015 // 给用户录音失败
	StateRelationDirectionNotAllowed StateCode = 8016 // 关系小号呼叫方向不允许 (older tables)
	StateHangUpRequested             StateCode = 8017 // 用户指示挂机 (older: SP指示挂机)
	StateNoPermission                StateCode = 8018 // 业务无权限
	StateBindingNotFound             StateCode = 8019 // 绑定关系不存在 (older tables)
	StateServiceError                StateCode = 8020 // 业务异常
	StateInvalidExtension            StateCode = 8022 // 无效的分机号码 (older tables)
	StateCalleeNotExist              StateCode = 8100 // 被叫号码不存在
	StateCalleeNoAnswer              StateCode = 8101 // 被叫无应答
	StateCalleeBusy                  StateCode = 8102 // 被叫用户正忙
	StateCalleeUnreachable           StateCode = 8103 // 被叫用户暂时无法接通
	StateCalleePoweredOff            StateCode = 8104 // 被叫已关机
	StateCalleeHungUpOrSuspended     StateCode = 8105 // 被叫挂机或被叫已停机
	StateCallerNotExist              StateCode = 8106 // 主叫号码不存在
	StateCallerNoAnswer              StateCode = 8107 // 主叫无应答
	StateCallerBusy                  StateCode = 8108 // 主叫用户正忙
	StateCallerUnreachable           StateCode = 8109 // 主叫用户暂时无法接通
	StateCallerPoweredOff            StateCode = 8110 // 主叫已关机
	StateCallerHungUpOrSuspended     StateCode = 8111 // 主叫挂机或主叫已停机
)

var stateDescriptions = map[StateCode]string{
	StateHangUpAfterAnswer:           "hung up after the call was connected",
	StateDeveloperFrequencyLimit:     "developer call-frequency control",
	StateAppFrequencyLimit:           "app call-frequency control",
	StateDisplayNumberFrequencyLimit: "display-number call-frequency control",
	StateCalleeBlacklisted:           "callee blacklisted",
	StateCallerBlacklisted:           "caller blacklisted",
	StateAppNotFound:                 "app information not found",
	StateServiceTypeMismatch:         "service type mismatch",
	StatePrivateNumberNotEnabled:     "the app has not applied for the private-number capability",
	StateSecurityToneFailed:          "security-control announcement failed",
	StateUserFrozen:                  "account frozen",
	StateNoVoicePorts:                "not enough voice ports",
	StateInternalError:               "internal error",
	StateNotConnected:                "the user could not be connected (frequency control, line or carrier fault, or callee off, not answering or busy)",
	StateFarEndFailureTone:           "the far end returned a failure announcement",
	StateRingTimeout:                 "ring timeout",
	StateHangUpWhileRinging:          "hung up while ringing",
	StateTTSFailed:                   "text-to-speech conversion failed",
	StateAudioFileMissing:            "audio file not found",
	StatePlaybackFailed:              "playback to the user failed",
	StateCollectFailed:               "collecting key presses failed (keys must be pressed within 5 s)",
	StateCallerHangUpBeforeAnswer:    "the caller hung up before the call was connected",
	StateMaxDurationReached:          "maximum call duration reached",
	StateInvalidAppKey:               "invalid app_key",
	StateInvalidPrivateNumberCall:    "invalid private-number call",
	StateInvalidRelationNumberCall:   "invalid relation-number call",
	StateRecordingFailed:             "recording the user failed",
	StateRelationDirectionNotAllowed: "relation-number call direction not allowed",
	StateHangUpRequested:             "hang-up requested by the user or SP",
	StateNoPermission:                "no permission for the service",
	StateBindingNotFound:             "binding not found",
	StateServiceError:                "service error",
	StateInvalidExtension:            "invalid extension number",
	StateCalleeNotExist:              "callee number does not exist",
	StateCalleeNoAnswer:              "callee did not answer",
	StateCalleeBusy:                  "callee busy",
	StateCalleeUnreachable:           "callee temporarily unreachable",
	StateCalleePoweredOff:            "callee powered off (or flight mode, or no network)",
	StateCalleeHungUpOrSuspended:     "callee hung up, or the callee's line is suspended",
	StateCallerNotExist:              "caller number does not exist",
	StateCallerNoAnswer:              "caller did not answer",
	StateCallerBusy:                  "caller busy",
	StateCallerUnreachable:           "caller temporarily unreachable",
	StateCallerPoweredOff:            "caller powered off (or flight mode, or no network)",
	StateCallerHungUpOrSuspended:     "caller hung up, or the caller's line is suspended",
}

// Description returns an English description of the documented code, or
// "" for a code the SDK does not know.
func (c StateCode) Description() string { return stateDescriptions[c] }

// String returns the code with its description, e.g. "8101 (callee did
// not answer)", or the bare number for an unknown code.
func (c StateCode) String() string {
	if d := c.Description(); d != "" {
		return strconv.Itoa(int(c)) + " (" + d + ")"
	}
	return strconv.Itoa(int(c))
}
