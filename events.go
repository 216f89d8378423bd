package voicecall

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// EventType is the eventType of a notification. The platform sends the
// status event types below to the statusUrl and [EventFee] to the feeUrl;
// other values are kept verbatim in an [UnknownEvent].
type EventType string

// Event types documented by the platform (voicecall-api.md §5.3, §6.2).
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
// event types. Event types are matched exactly (the platform's field
// values are case-sensitive).
func (t EventType) IsStatus() bool {
	switch t {
	case EventCallout, EventAlerting, EventAnswer, EventCollectInfo, EventDisconnect:
		return true
	}
	return false
}

// StatusEvent is one call-status notification (呼叫状态通知), pushed in
// real time to the statusUrl. The platform pushes each event once and
// never again, even when the receiver fails (voicecall-api.md §5.4).
//
// Phone numbers are in global format, e.g. "+8613800000021"; they are
// personal data: mask them before logging (the SDK's own log lines keep
// only the last four digits).
type StatusEvent struct {
	// Type is the event type, one of the status types ([EventType.IsStatus]).
	Type EventType

	// SessionID (sessionId) identifies the call; it equals the sessionId
	// returned by CallVerify and the one in the call's CDR. Never empty.
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
	// in disconnect events of voice callback (click2Call) when the request
	// set PartyTypeInDisconnect. A JSON number is kept as its text.
	PartyType PartyType

	// DigitInfo (digitInfo) holds the keys the callee pressed
	// (collectInfo events of voice notification).
	DigitInfo string

	// DisplayCallerNum (displayCallerNum) is the number shown to the
	// callee, when the platform sends it.
	DisplayCallerNum string
}

// PartyType is the partyType of a voice callback's disconnect event: who
// hung up. Huawei's voice callback status page describes the field as
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
	// Fees are the CDRs of a fee batch (1-50, in body order) when Kind is
	// NotificationFee.
	Fees []FeeRecord
	// Unknown is the event when Kind is NotificationUnknown.
	Unknown *UnknownEvent
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

// MaxFeeRecords is the most CDRs one fee notification may carry
// ("每条消息最多携带50个话单").
const MaxFeeRecords = 50

const parseOp = "parse notification"

// ParseNotification parses the body of a notification the platform
// pushed. It is a pure function, safe for concurrent use; the result does
// not refer to body.
//
// The body must be valid UTF-8 and hold one JSON object (the envelope)
// whose "eventType" is a non-empty string. The envelope must not repeat
// "eventType", "statusInfo" or "feeLst" under any spelling encoding/json
// matches to them (escapes, letter case), because a repeated eventType
// could make two readers see two different events. Unknown members are
// ignored everywhere, repeated or not; inside statusInfo and the records,
// a repeated member keeps its last value, as encoding/json does.
//
//   - Status types ([EventType.IsStatus]) need a "statusInfo" object with
//     a non-empty "sessionId".
//   - "fee" needs a "feeLst" array of 1 to [MaxFeeRecords] records, each
//     with a non-empty "sessionId".
//   - Any other eventType gives a [NotificationUnknown] with a copy of the
//     body, whatever its other members hold.
//
// Numbers documented as integers must be JSON integers (stateCode may
// also be a string of digits). Times the SDK cannot read are not an
// error: the time.Time stays zero and the raw text is kept (see
// StatusEvent.Timestamp, FeeRecord.RawTimes), so that no event is lost
// over a format surprise.
//
// Errors are a *[ValidationError] with Op "parse notification" whose
// Fields name the member at fault with its path, e.g. "eventType",
// "statusInfo.sessionId", "feeLst[3].ulFailReason", or "body" when the
// body itself is not valid JSON or UTF-8. Error texts never include
// values.
func ParseNotification(body []byte) (Notification, error) {
	if !utf8.Valid(body) {
		return Notification{}, parseError("body", "not valid UTF-8")
	}
	var env wireEnvelope
	if bytes.Contains(body, []byte(`"feeLst"`)) {
		buf := getFeeBuffer()
		defer putFeeBuffer(buf)
		env.FeeLst = *buf
	}
	err := json.Unmarshal(body, &env)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
	case errors.As(err, &typeErr):
		// The body is valid JSON (syntax is checked before decoding) but
		// a member has the wrong type. Which member matters depends on the
		// event type; see below.
	default:
		return Notification{}, parseError("body", jsonProblem(err))
	}
	if typeErr != nil && typeErr.Field == "" {
		return Notification{}, parseError("body", "must be a JSON object")
	}
	if err := checkEnvelopeKeys(body); err != nil {
		return Notification{}, err
	}
	if typeErr != nil && typeErr.Field == "eventType" {
		return Notification{}, parseError("eventType", "must be a string")
	}
	if env.EventType == nil {
		return Notification{}, parseError("eventType", "missing")
	}
	et := EventType(*env.EventType)
	switch {
	case et == "":
		return Notification{}, parseError("eventType", "empty")
	case et.IsStatus():
		if typeErr != nil {
			if err := statusTypeError(body); err != nil {
				return Notification{}, err
			}
		}
		ev, err := env.StatusInfo.event(et)
		if err != nil {
			return Notification{}, err
		}
		return Notification{Kind: NotificationStatus, Status: ev}, nil
	case et == EventFee:
		if typeErr != nil {
			if err := feeTypeError(body); err != nil {
				return Notification{}, err
			}
		}
		recs, err := feeRecords(env.FeeLst)
		if err != nil {
			return Notification{}, err
		}
		return Notification{Kind: NotificationFee, Fees: recs}, nil
	default:
		raw := make(json.RawMessage, len(body))
		copy(raw, body)
		return Notification{Kind: NotificationUnknown, Unknown: &UnknownEvent{Type: et, Raw: raw}}, nil
	}
}

