package voicecall

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/voicecall-go/voicecall/internal/redact"
)

// ErrOutcomeUnknown is matched (with [errors.Is]) by every error after
// which the request may have reached the platform, so the call may or may
// not have been placed: a connection lost after the request was written,
// a timeout or cancellation while waiting for the answer, an HTTP 5xx, an
// HTML page, a truncated or malformed answer. Do not resend such a
// request blindly: a second request rings the phone a second time.
// Settle the outcome from the notifications instead, by the error's
// UserData (see "Correlation" in the package documentation).
var ErrOutcomeUnknown = errors.New("voicecall: outcome unknown: the request may have reached the platform and the call may have been placed")

// Outcome is how a request ended.
type Outcome int

const (
	// OutcomeAccepted: the platform accepted the call and returned a session id.
	OutcomeAccepted Outcome = iota
	// OutcomeRejected: the platform answered with a result code other
	// than "0", or the request provably never left this process. No call
	// was placed.
	OutcomeRejected
	// OutcomeUnknown: the request may have reached the platform; see
	// [ErrOutcomeUnknown].
	OutcomeUnknown
)

// String returns "accepted", "rejected" or "unknown".
func (o Outcome) String() string {
	switch o {
	case OutcomeAccepted:
		return "accepted"
	case OutcomeRejected:
		return "rejected"
	case OutcomeUnknown:
		return "unknown"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// OutcomeOf classifies the error returned by a request method: nil is
// [OutcomeAccepted], an error matching [ErrOutcomeUnknown] is
// [OutcomeUnknown], and any other error is [OutcomeRejected].
func OutcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return OutcomeAccepted
	case errors.Is(err, ErrOutcomeUnknown):
		return OutcomeUnknown
	default:
		return OutcomeRejected
	}
}

// UserDataOf returns the userData the failed request carried (the
// correlation token, see the package documentation), or "" when err
// carries none, as for a [*ValidationError].
func UserDataOf(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.UserData
	}
	var reqErr *RequestError
	if errors.As(err, &reqErr) {
		return reqErr.UserData
	}
	return ""
}

// APIError is returned, as a pointer, for every platform answer whose
// resultcode is not "0", whatever its HTTP status: the platform rejected
// the request and placed no call. An answer with an HTTP status of 500 or
// more is not certain enough for that, so it comes as a [*RequestError]
// that matches [ErrOutcomeUnknown] and wraps the APIError.
type APIError struct {
	// Op is the operation, e.g. "CallVerify".
	Op string
	// HTTPStatus is the HTTP status code of the answer.
	HTTPStatus int
	// Code is the platform's resultcode, verbatim.
	Code ResultCode
	// Description is the platform's resultdesc (for 1010002 it usually
	// names the offending parameter), with control characters removed.
	Description string
	// Body is the start of the answer's body (at most 512 bytes), for
	// diagnosis, with control characters removed.
	Body string
	// UserData is the userData of the request (the correlation token).
	UserData string
}

// Error returns "voicecall: <op>: rejected by the platform: resultcode
// <code> (<description>), http <status>".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("voicecall: ")
	b.WriteString(e.Op)
	b.WriteString(": rejected by the platform: resultcode ")
	b.WriteString(string(e.Code))
	if e.Description != "" {
		b.WriteString(" (")
		b.WriteString(e.Description)
		b.WriteString(")")
	} else if d := e.Code.Description(); d != "" {
		b.WriteString(" (")
		b.WriteString(d)
		b.WriteString(")")
	}
	b.WriteString(", http ")
	b.WriteString(strconv.Itoa(e.HTTPStatus))
	return b.String()
}

// IsAuthFailure reports whether the platform refused the credentials or
// the signature; see [ResultCode.IsAuthFailure].
func (e *APIError) IsAuthFailure() bool { return e.Code.IsAuthFailure() }

// IsClockSkew reports whether Created was too far from the platform's
// clock (1010013).
func (e *APIError) IsClockSkew() bool { return e.Code == CodeTimeOutLimit }

// IsThrottled reports whether a flow-control or call-limit code was
// returned; see [ResultCode.IsThrottled].
func (e *APIError) IsThrottled() bool { return e.Code.IsThrottled() }

// IsInvalidParameter reports whether a request parameter was refused;
// see [ResultCode.IsInvalidParameter].
func (e *APIError) IsInvalidParameter() bool { return e.Code.IsInvalidParameter() }

// IsAccountState reports whether the account, app or number is not in a
// state that allows calls; see [ResultCode.IsAccountState].
func (e *APIError) IsAccountState() bool { return e.Code.IsAccountState() }

