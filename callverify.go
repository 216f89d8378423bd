package voicecall

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/voicecall-go/voicecall/internal/redact"
)

// CallVerifyPath is the URI of the voice verification code API, appended
// to the client's base URL.
const CallVerifyPath = "/rest/httpsessions/callVerify/v1.0"

// LanguageChinese is the only documented LanguageType: the code is read
// out in Chinese.
const LanguageChinese = 2

// Limits of the CallVerify fields (voicecall-api.md §3.1).
const (
	MinNumberLen      = 4   // shortest phone number, "+" included
	MaxNumberLen      = 31  // longest phone number, "+" included
	MaxVerifyCodeLen  = 8   // longest verification code
	MaxTimes          = 9   // most read-outs; 0 means until the callee hangs up
	MaxToneLen        = 128 // longest audio file name, in characters
	MaxCallbackURLLen = 128 // longest Base64-encoded callback URL
	MaxUserDataLen    = 256 // longest userData, in characters
	DefaultTimes      = 3   // read-outs when Times is nil (the platform's default)
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

	// LanguageType (languageType, required) is the language of the
	// read-out, a positive integer: [LanguageChinese] (2) is the only
	// documented value.
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
	// and the platform reads it [DefaultTimes] (3) times. Use [PlayTimes]
	// to set it.
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
	// number of idle call ports in [CallVerifyResponse.IdlePort]. It is
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
	// sent is returned in [CallVerifyResponse.UserData] and on every error
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
	var fs []FieldError
	add := func(field, problem string) { fs = append(fs, FieldError{Field: field, Problem: problem}) }
	if p := numberProblem(r.DisplayNumber, true); p != "" {
		add("displayNbr", p)
	}
	if p := numberProblem(r.CalleeNumber, true); p != "" {
		add("calleeNbr", p)
	}
	if r.LanguageType <= 0 {
		add("languageType", "must be a positive integer (2 for Chinese)")
	}
	if p := toneProblem(r.PreTone, true); p != "" {
		add("preTone", p)
	}
	if p := verifyCodeProblem(r.VerifyCode); p != "" {
		add("verifyCode", p)
	}
	if p := toneProblem(r.PostTone, false); p != "" {
		add("posTone", p)
	}
	if r.Times != nil && (*r.Times < 0 || *r.Times > MaxTimes) {
		add("times", "must be 0-9 (0 repeats until the callee hangs up)")
	}
	if p := callbackURLProblem(r.StatusURL); p != "" {
		add("statusUrl", p)
	}
	if p := callbackURLProblem(r.FeeURL); p != "" {
		add("feeUrl", p)
	}
	if p := UserDataProblem(r.UserData); p != "" {
		add("userData", p)
	}
	if p := numberProblem(r.BindNumber, false); p != "" {
		add("bindNbr", p)
	}
	if fs != nil {
		return newValidationError("CallVerify", fs...)
	}
	return nil
}

func numberProblem(s string, required bool) string {
	if s == "" {
		if required {
			return "is required"
		}
		return ""
	}
	if len(s) < MinNumberLen || len(s) > MaxNumberLen || s[0] != '+' || !allDigits(s[1:]) {
		return `must be "+" followed by digits, 4-31 characters in all`
	}
	return ""
}

func verifyCodeProblem(s string) string {
	switch {
	case s == "":
		return "is required"
	case len(s) > MaxVerifyCodeLen || !allDigits(s):
		return "must be 1-8 ASCII digits"
	}
	return ""
}

func toneProblem(s string, required bool) string {
	switch {
	case s == "" && required:
		return "is required"
	case utf8.RuneCountInString(s) > MaxToneLen:
		return "must be at most 128 characters"
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	}
	return ""
}

func callbackURLProblem(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http or https URL"
	}
	if base64.StdEncoding.EncodedLen(len(s)) > MaxCallbackURLLen {
		return "must be at most 128 characters once Base64-encoded (a URL of at most 96 bytes)"
	}
	return ""
}

