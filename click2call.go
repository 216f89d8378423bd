package voicecall

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/voicecall-go/voicecall/internal/redact"
)

// click2CallPath is the URI of the click-to-call API,
// appended to the client's base URL.
const click2CallPath = "/rest/httpsessions/click2Call/v2.0"

// maxCallDuration is the largest [Click2CallRequest.MaxDuration], in
// minutes (24 hours).
const maxCallDuration = 1440

// LastMinuteTarget says who hears the last-minute prompt of a voice
// callback with a MaxDuration (lastMinToUE).
type LastMinuteTarget string

// Last-minute prompt targets.
const (
	LastMinuteToCaller LastMinuteTarget = "toa"  // the caller (A) only
	LastMinuteToCallee LastMinuteTarget = "tob"  // the callee (B) only
	LastMinuteToBoth   LastMinuteTarget = "both" // both (the platform's default)
)

// CalleeMedia says what the caller (A) hears while the callee (B) is
// being called (calleeMedia).
type CalleeMedia string

// Callee media modes.
const (
	// CalleeMediaAll passes B's media (ringback tone, announcements) to A:
	// the platform's default.
	CalleeMediaAll CalleeMedia = "all"
	// CalleeMediaNone keeps playing WaitVoice to A until B answers.
	CalleeMediaNone CalleeMedia = "none"
	// CalleeMediaFail passes only B's failure announcements to A.
	CalleeMediaFail CalleeMedia = "fail"
)

// Click2CallRequest asks the platform for a click-to-call: it calls
// CallerNumber (A) first and, once A answers, CalleeNumber (B), and
// bridges them. Both legs share one session id; the status events of both
// legs go to StatusURL and one CDR (serviceType "002") carries A's leg in
// its callOut* fields and B's in its fwd* fields.
//
// The SDK validates every field before sending and reports every problem
// in one [*ValidationError].
type Click2CallRequest struct {
	// DisplayNumber (displayNbr, required) is the fixed-line number shown
	// to A, as on the console's number page; 4-31 characters.
	DisplayNumber string

	// CallerNumber (callerNbr, required) is A, called first: "+" and
	// digits, 4-31 characters (mobile "+{country}{mobile}", fixed line
	// "+{country}{area code without 0}{number}").
	CallerNumber string

	// DisplayCalleeNumber (displayCalleeNbr, required) is the fixed-line
	// number shown to B; it may equal DisplayNumber.
	DisplayCalleeNumber string

	// CalleeNumber (calleeNbr, required) is B, called once A answered.
	CalleeNumber string

	// MaxDuration (maxDuration) is the longest call, in minutes, counted
	// from B's answer: 0 (the default) means no limit; 1-1440 makes the
	// platform hang up at the limit (stateCode 8010).
	MaxDuration int

	// LastMinuteVoice (lastMinVoice) is an approved audio file played one
	// minute before MaxDuration ends (default: the platform's "本次通话时长还
	// 剩1分钟"); only with MaxDuration.
	LastMinuteVoice string

	// LastMinuteTo (lastMinToUE) says who hears it; "" leaves the
	// platform's default ([LastMinuteToBoth]); only with MaxDuration.
	LastMinuteTo LastMinuteTarget

	// PlayPreVoice (playPreVoice) plays PreVoice to A after A answered and
	// before B is called. Sent as "true" or "false".
	PlayPreVoice bool

	// PreVoice (preVoice) is that prompt's audio file; only with
	// PlayPreVoice.
	PreVoice string

	// WaitVoice (waitVoice) is the audio file A hears while waiting.
	WaitVoice string

	// CalleeMedia (calleeMedia) says what A hears while B is called; ""
	// leaves the platform's default ([CalleeMediaAll]).
	CalleeMedia CalleeMedia

	// StatusURL and FeeURL (statusUrl, feeUrl) are given in plain form;
	// the SDK Base64-encodes them (at most 128 characters encoded). Empty
	// means the URLs configured on the console.
	StatusURL string
	FeeURL    string

	// Record (recordFlag) records the call; the app must have recording
	// enabled. The recording is in the CDR (see [Client.RecordingURLOf]).
	// Sent as "true" or "false".
	Record bool

	// RecordHintTone (recordHintTone) is the audio file that announces the
	// recording; only with Record.
	RecordHintTone string

	// PartyTypeInDisconnect (partyTypeRequiredInDisconnect) makes the
	// disconnect event carry the type of the party that hung up
	// ([StatusEvent.PartyType]). Sent as "true" or "false".
	PartyTypeInDisconnect bool

	// ReturnIdlePort (returnIdlePort) asks for the platform's idle call
	// ports in the response. Sent as "true" or "false".
	ReturnIdlePort bool

	// UserData (userData, optional) is echoed in the notifications; the
	// rules are those of [CallNotifyRequest.UserData]. When empty the SDK
	// sets a correlation token.
	UserData string
}

// LogValue implements [slog.LogValuer]: numbers are masked to their last
// four digits.
func (r *Click2CallRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("displayNbr", redact.Phone(r.DisplayNumber)),
		slog.String("callerNbr", redact.Phone(r.CallerNumber)),
		slog.String("displayCalleeNbr", redact.Phone(r.DisplayCalleeNumber)),
		slog.String("calleeNbr", redact.Phone(r.CalleeNumber)),
		slog.String("userData", redact.Text(r.UserData, MaxUserDataLen)),
	)
}