func parseError(field, problem string) *ValidationError {
	return newValidationError(parseOp, FieldError{Field: field, Problem: problem})
}

// jsonProblem describes a JSON syntax error without quoting the input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return "invalid JSON at offset " + strconv.FormatInt(syn.Offset, 10) + ": " + syn.Error()
	}
	return "invalid JSON: " + err.Error()
}

// typeProblem describes a JSON type mismatch.
func typeProblem(e *json.UnmarshalTypeError) string {
	return "JSON " + e.Value + " where " + kindName(e.Type.Kind().String()) + " expected"
}

func kindName(k string) string {
	switch k {
	case "int", "int64":
		return "an integer"
	case "string":
		return "a string"
	case "struct":
		return "an object"
	case "slice":
		return "an array"
	}
	return k
}

// wireEnvelope is the body of every notification. EventType is a pointer
// to tell a missing member from an empty one.
type wireEnvelope struct {
	EventType  *string     `json:"eventType"`
	StatusInfo *wireStatus `json:"statusInfo"`
	FeeLst     []wireFee   `json:"feeLst"`
}

// feeBuffers holds empty feeLst decode buffers with room for a whole
// batch. encoding/json appends the records of an array one by one, so
// decoding into a nil slice grows it seven times for 50 records (about
// 60 KB of copies and garbage, twice the records' own size); decoding
// into a pooled buffer does not. ParseNotification takes one when the
// body names "feeLst" (a spelling it does not catch only misses the
// saving) and copies the records out into the FeeRecords it returns, so
// nothing refers to a buffer once it is back in the pool. The pool holds
// no state anyone can observe.
var feeBuffers = sync.Pool{New: func() any {
	b := make([]wireFee, 0, MaxFeeRecords)
	return &b
}}

func getFeeBuffer() *[]wireFee { return feeBuffers.Get().(*[]wireFee) }

// putFeeBuffer zeroes the buffer's whole array, because encoding/json
// decodes into the elements it finds and a longer batch may have been
// decoded into it before it was replaced by a larger one, and returns it
// to the pool.
func putFeeBuffer(b *[]wireFee) {
	clear((*b)[:cap(*b)])
	feeBuffers.Put(b)
}

// wireStatus is statusInfo as sent.
type wireStatus struct {
	Timestamp        flexString `json:"timestamp,omitempty"`
	UserData         string     `json:"userData,omitempty"`
	SessionID        string     `json:"sessionId"`
	Caller           string     `json:"caller,omitempty"`
	Called           string     `json:"called,omitempty"`
	StateCode        *flexInt   `json:"stateCode,omitempty"`
	StateDesc        string     `json:"stateDesc,omitempty"`
	PartyType        flexString `json:"partyType,omitempty"`
	DigitInfo        string     `json:"digitInfo,omitempty"`
	DisplayCallerNum string     `json:"displayCallerNum,omitempty"`
}

func (w *wireStatus) event(et EventType) (*StatusEvent, error) {
	if w == nil {
		return nil, parseError("statusInfo", "missing")
	}
	if w.SessionID == "" {
		return nil, parseError("statusInfo.sessionId", "missing")
	}
	ev := &StatusEvent{
		Type:             et,
		SessionID:        w.SessionID,
		RawTimestamp:     string(w.Timestamp),
		UserData:         w.UserData,
		Caller:           w.Caller,
		Called:           w.Called,
		StateDesc:        w.StateDesc,
		PartyType:        PartyType(w.PartyType),
		DigitInfo:        w.DigitInfo,
		DisplayCallerNum: w.DisplayCallerNum,
	}
	ev.Timestamp, _ = parsePlatformTime(ev.RawTimestamp)
	if w.StateCode != nil {
		ev.StateCode, ev.HasStateCode = StateCode(*w.StateCode), true
	}
	return ev, nil
}

// statusTypeError re-decodes statusInfo alone to report its first type
// error; mismatches elsewhere in the envelope do not matter for a status
// event.
func statusTypeError(body []byte) error {
	var env struct {
		StatusInfo *wireStatus `json:"statusInfo"`
	}
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(body, &env); errors.As(err, &typeErr) {
		return parseError(typeErr.Field, typeProblem(typeErr))
	}
	return nil
}

// flexString is a string member that some senders may write as a number;
// it keeps the literal text. null leaves it empty.
type flexString string