// UserDataProblem returns why s cannot be sent as userData, or "" if it
// can: at most 256 characters, ASCII only, no "{" or "}". The notification
// side can use it to check a token before looking it up.
func UserDataProblem(s string) string {
	if len(s) > MaxUserDataLen {
		return "must be at most 256 characters"
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			return "must be ASCII (Base64-encode other text)"
		case c == '{' || c == '}':
			return `must not contain "{" or "}"`
		}
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// callVerifyWire is the JSON body, in the field order of Huawei's
// models. marshal writes the same JSON by hand; the tests check the two
// agree.
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

// marshal returns the JSON body of a validated request. It appends the
// fields directly (one allocation, no reflection): the hot path of every
// call.
func (r *CallVerifyRequest) marshal(userData string) []byte {
	n := 200 + len(r.DisplayNumber) + len(r.CalleeNumber) + len(r.PreTone) + len(r.VerifyCode) + len(r.PostTone) +
		base64.StdEncoding.EncodedLen(len(r.StatusURL)) + base64.StdEncoding.EncodedLen(len(r.FeeURL)) +
		len(userData) + len(r.BindNumber)
	b := make([]byte, 0, n)
	b = appendField(b, `{"displayNbr":`, r.DisplayNumber)
	b = appendField(b, `,"calleeNbr":`, r.CalleeNumber)
	b = append(b, `,"languageType":`...)
	b = strconv.AppendInt(b, int64(r.LanguageType), 10)
	b = appendField(b, `,"preTone":`, r.PreTone)
	b = appendField(b, `,"verifyCode":`, r.VerifyCode)
	if r.PostTone != "" {
		b = appendField(b, `,"posTone":`, r.PostTone)
	}
	if r.Times != nil {
		b = append(b, `,"times":`...)
		b = strconv.AppendInt(b, int64(*r.Times), 10)
	}
	if r.StatusURL != "" {
		b = append(b, `,"statusUrl":"`...)
		b = base64.StdEncoding.AppendEncode(b, []byte(r.StatusURL))
		b = append(b, '"')
	}
	if r.FeeURL != "" {
		b = append(b, `,"feeUrl":"`...)
		b = base64.StdEncoding.AppendEncode(b, []byte(r.FeeURL))
		b = append(b, '"')
	}
	if r.ReturnIdlePort {
		b = append(b, `,"returnIdlePort":"true"`...)
	} else {
		b = append(b, `,"returnIdlePort":"false"`...)
	}
	if userData != "" {
		b = appendField(b, `,"userData":`, userData)
	}
	if r.BindNumber != "" {
		b = appendField(b, `,"bindNbr":`, r.BindNumber)
	}
	return append(b, '}')
}

func appendField(b []byte, key, value string) []byte {
	return appendJSONString(append(b, key...), value)
}

// appendJSONString appends s as a JSON string. s is valid UTF-8 (checked
// by Validate); quotes, backslashes and control characters are escaped,
// and so are U+2028 and U+2029, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != '\u2028' && r != '\u2029' {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// CallVerifyResponse is the platform's answer to an accepted
// [CallVerifyRequest].
type CallVerifyResponse struct {
	// SessionID (sessionId) identifies the call; the status and CDR
	// notifications carry it.
	SessionID string
	// IdlePort is the platform's number of idle call ports (0-65535),
	// present only when the request set ReturnIdlePort and the platform
	// returned it.
	IdlePort *int
	// ResultCode is the platform's resultcode ([CodeSuccess]).
	ResultCode ResultCode
	// ResultDesc is the platform's resultdesc, e.g. "Success".
	ResultDesc string
	// UserData is the userData that was sent: the caller's, or the
	// correlation token the SDK generated.
	UserData string
}

// CallVerify asks the platform to call req.CalleeNumber and read out
// req.VerifyCode.
//
// It returns the session id when the platform accepted the call. Any
// other result is an error: a [*ValidationError] (nothing was sent), an
// [*APIError] (the platform refused; no call was placed), or a
// [*RequestError] which either says the request was never sent or
// matches [ErrOutcomeUnknown] (the call may have been placed: do not
// resend blindly, see the package documentation). [OutcomeOf] sorts them.
func (c *Client) CallVerify(ctx context.Context, req *CallVerifyRequest) (*CallVerifyResponse, error) {
	if req == nil {
		return nil, newValidationError("CallVerify", FieldError{Field: "request", Problem: "is nil"})
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	userData := req.UserData
	if userData == "" {
		var err error
		if userData, err = NewCorrelationToken(); err != nil {
			return nil, newRequestError("CallVerify", "", OutcomeRejected, 0, "", nil, err)
		}
	}
	ans, err := c.do(ctx, call{op: "CallVerify", url: c.callVerifyURL, body: req.marshal(userData), userData: userData, logAttrs: req})
	if err != nil {
		return nil, err
	}
	return &CallVerifyResponse{
		SessionID:  ans.SessionID,
		IdlePort:   ans.IdlePort,
		ResultCode: CodeSuccess,
		ResultDesc: ans.ResultDesc,
		UserData:   userData,
	}, nil
}