// RequestError is returned, as a pointer, when a request failed without a
// platform answer that says it was rejected: a network error, a timeout,
// a cancelled context, a redirect, an HTTP 5xx, an HTML page, a truncated
// or malformed answer.
//
// When Outcome is [OutcomeUnknown] the error matches [ErrOutcomeUnknown]
// and its message says so. Err holds the cause and is reachable with
// [errors.Is] and [errors.As] (context.DeadlineExceeded, *net.OpError,
// *APIError for a 5xx that carried a result code, ...).
type RequestError struct {
	// Op is the operation, e.g. "CallVerify".
	Op string
	// Outcome is OutcomeRejected when the request provably never left
	// this process (or was refused before processing, like a redirect),
	// and OutcomeUnknown otherwise.
	Outcome Outcome
	// Attempts is the number of HTTP attempts made (retries happen only
	// when a request provably never left this process).
	Attempts int
	// HTTPStatus is the HTTP status of the answer, 0 if none was read.
	HTTPStatus int
	// ContentType is the Content-Type of the answer, if any.
	ContentType string
	// Body is the start of the answer's body (at most 512 bytes), with
	// control characters removed.
	Body string
	// UserData is the userData of the request (the correlation token).
	UserData string
	// Err is the cause.
	Err error
}

// Error describes the failure; for an unknown outcome it starts with
// "voicecall: <op>: outcome unknown, the call may have been placed".
func (e *RequestError) Error() string {
	var b strings.Builder
	b.WriteString("voicecall: ")
	b.WriteString(e.Op)
	if e.Outcome == OutcomeUnknown {
		b.WriteString(": outcome unknown, the call may have been placed")
		if e.UserData != "" {
			b.WriteString(" (settle it with userData ")
			b.WriteString(strconv.Quote(e.UserData))
			b.WriteString(")")
		}
	} else {
		b.WriteString(": request not sent")
	}
	if e.HTTPStatus != 0 {
		b.WriteString(": http ")
		b.WriteString(strconv.Itoa(e.HTTPStatus))
		if e.ContentType != "" {
			b.WriteString(" ")
			b.WriteString(e.ContentType)
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Body != "" {
		b.WriteString(": body ")
		b.WriteString(strconv.Quote(e.Body))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// Is matches [ErrOutcomeUnknown] when the outcome is unknown.
func (e *RequestError) Is(target error) bool {
	return target == ErrOutcomeUnknown && e.Outcome == OutcomeUnknown
}

// FieldError is one problem with one field.
type FieldError struct {
	// Field is the field's name as it is on the wire, e.g. "calleeNbr".
	Field string
	// Problem says what is wrong, without repeating the value (which may
	// be a phone number or a verification code).
	Problem string
}

// Error returns "<field>: <problem>".
func (f FieldError) Error() string { return f.Field + ": " + f.Problem }

// ValidationError lists every invalid field of an input. It is returned,
// as a pointer, before anything is sent: the outcome is
// [OutcomeRejected].
type ValidationError struct {
	// Op is what was being validated, e.g. "CallVerify".
	Op string
	// Fields are the problems, in field order.
	Fields []FieldError
}

func newValidationError(op string, fields ...FieldError) *ValidationError {
	return &ValidationError{Op: op, Fields: fields}
}

// Error returns "voicecall: <op>: invalid <field>: <problem>; ...".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("voicecall: ")
	b.WriteString(e.Op)
	b.WriteString(": invalid ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Error())
	}
	return b.String()
}

// Has reports whether field is among the invalid fields.
func (e *ValidationError) Has(field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// ResultCode is the platform's resultcode, a decimal string; "0" is
// success. Codes the SDK does not know are kept verbatim, among them
// those Huawei's tables list without a recoverable text (1012012,
// 1013112-1013118, 1020151) and the PasswordDigest-mismatch code whose
// number is not documented.
type ResultCode string

// Result codes documented by Huawei (voicecall-api.md §4.3). The comments
// give the platform's English resultdesc and what to do.
const (
	CodeSuccess                ResultCode = "0"       // Success.
	CodeSystemError            ResultCode = "1010001" // Internal system error; contact support.
	CodeInvalidRequest         ResultCode = "1010002" // Invalid request: a parameter is malformed; resultdesc usually names it.
	CodeInvalidAppKey          ResultCode = "1010003" // Invalid app_key: check the key and the app's state.
	CodeAccessTokenExpired     ResultCode = "1010004" // Legacy OAuth scheme only: access_token expired.
	CodeInvalidRestAPI         ResultCode = "1010006" // Invalid Rest API: wrong method or URI.
	CodeUserNotActive          ResultCode = "1010007" // The user is not active (account in arrears, ...).
	CodeAppKeySuspended        ResultCode = "1010008" // The app_key is suspended.
	CodeNoMoreAPIs             ResultCode = "1010009" // No more APIs can be invoked.
	CodeFlowControl            ResultCode = "1010010" // Platform flow control: wait about a minute.
	CodeNoCommercialAccess     ResultCode = "1010011" // The app may not access a commercial address.
	CodeTimeOutLimit           ResultCode = "1010013" // Created too far from the platform's clock (clock skew).
	CodeAppUnavailable         ResultCode = "1010021" // Application unavailable.
	CodeInvalidDisplayNumber   ResultCode = "1010023" // displayNbr invalid or not issued: use the console's fixed-line number.
	CodeInvalidCallerNumber    ResultCode = "1010024" // Invalid caller number (voice callback).
	CodeNumberNotApplied       ResultCode = "1012001" // The app_key and the number are not bound.
	CodeTemplateNotFound       ResultCode = "1012003" // Voice notification: the template does not exist.
	CodeTemplateParasCount     ResultCode = "1012004" // Voice notification: templateParas count mismatch.
	CodeTemplateParasInvalid   ResultCode = "1012005" // Voice notification: a templateParas value is invalid.
	CodeServiceNumberMissing   ResultCode = "1012006" // The service number is not applied.
	CodeSPCallLimit            ResultCode = "1013001" // Calls exceed the SP limit.
	CodeAppCallLimit           ResultCode = "1013002" // Calls exceed the app limit.
	CodeDisplayNumberCallLimit ResultCode = "1013003" // Calls exceed the display-number limit.
	CodeCalleeBlacklisted      ResultCode = "1013004" // The callee is in a blacklist.
	CodeIPAddressNull          ResultCode = "1013120" // IP address is null.
	CodeCallTimeForbidden      ResultCode = "1013121" // Calls are not allowed at this time of day.
	CodeParameterError         ResultCode = "1020001" // Parameter error.
	CodeInternalError          ResultCode = "1020002" // Internal error.
	CodeParameterInvalid       ResultCode = "1020003" // Parameter error.
	CodeAppKeyInvalid          ResultCode = "1020150" // Invalid app_key.
	CodePortLimit              ResultCode = "1020165" // The app's voice-call ports are exhausted: wait, or ask for more.
	CodeIPNotWhitelisted       ResultCode = "1020166" // The client IP is not in the app's white list.
	CodeIPBlocked              ResultCode = "1020176" // IP blocked for 30 minutes after repeated authentication failures.
	CodeAuthFailed             ResultCode = "1023006" // Authentication failed: check the key, secret, digest and clock.
	CodeRealmMissing           ResultCode = "1023007" // realm not contained in Authorization.
	CodeProfileMissing         ResultCode = "1023008" // profile not contained in Authorization.
	CodeRealmInvalid           ResultCode = "1023009" // realm in Authorization must be SDP.
	CodeProfileInvalid         ResultCode = "1023010" // profile in Authorization must be UsernameToken.
	CodeTypeInvalid            ResultCode = "1023011" // type in Authorization must be Appkey.
	CodeTypeMissing            ResultCode = "1023012" // type not contained in Authorization.
	CodeXAKSKMissing           ResultCode = "1023033" // No X-AKSK header.
	CodeUsernameMissing        ResultCode = "1023034" // UserName not contained in X-AKSK.
	CodeNonceMissing           ResultCode = "1023035" // Nonce not contained in X-AKSK.
	CodeCreatedMissing         ResultCode = "1023036" // Created not contained in X-AKSK.
)

var codeDescriptions = map[ResultCode]string{
	CodeSuccess:                "Success.",
	CodeSystemError:            "Internal system error.",
	CodeInvalidRequest:         "Invalid request.",
	CodeInvalidAppKey:          "Invalid app_key.",
	CodeAccessTokenExpired:     "access_token expired (legacy scheme).",
	CodeInvalidRestAPI:         "Invalid Rest API.",
	CodeUserNotActive:          "The ativeState of User is not ACTIVATING.",
	CodeAppKeySuspended:        "The status of the app_key is unavailable.",
	CodeNoMoreAPIs:             "No more APIs can be invoked.",
	CodeFlowControl:            "The flow control upper limit is reached on the platform.",
	CodeNoCommercialAccess:     "The app is not allowed to access a commercial address.",
	CodeTimeOutLimit:           "Time out limit.",
	CodeAppUnavailable:         "Application unavailable.",
	CodeInvalidDisplayNumber:   "Display number invalid.",
	CodeInvalidCallerNumber:    "Invalid caller number.",
	CodeNumberNotApplied:       "Resource of number is not to be applied.",
	CodeTemplateNotFound:       "The template ID does not exist.",
	CodeTemplateParasCount:     "The number of templateParas does not match the template.",
	CodeTemplateParasInvalid:   "A value of templateParas does not meet template requirements.",
	CodeServiceNumberMissing:   "The service number is not applied.",
	CodeSPCallLimit:            "Calls exceed the SP limit.",
	CodeAppCallLimit:           "Calls exceed the APP limit.",
	CodeDisplayNumberCallLimit: "Calls exceed the display number limit.",
	CodeCalleeBlacklisted:      "Callee in blacklist.",
	CodeIPAddressNull:          "Ip address is null.",
	CodeCallTimeForbidden:      "Call black time forbidden.",
	CodeParameterError:         "Parameter error.",
	CodeInternalError:          "Internal error.",
	CodeParameterInvalid:       "Parameter error.",
	CodeAppKeyInvalid:          "Invalid app_key.",
	CodePortLimit:              "The number of app_key voice call ports exceeds the upper limit.",
	CodeIPNotWhitelisted:       "The app client ip is not in ip white list.",
	CodeIPBlocked:              "Authentication failed, try again later.",
	CodeAuthFailed:             "Authorization not contained in the HTTP header.",
	CodeRealmMissing:           "realm not contained in Authorization.",
	CodeProfileMissing:         "profile not contained in Authorization.",
	CodeRealmInvalid:           "The value of realm in Authorization must be SDP.",
	CodeProfileInvalid:         "The value of profile in Authorization must be UsernameToken.",
	CodeTypeInvalid:            "The value of type in Authorization must be Appkey.",
	CodeTypeMissing:            "type not contained in Authorization.",
	CodeXAKSKMissing:           "HTTP header not found X-AKSK field.",
	CodeUsernameMissing:        "UserName not contained in X-AKSK.",
	CodeNonceMissing:           "Nonce not contained in X-AKSK.",
	CodeCreatedMissing:         "Created not contained in X-AKSK.",
}

// Description returns the platform's documented English resultdesc for
// the code, or "" for a code the SDK does not know.
func (c ResultCode) Description() string { return codeDescriptions[c] }

// String returns the code with its description, e.g.
// "1010010 (The flow control upper limit is reached on the platform.)".
func (c ResultCode) String() string {
	if d := c.Description(); d != "" {
		return string(c) + " (" + d + ")"
	}
	return string(c)
}

// IsAuthFailure reports whether the code says the credentials, the
// headers or the signature were refused: 1023006-1023012,
// 1023033-1023036, 1010003, 1020150, 1020166 (IP not white-listed) and
// 1020176 (IP blocked after repeated failures). Retrying with the same
// credentials fails again and, repeated, gets the caller's IP blocked for
// 30 minutes. Clock skew (1010013) is reported by IsClockSkew instead.
func (c ResultCode) IsAuthFailure() bool {
	switch c {
	case CodeInvalidAppKey, CodeAppKeyInvalid, CodeIPNotWhitelisted, CodeIPBlocked,
		CodeAuthFailed, CodeRealmMissing, CodeProfileMissing, CodeRealmInvalid,
		CodeProfileInvalid, CodeTypeInvalid, CodeTypeMissing,
		CodeXAKSKMissing, CodeUsernameMissing, CodeNonceMissing, CodeCreatedMissing:
		return true
	}
	return false
}

// IsThrottled reports whether the code is platform flow control
// (1010010), a call limit (1013001-1013003) or the app's port limit
// (1020165): the request was refused before processing and may succeed
// later.
func (c ResultCode) IsThrottled() bool {
	switch c {
	case CodeFlowControl, CodeSPCallLimit, CodeAppCallLimit, CodeDisplayNumberCallLimit, CodePortLimit:
		return true
	}
	return false
}

// IsInvalidParameter reports whether a parameter was refused: 1010002,
// 1010023, 1010024, 1020001, 1020003.
func (c ResultCode) IsInvalidParameter() bool {
	switch c {
	case CodeInvalidRequest, CodeInvalidDisplayNumber, CodeInvalidCallerNumber, CodeParameterError, CodeParameterInvalid:
		return true
	}
	return false
}

// IsAccountState reports whether the account, the app or the number is
// not in a state that allows calls: 1010007, 1010008, 1010009, 1010011,
// 1010021, 1012001, 1012006.
func (c ResultCode) IsAccountState() bool {
	switch c {
	case CodeUserNotActive, CodeAppKeySuspended, CodeNoMoreAPIs, CodeNoCommercialAccess,
		CodeAppUnavailable, CodeNumberNotApplied, CodeServiceNumberMissing:
		return true
	}
	return false
}

// snippet bounds and sanitizes a response body for an error.
func snippet(body []byte) string {
	return redact.Text(string(body[:min(len(body), 2*maxSnippet)]), maxSnippet)
}

const maxSnippet = 512

// errf is fmt.Errorf with the package prefix.
func errf(format string, args ...any) error { return fmt.Errorf("voicecall: "+format, args...) }
