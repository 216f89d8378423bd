package voicecall

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/voicecall-go/voicecall/internal/redact"
)

// callVerifyPath is the URI of the voice verification code API, appended
// to the client's base URL.
const callVerifyPath = "/rest/httpsessions/callVerify/v1.0"

// LanguageChinese is the only documented LanguageType: the code is read
// out in Chinese.
const LanguageChinese = 2

// Limits of the CallVerify fields, from Huawei's voice verification code
// API page (the shared ones are in validate.go's constants).
const (
	maxVerifyCodeLen = 8 // longest verification code
	maxTimes         = 9 // most read-outs; 0 means until the callee hangs up
	defaultTimes     = 3 // read-outs when Times is nil (the platform's default)
)

// CallVerifyRequest asks the platform to call CalleeNumber and read out
// VerifyCode. Field comments give the wire name, format and limits. The
// SDK validates every field before sending and reports every problem in
// one [*ValidationError].
type CallVerifyRequest struct {
	// DisplayNumber (displayNbr, required) is the fixed-line number shown
	// to the callee, exactly as on the console's number page: "+",
	// country code, area code and number, e.g. "+8675528000088"; 4-31
	// characters. If the number is suspended, the platform silently uses
	// another number of the app.
	DisplayNumber string

	// CalleeNumber (calleeNbr, required) is the number to call: "+" and
	// digits, 4-31 characters. Mobile: "+{country}{mobile}", e.g.
	// "+8613500000001"; fixed line: "+{country}{area code without its
	// leading 0}{number}". The SDK does not normalise numbers.
	CalleeNumber string

	// LanguageType (languageType) is the language of the read-out, a
	// positive integer: [LanguageChinese] (2) is the only documented
	// value, and 0 (unset) sends 2.
	LanguageType int

	// PreTone (preTone, required) is the name of an approved Wave file
	// played before the code, e.g. "pretone.wav"; 1-128 characters.
	PreTone string

	// VerifyCode (verifyCode, required) is the code to read out: 1-8
	// ASCII digits. Huawei's pages disagree on the minimum (1 or 2); the
	// SDK accepts 1 and lets the platform decide.
	VerifyCode string

	// PostTone (posTone, optional) is an approved Wave file played after
	// the code; 1-128 characters. Without it the call ends after the code.
	PostTone string

	// Times (times, optional) is how many times the code is read out,
	// 0-9; 0 repeats until the callee hangs up. nil leaves the field out
	// and the platform reads it 3 times. Use [PlayTimes] to set it.
	Times *int

	// StatusURL (statusUrl, optional) receives the call-status
	// notifications. Give the plain URL (absolute, http or https): the SDK
	// Base64-encodes it (standard alphabet) as the platform requires, and
	// the encoded form must be at most 128 characters (a URL of at most 96
	// bytes). Empty means the URL configured on the console.
	StatusURL string

	// FeeURL (feeUrl, optional) receives the CDR (fee) notifications; same
	// rules as StatusURL. It may equal StatusURL.
	FeeURL string

	// ReturnIdlePort (returnIdlePort) asks the platform to return its
	// number of idle call ports in [CallResponse.IdlePort]. It is
	// sent as the string "true" or "false".
	ReturnIdlePort bool

	// UserData (userData, optional) is echoed in the status and CDR
	// notifications of this call: at most 256 characters, ASCII only,
	// without "{" or "}". The platform asks for non-ASCII text to be
	// Base64-encoded: encode it with base64.StdEncoding before setting it
	// and decode it in your notification callbacks.
	//
	// When empty, the SDK sets a unique token ("vc" and 32 hex digits) so
	// that every call can be correlated with its notifications; the value
	// sent is returned in [CallResponse.UserData] and on every error
	// (see [UserDataOf]).
	UserData string

	// BindNumber (bindNbr, optional, legacy) is the CallEnabler number the
	// app was bound to in older versions of the platform. Current docs no
	// longer list it; it is sent only when set, with the same format as
	// CalleeNumber.
	BindNumber string
}

// PlayTimes returns a pointer to n, for [CallVerifyRequest.Times].
func PlayTimes(n int) *int { return &n }

// LogValue implements [slog.LogValuer]: numbers are masked to their last
// four digits and the verification code is left out.
func (r *CallVerifyRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("displayNbr", redact.Phone(r.DisplayNumber)),
		slog.String("calleeNbr", redact.Phone(r.CalleeNumber)),
		slog.String("userData", redact.Text(r.UserData, MaxUserDataLen)),
	)
}

// Validate checks every field and returns a [*ValidationError] listing all
// problems, or nil. CallVerify calls it before sending anything.
func (r *CallVerifyRequest) Validate() error {
	var fs fieldErrors
	fs.add("displayNbr", numberProblem(r.DisplayNumber, true))
	fs.add("calleeNbr", numberProblem(r.CalleeNumber, true))
	if r.LanguageType < 0 {
		fs.add("languageType", "must be a positive integer (2 for Chinese; 0 sends 2)")
	}
	fs.add("preTone", toneProblem(r.PreTone, true))
	fs.add("verifyCode", verifyCodeProblem(r.VerifyCode))
	fs.add("posTone", toneProblem(r.PostTone, false))
	if r.Times != nil && (*r.Times < 0 || *r.Times > maxTimes) {
		fs.add("times", "must be 0-9 (0 repeats until the callee hangs up)")
	}
	fs.add("statusUrl", callbackURLProblem(r.StatusURL))
	fs.add("feeUrl", callbackURLProblem(r.FeeURL))
	fs.add("userData", userDataProblem(r.UserData))
	fs.add("bindNbr", numberProblem(r.BindNumber, false))
	return fs.err("CallVerify")
}