// UnmarshalJSON accepts a string, a number (kept as its text) or null.
func (s *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 1 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0:
		*s = flexString(b[1 : len(b)-1])
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		*s = flexString(b)
	case string(b) == "null":
	default:
		return &json.UnmarshalTypeError{Value: jsonValueKind(b), Type: stringType}
	}
	return nil
}

// flexInt is an integer member that may also come as a string of digits.
type flexInt int

// UnmarshalJSON accepts an integer or a string holding one.
func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := b
	if len(s) > 1 && s[0] == '"' && s[len(s)-1] == '"' {
		s = bytes.TrimSpace(s[1 : len(s)-1])
	}
	v, err := strconv.ParseInt(string(s), 10, 32)
	if err != nil {
		return &json.UnmarshalTypeError{Value: jsonValueKind(b), Type: intType}
	}
	*n = flexInt(v)
	return nil
}

// MarshalJSON writes the integer as a JSON number.
func (n flexInt) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(n), 10), nil
}

var (
	stringType = reflect.TypeFor[string]()
	intType    = reflect.TypeFor[int]()
)

func jsonValueKind(b []byte) string {
	if len(b) == 0 {
		return "value"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// envelopeMembers are the envelope members the SDK reads.
var envelopeMembers = [...]string{"eventType", "statusInfo", "feeLst"}

// checkEnvelopeKeys rejects a body whose top-level object holds one of
// envelopeMembers more than once, under any spelling encoding/json maps
// to it (escapes, letter case). Repeated members the SDK ignores are
// harmless and let through. It runs on a body that encoding/json has
// already accepted as valid JSON, so it only tracks strings and nesting.
// When the body holds no backslash (no escapes: the usual case), nested
// values are skipped bracket to bracket with vectorized byte searches.
func checkEnvelopeKeys(body []byte) error {
	var count [len(envelopeMembers)]int
	noEscapes := bytes.IndexByte(body, '\\') < 0
	depth := 0
	expectKey := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '"' {
			switch c {
			case '{', '[':
				if depth == 1 && noEscapes {
					i = skipContainer(body, i)
					continue
				}
				depth++
				expectKey = depth == 1 && c == '{'
			case '}', ']':
				depth--
			case ',':
				expectKey = depth == 1
			}
			continue
		}
		start := i + 1
		end := stringEnd(body, start)
		i = end
		if depth != 1 || !expectKey {
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
		for k, m := range envelopeMembers {
			if bytes.EqualFold(name, []byte(m)) {
				if count[k]++; count[k] > 1 {
					return parseError(m, "appears more than once")
				}
			}
		}
	}
	return nil
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
// when it is set, else in "yyyy-MM-dd HH:mm:ss" UTC; an unknown event is
// written as its Raw body. It fails when ParseNotification would reject
// the result (a status event without SessionID or of a non-status type,
// a batch without 1-50 records or with a record without SessionID).
// Test servers can use it to push notifications.
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
		case ev.SessionID == "":
			return nil, newValidationError(op, FieldError{Field: "statusInfo.sessionId", Problem: "missing"})
		}
		w := wireStatus{
			Timestamp:        flexString(formatPlatformTime(ev.RawTimestamp, ev.Timestamp)),
			UserData:         ev.UserData,
			SessionID:        ev.SessionID,
			Caller:           ev.Caller,
			Called:           ev.Called,
			StateDesc:        ev.StateDesc,
			PartyType:        flexString(ev.PartyType),
			DigitInfo:        ev.DigitInfo,
			DisplayCallerNum: ev.DisplayCallerNum,
		}
		if ev.HasStateCode {
			c := flexInt(ev.StateCode)
			w.StateCode = &c
		}
		et := string(ev.Type)
		return json.Marshal(struct {
			EventType  *string     `json:"eventType"`
			StatusInfo *wireStatus `json:"statusInfo"`
		}{&et, &w})
	case NotificationFee:
		if len(n.Fees) == 0 || len(n.Fees) > MaxFeeRecords {
			return nil, newValidationError(op, FieldError{Field: "feeLst", Problem: "must hold 1-50 records"})
		}
		recs := make([]wireFee, len(n.Fees))
		for i := range n.Fees {
			if n.Fees[i].SessionID == "" {
				return nil, newValidationError(op, FieldError{Field: "feeLst[" + strconv.Itoa(i) + "].sessionId", Problem: "missing"})
			}
			recs[i] = n.Fees[i].wire()
		}
		et := string(EventFee)
		return json.Marshal(struct {
			EventType *string   `json:"eventType"`
			FeeLst    []wireFee `json:"feeLst"`
		}{&et, recs})
	case NotificationUnknown:
		if n.Unknown == nil || !json.Valid(n.Unknown.Raw) {
			return nil, newValidationError(op, FieldError{Field: "body", Problem: "unknown event without a valid JSON body"})
		}
		return append([]byte(nil), n.Unknown.Raw...), nil
	}
	return nil, newValidationError(op, FieldError{Field: "kind", Problem: "not a notification kind"})
}

// StateCode is the hang-up reason of a disconnect event (statusInfo.
// stateCode, "通话挂机原因值", voicecall-api.md §7.1). Codes the SDK does not
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
