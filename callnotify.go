package voicecall

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/voicecall-go/voicecall/internal/redact"
)

// callNotifyPath is the URI of the voice notification API, appended to
// the client's base URL. (Huawei's demos say "v1.0 or v2.0"; the SDK uses
// v2.0, the version of the API page.)
const callNotifyPath = "/rest/httpsessions/callnotify/v2.0"

// Limits of the voice notification fields, from Huawei's voice
// notification API page.
const (
	maxPlayInfos     = 5  // most items in PlayInfoList
	maxCollectDigits = 32 // most digits one item collects
)

// CallNotifyRequest asks the platform to call CalleeNumber and play the
// items of PlayInfoList: approved audio files or text-to-speech
// templates, optionally collecting the keys the callee presses.
//
// When the call hangs up, as Huawei's voice notification page and FAQ
// state: without collection (every CollectDigits 0) the platform hangs up
// once the playback ends; with collection it hangs up after collecting
// the digits, unless the item asks for a replay (ReplayAfterCollection,
// with ReplayTrigger when set), in which case it plays the item again.
// The collected digits arrive in a status event of type
// [EventCollectInfo], in [StatusEvent.DigitInfo]; the callee must press
// them within 5 seconds of the end of the playback.
//
// The SDK validates every field before sending and reports every problem
// in one [*ValidationError].
type CallNotifyRequest struct {
	// DisplayNumber (displayNbr, required) is the fixed-line number shown
	// to the callee, as on the console's number page, e.g.
	// "+8675528000088"; 4-31 characters. If it is suspended, the platform
	// silently uses another number of the app.
	DisplayNumber string

	// CalleeNumber (calleeNbr, required) is the number to call: "+" and
	// digits, 4-31 characters (see [CallVerifyRequest.CalleeNumber]).
	CalleeNumber string

	// PlayInfoList (playInfoList, required) is what is played, in order:
	// 1-5 items.
	PlayInfoList []PlayInfo

	// StatusURL (statusUrl, optional) receives the call-status
	// notifications: the plain URL, which the SDK Base64-encodes; at most
	// 128 characters encoded (96 bytes plain). Empty means the URL
	// configured on the console.
	StatusURL string

	// FeeURL (feeUrl, optional) receives the CDR notifications; same rules
	// as StatusURL.
	FeeURL string

	// ReturnIdlePort (returnIdlePort) asks for the platform's number of
	// idle call ports in [CallResponse.IdlePort]; sent as "true" or
	// "false".
	ReturnIdlePort bool

	// UserData (userData, optional) is echoed in the notifications of the
	// call: at most 256 characters, no "{" or "}", Chinese text
	// Base64-encoded (see [EncodeUserData]). When empty the SDK sets a
	// correlation token (see [CallVerifyRequest.UserData]).
	UserData string
}

// PlayInfo is one item of a voice notification (PlayContentInfo on
// Huawei's page): either an approved audio file (NotifyVoice) or an
// approved text-to-speech template (TemplateID with TemplateParas).
//
// Templates, as Huawei's pages state: the template is created and
// approved on the console; TemplateParas must hold exactly as many values
// as the template has variables (else the platform answers 1012004), each
// value must meet the template's requirements for its variable (1012005),
// and an unknown TemplateID is refused (1012003). Text-to-speech reads a
// string of digits one digit at a time ("1234" is read as one, two,
// three, four).
type PlayInfo struct {
	// NotifyVoice (notifyVoice) is the name of an approved audio file,
	// 1-128 characters. Set it or TemplateID, not both.
	NotifyVoice string

	// TemplateID (templateId) is the id of an approved voice template,
	// 1-128 characters.
	TemplateID string

	// TemplateParas (templateParas) fills the template's variables, in
	// order; only with TemplateID. Each value is valid UTF-8 and non-empty.
	TemplateParas []string

	// CollectDigits (collectInd) is how many digits to collect after the
	// item played: 0 (the default) collects none, 1-32 collect that many.
	CollectDigits int

	// ReplayAfterCollection (replayAfterCollection) asks the platform to
	// play the item again after collecting; only with CollectDigits > 0.
	// Sent as "true" or "false" when CollectDigits > 0.
	ReplayAfterCollection bool

	// ReplayTrigger (collectContentTriggerReplaying) replays the item
	// only when the collected digits equal it, e.g. "1"; only with
	// ReplayAfterCollection. Keys 0-9, * and #, at most CollectDigits of
	// them.
	ReplayTrigger string
}

// LogValue implements [slog.LogValuer]: numbers are masked to their last
// four digits; template values are left out.
func (r *CallNotifyRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("displayNbr", redact.Phone(r.DisplayNumber)),
		slog.String("calleeNbr", redact.Phone(r.CalleeNumber)),
		slog.Int("playInfoList", len(r.PlayInfoList)),
		slog.String("userData", redact.Text(r.UserData, MaxUserDataLen)),
	)
}

// Validate checks every field and returns a [*ValidationError] listing all
// problems, or nil. CallNotify calls it before sending anything.
func (r *CallNotifyRequest) Validate() error {
	var fs fieldErrors
	fs.add("displayNbr", numberProblem(r.DisplayNumber, true))
	fs.add("calleeNbr", numberProblem(r.CalleeNumber, true))
	switch n := len(r.PlayInfoList); {
	case n == 0:
		fs.add("playInfoList", "is required (1-5 items)")
	case n > maxPlayInfos:
		fs.add("playInfoList", "must hold at most 5 items, has "+strconv.Itoa(n))
	}
	for i := range r.PlayInfoList {
		r.PlayInfoList[i].validate(&fs, "playInfoList["+strconv.Itoa(i)+"]")
	}
	fs.add("statusUrl", callbackURLProblem(r.StatusURL))
	fs.add("feeUrl", callbackURLProblem(r.FeeURL))
	fs.add("userData", userDataProblem(r.UserData))
	return fs.err("CallNotify")
}