func verifyCodeProblem(s string) string {
	switch {
	case s == "":
		return "is required"
	case len(s) > maxVerifyCodeLen || !allDigits(s):
		return "must be 1-8 ASCII digits"
	}
	return ""
}

// callVerifyWire is the JSON body, in the field order of Huawei's
// models.
type callVerifyWire struct {
	DisplayNbr     string `json:"displayNbr"`
	CalleeNbr      string `json:"calleeNbr"`
	LanguageType   int    `json:"languageType"`
	PreTone        string `json:"preTone"`
	VerifyCode     string `json:"verifyCode"`
	PosTone        string `json:"posTone,omitempty"`
	Times          *int   `json:"times,omitempty"`
	StatusURL      string `json:"statusUrl,omitempty"`
	FeeURL         string `json:"feeUrl,omitempty"`
	ReturnIdlePort string `json:"returnIdlePort"`
	UserData       string `json:"userData,omitempty"`
	BindNbr        string `json:"bindNbr,omitempty"`
}

// wire returns the body of a validated request carrying userData.
func (r *CallVerifyRequest) wire(userData string) *callVerifyWire {
	return &callVerifyWire{
		DisplayNbr:     r.DisplayNumber,
		CalleeNbr:      r.CalleeNumber,
		LanguageType:   cmp.Or(r.LanguageType, LanguageChinese),
		PreTone:        r.PreTone,
		VerifyCode:     r.VerifyCode,
		PosTone:        r.PostTone,
		Times:          r.Times,
		StatusURL:      encodeCallbackURL(r.StatusURL),
		FeeURL:         encodeCallbackURL(r.FeeURL),
		ReturnIdlePort: boolString(r.ReturnIdlePort),
		UserData:       userData,
		BindNbr:        r.BindNumber,
	}
}

// sensitiveValues implements sensitive: the code and the numbers (with
// and without their "+", as a URL-encoded echo would show them).
func (w *callVerifyWire) sensitiveValues() []string {
	return append(numberForms(w.DisplayNbr, w.CalleeNbr, w.BindNbr), w.VerifyCode)
}

// CallResponse is the platform's answer to an accepted request that
// places a call: [Client.CallVerify], [Client.CallNotify] and
// [Client.Click2Call] answer alike.
type CallResponse struct {
	// SessionID (sessionId) identifies the call (both legs of a
	// click-to-call) in the status and CDR notifications and in
	// [Client.CallStop].
	SessionID string `json:"sessionId"`
	// IdlePort is the platform's number of idle call ports (0-65535),
	// present only when the request set ReturnIdlePort and the platform
	// returned it.
	IdlePort *int `json:"idlePort"`
	// ResultCode is the platform's resultcode ([CodeSuccess]).
	ResultCode ResultCode `json:"resultcode"`
	// ResultDesc is the platform's resultdesc, e.g. "Success".
	ResultDesc string `json:"resultdesc"`
	// UserData is the userData that was sent: the caller's, or the
	// correlation token the SDK generated.
	UserData string `json:"-"`
}

// checkAnswer implements answerChecker: an accepted call has a session
// id.
func (r *CallResponse) checkAnswer() error {
	if r.SessionID == "" {
		return errors.New("the answer has resultcode 0 but no sessionId")
	}
	return nil
}

// head implements headed: the answer is decoded once.
func (r *CallResponse) head() answerHead { return answerHead{string(r.ResultCode), r.ResultDesc} }

// placeCall sends the wire body of a request that places a call, once
// (at most once: a resend can ring a phone twice), and returns the
// answer with the userData that was sent.
func (c *Client) placeCall(ctx context.Context, ep *endpoint, body any, userData string) (*CallResponse, error) {
	var resp CallResponse
	if _, err := c.do(ctx, ep, nil, body, userData, &resp); err != nil {
		return nil, err
	}
	resp.UserData = userData
	return &resp, nil
}

// callVerify is the voice verification code API.
var callVerify = endpoint{op: "CallVerify", method: http.MethodPost, path: callVerifyPath}

// CallVerify asks the platform to call req.CalleeNumber and read out
// req.VerifyCode.
//
// It returns the session id when the platform accepted the call. Any
// other result is an error: a [*ValidationError] (nothing was sent), an
// [*APIError] (the platform refused; no call was placed), or a
// [*RequestError] which either says the request was never sent or
// matches [ErrOutcomeUnknown] (the call may have been placed: do not
// resend blindly, see the package documentation). [OutcomeOf] sorts them.
//
// The platform's first status event (callout) can reach your receiver
// before CallVerify returns. To recognise it, set req.UserData to a
// token from [NewCorrelationToken] and record it before the call.
func (c *Client) CallVerify(ctx context.Context, req *CallVerifyRequest) (*CallResponse, error) {
	if req == nil {
		return nil, newValidationError("CallVerify", FieldError{Field: "request", Problem: "is nil"})
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	userData := req.UserData
	if userData == "" {
		userData = NewCorrelationToken()
	}
	return c.placeCall(ctx, &callVerify, req.wire(userData), userData)
}
