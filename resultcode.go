package voicecall

// ResultCode is the platform's resultcode, a decimal string; "0" is
// success. Codes the SDK does not know are kept verbatim, among them
// those Huawei's tables list without a recoverable text (1012012,
// 1013112-1013118, 1020151) and the PasswordDigest-mismatch code whose
// number is not documented.
type ResultCode string

// Result codes documented on Huawei's result-code pages (the voice
// verification code API's table and the global "API错误码" page). The comments
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
	CodeInvalidCallerNumber    ResultCode = "1010024" // Invalid caller number (click-to-call).
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