func (p *PlayInfo) validate(fs *fieldErrors, at string) {
	switch {
	case p.NotifyVoice == "" && p.TemplateID == "":
		fs.add(at, "needs NotifyVoice or TemplateID")
	case p.NotifyVoice != "" && p.TemplateID != "":
		fs.add(at, "must have NotifyVoice or TemplateID, not both")
	}
	fs.add(at+".notifyVoice", toneProblem(p.NotifyVoice, false))
	fs.add(at+".templateId", toneProblem(p.TemplateID, false))
	if p.TemplateID == "" && len(p.TemplateParas) > 0 {
		fs.add(at+".templateParas", "is only allowed with TemplateID")
	}
	for j, v := range p.TemplateParas {
		switch {
		case v == "":
			fs.add(at+".templateParas["+strconv.Itoa(j)+"]", "must not be empty")
		case !utf8.ValidString(v):
			fs.add(at+".templateParas["+strconv.Itoa(j)+"]", "must be valid UTF-8")
		}
	}
	if p.CollectDigits < 0 || p.CollectDigits > maxCollectDigits {
		fs.add(at+".collectInd", "must be 0-32 digits")
	}
	if p.ReplayAfterCollection && p.CollectDigits == 0 {
		fs.add(at+".replayAfterCollection", "needs CollectDigits > 0")
	}
	if t := p.ReplayTrigger; t != "" {
		switch {
		case !p.ReplayAfterCollection:
			fs.add(at+".collectContentTriggerReplaying", "needs ReplayAfterCollection")
		case strings.Trim(t, "0123456789*#") != "":
			fs.add(at+".collectContentTriggerReplaying", "must be keys 0-9, * or #")
		case len(t) > max(p.CollectDigits, 1):
			fs.add(at+".collectContentTriggerReplaying", "must be at most CollectDigits keys")
		}
	}
}

// callNotifyWire is the JSON body, in the field order of Huawei's models.
type callNotifyWire struct {
	DisplayNbr     string         `json:"displayNbr"`
	CalleeNbr      string         `json:"calleeNbr"`
	PlayInfoList   []playInfoWire `json:"playInfoList"`
	StatusURL      string         `json:"statusUrl,omitempty"`
	FeeURL         string         `json:"feeUrl,omitempty"`
	ReturnIdlePort string         `json:"returnIdlePort"`
	UserData       string         `json:"userData,omitempty"`
}

type playInfoWire struct {
	NotifyVoice                    string   `json:"notifyVoice,omitempty"`
	TemplateID                     string   `json:"templateId,omitempty"`
	TemplateParas                  []string `json:"templateParas,omitempty"`
	CollectInd                     int      `json:"collectInd"`
	ReplayAfterCollection          string   `json:"replayAfterCollection,omitempty"`
	CollectContentTriggerReplaying string   `json:"collectContentTriggerReplaying,omitempty"`
}

// wire returns the body of a validated request carrying userData.
func (r *CallNotifyRequest) wire(userData string) *callNotifyWire {
	w := &callNotifyWire{
		DisplayNbr:     r.DisplayNumber,
		CalleeNbr:      r.CalleeNumber,
		StatusURL:      encodeCallbackURL(r.StatusURL),
		FeeURL:         encodeCallbackURL(r.FeeURL),
		ReturnIdlePort: boolString(r.ReturnIdlePort),
		UserData:       userData,
	}
	for _, p := range r.PlayInfoList {
		pw := playInfoWire{NotifyVoice: p.NotifyVoice, TemplateID: p.TemplateID, TemplateParas: p.TemplateParas, CollectInd: p.CollectDigits}
		if p.CollectDigits > 0 {
			pw.ReplayAfterCollection = boolString(p.ReplayAfterCollection)
			pw.CollectContentTriggerReplaying = p.ReplayTrigger
		}
		w.PlayInfoList = append(w.PlayInfoList, pw)
	}
	return w
}

// sensitiveValues implements sensitive: the numbers and the template
// values (they may carry personal data or codes).
func (w *callNotifyWire) sensitiveValues() []string {
	out := numberForms(w.DisplayNbr, w.CalleeNbr)
	for _, p := range w.PlayInfoList {
		for _, v := range p.TemplateParas {
			if len(v) >= 4 {
				out = append(out, v)
			}
		}
	}
	return out
}

// callNotify is the voice notification API: at most once, like every API
// that places a call.
var callNotify = endpoint{op: "CallNotify", method: http.MethodPost, path: callNotifyPath}

// CallNotify asks the platform to call req.CalleeNumber and play
// req.PlayInfoList. The client must be the voice notification app's (see
// [Client]).
//
// It returns the session id when the platform accepted the call. Any
// other result is an error, sorted by [OutcomeOf] as for
// [Client.CallVerify]: a [*ValidationError] (nothing was sent), an
// [*APIError] (refused, no call placed), or a [*RequestError] that was
// never sent or matches [ErrOutcomeUnknown] (the call may have been
// placed: the SDK never resends it, because a resend can ring the phone
// twice; reconcile with the notifications through [UserDataOf]).
func (c *Client) CallNotify(ctx context.Context, req *CallNotifyRequest) (*CallResponse, error) {
	if req == nil {
		return nil, newValidationError("CallNotify", FieldError{Field: "request", Problem: "is nil"})
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	userData := req.UserData
	if userData == "" {
		userData = NewCorrelationToken()
	}
	return c.placeCall(ctx, &callNotify, req.wire(userData), userData)
}