// Validate checks every field and returns a [*ValidationError] listing all
// problems, or nil. Click2Call calls it before sending anything.
func (r *Click2CallRequest) Validate() error {
	var fs fieldErrors
	fs.add("displayNbr", numberProblem(r.DisplayNumber, true))
	fs.add("callerNbr", numberProblem(r.CallerNumber, true))
	fs.add("displayCalleeNbr", numberProblem(r.DisplayCalleeNumber, true))
	fs.add("calleeNbr", numberProblem(r.CalleeNumber, true))
	if r.MaxDuration < 0 || r.MaxDuration > maxCallDuration {
		fs.add("maxDuration", "must be 0-1440 minutes (0: no limit)")
	}
	fs.add("lastMinVoice", toneProblem(r.LastMinuteVoice, false))
	if r.MaxDuration == 0 && r.LastMinuteVoice != "" {
		fs.add("lastMinVoice", "needs MaxDuration")
	}
	switch r.LastMinuteTo {
	case "", LastMinuteToCaller, LastMinuteToCallee, LastMinuteToBoth:
		if r.LastMinuteTo != "" && r.MaxDuration == 0 {
			fs.add("lastMinToUE", "needs MaxDuration")
		}
	default:
		fs.add("lastMinToUE", `must be "toa", "tob" or "both"`)
	}
	fs.add("preVoice", toneProblem(r.PreVoice, false))
	if r.PreVoice != "" && !r.PlayPreVoice {
		fs.add("preVoice", "needs PlayPreVoice")
	}
	fs.add("waitVoice", toneProblem(r.WaitVoice, false))
	switch r.CalleeMedia {
	case "", CalleeMediaAll, CalleeMediaNone, CalleeMediaFail:
	default:
		fs.add("calleeMedia", `must be "all", "none" or "fail"`)
	}
	fs.add("statusUrl", callbackURLProblem(r.StatusURL))
	fs.add("feeUrl", callbackURLProblem(r.FeeURL))
	fs.add("recordHintTone", toneProblem(r.RecordHintTone, false))
	if r.RecordHintTone != "" && !r.Record {
		fs.add("recordHintTone", "needs Record")
	}
	fs.add("userData", userDataProblem(r.UserData))
	return fs.err("Click2Call")
}

// click2CallWire is the JSON body, in the field order of Huawei's models.
type click2CallWire struct {
	DisplayNbr                    string `json:"displayNbr"`
	CallerNbr                     string `json:"callerNbr"`
	DisplayCalleeNbr              string `json:"displayCalleeNbr"`
	CalleeNbr                     string `json:"calleeNbr"`
	MaxDuration                   int    `json:"maxDuration,omitempty"`
	LastMinVoice                  string `json:"lastMinVoice,omitempty"`
	LastMinToUE                   string `json:"lastMinToUE,omitempty"`
	PlayPreVoice                  string `json:"playPreVoice"`
	PreVoice                      string `json:"preVoice,omitempty"`
	WaitVoice                     string `json:"waitVoice,omitempty"`
	CalleeMedia                   string `json:"calleeMedia,omitempty"`
	StatusURL                     string `json:"statusUrl,omitempty"`
	FeeURL                        string `json:"feeUrl,omitempty"`
	RecordFlag                    string `json:"recordFlag"`
	RecordHintTone                string `json:"recordHintTone,omitempty"`
	PartyTypeRequiredInDisconnect string `json:"partyTypeRequiredInDisconnect"`
	ReturnIdlePort                string `json:"returnIdlePort"`
	UserData                      string `json:"userData,omitempty"`
}

// wire returns the body of a validated request carrying userData.
func (r *Click2CallRequest) wire(userData string) *click2CallWire {
	return &click2CallWire{
		DisplayNbr:                    r.DisplayNumber,
		CallerNbr:                     r.CallerNumber,
		DisplayCalleeNbr:              r.DisplayCalleeNumber,
		CalleeNbr:                     r.CalleeNumber,
		MaxDuration:                   r.MaxDuration,
		LastMinVoice:                  r.LastMinuteVoice,
		LastMinToUE:                   string(r.LastMinuteTo),
		PlayPreVoice:                  boolString(r.PlayPreVoice),
		PreVoice:                      r.PreVoice,
		WaitVoice:                     r.WaitVoice,
		CalleeMedia:                   string(r.CalleeMedia),
		StatusURL:                     encodeCallbackURL(r.StatusURL),
		FeeURL:                        encodeCallbackURL(r.FeeURL),
		RecordFlag:                    boolString(r.Record),
		RecordHintTone:                r.RecordHintTone,
		PartyTypeRequiredInDisconnect: boolString(r.PartyTypeInDisconnect),
		ReturnIdlePort:                boolString(r.ReturnIdlePort),
		UserData:                      userData,
	}
}

// sensitiveValues implements sensitive: the four numbers.
func (w *click2CallWire) sensitiveValues() []string {
	return numberForms(w.DisplayNbr, w.CallerNbr, w.DisplayCalleeNbr, w.CalleeNbr)
}

// click2Call is the click-to-call API: at most once.
var click2Call = endpoint{op: "Click2Call", method: http.MethodPost, path: click2CallPath}

// Click2Call asks the platform to call req.CallerNumber and then
// req.CalleeNumber and bridge them. The client must be the click-to-call
// app's (see [Client]).
//
// Errors are sorted by [OutcomeOf] as for [Client.CallVerify]; the SDK
// never resends a request that may have reached the platform, because a
// resend can ring both phones twice.
func (c *Client) Click2Call(ctx context.Context, req *Click2CallRequest) (*CallResponse, error) {
	if req == nil {
		return nil, newValidationError("Click2Call", FieldError{Field: "request", Problem: "is nil"})
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	userData := req.UserData
	if userData == "" {
		userData = NewCorrelationToken()
	}
	return c.placeCall(ctx, &click2Call, req.wire(userData), userData)
}
