package voicetest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
)

const codeInvalidRestAPI = voicecall.CodeInvalidRestAPI

const descInvalidRequest = "Invalid request."

// resultDescs are the platform's English resultdesc texts
// (from Huawei's result-code pages), kept here so that the fake does not borrow the
// SDK's tables.
var resultDescs = map[voicecall.ResultCode]string{
	"0":       "Success",
	"1010001": "Internal system error.",
	"1010002": descInvalidRequest,
	"1010003": "Invalid app_key.",
	"1010006": "Invalid Rest API.",
	"1010007": "The ativeState of User is not ACTIVATING.",
	"1010008": "The status of the app_key is unavailable.",
	"1010009": "No more APIs can be invoked.",
	"1010010": "The flow control upper limit is reached on the platform.",
	"1010011": "The app is not allowed to access a commercial address.",
	"1010013": "Time out limit.",
	"1010021": "Application unavailable.",
	"1010023": "Display number invalid.",
	"1012001": "Resource of number is not to be applied.",
	"1013001": "Calls exceed the SP limit.",
	"1013002": "Calls exceed the APP limit.",
	"1013003": "Calls exceed the display number limit.",
	"1013004": "Callee in blacklist.",
	"1013121": "Call black time forbidden.",
	"1020001": "Parameter error.",
	"1020002": "Internal error.",
	"1020165": "The number of app_key voice call ports exceeds the upper limit.",
	"1020166": "The app client ip is not in ip white list.",
	"1020176": "Authentication failed, try again later",
	"1023006": "Authorization not contained in the HTTP header.",
	"1023007": "realm not contained in Authorization.",
	"1023008": "profile not contained in Authorization.",
	"1023009": "The value of realm in Authorization must be SDP.",
	"1023010": "The value of profile in Authorization must be UsernameToken.",
	"1023011": "The value of type in Authorization must be app_key.",
	"1023012": "type not contained in Authorization.",
	"1023033": "HTTP header not found X-AKSK field.",
	"1023034": "UserName not contained in X-AKSK.",
	"1023035": "Nonce not contained in X-AKSK.",
	"1023036": "Created not contained in X-AKSK.",
}

func describe(code voicecall.ResultCode) string {
	if d, ok := resultDescs[code]; ok {
		return d
	}
	return "Error."
}

// httpStatusFor returns the HTTP status the server sends with a result
// code: 400 for authentication failures (documented for 1023xxx), 403 for
// 1010002 (documented), 404 for 1010006, 200 otherwise.
func httpStatusFor(code voicecall.ResultCode) int {
	c := string(code)
	switch {
	case code == voicecall.CodeInvalidRequest:
		return http.StatusForbidden
	case code == voicecall.CodeInvalidRestAPI:
		return http.StatusNotFound
	case strings.HasPrefix(c, "10230") && len(c) == 7,
		code == voicecall.CodeInvalidAppKey, code == voicecall.CodeTimeOutLimit,
		code == voicecall.CodeIPBlocked, code == voicecall.CodeIPNotWhitelisted:
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// resultJSON is the platform's answer body.
func resultJSON(code voicecall.ResultCode, desc, sessionID string, idlePort *int) []byte {
	b, _ := json.Marshal(struct {
		ResultCode string `json:"resultcode"`
		ResultDesc string `json:"resultdesc"`
		SessionID  string `json:"sessionId,omitempty"`
		IdlePort   *int   `json:"idlePort,omitempty"`
	}{string(code), desc, sessionID, idlePort})
	return b
}

// htmlPage is the error page of an nginx gateway.
func htmlPage(status int) []byte {
	title := fmt.Sprintf("%d %s", status, http.StatusText(status))
	return []byte("<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
		"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
}

// checkContentType accepts application/json with at most a UTF-8 charset.
func checkContentType(v string) (voicecall.ResultCode, string) {
	if v == "" {
		return voicecall.CodeInvalidRequest, "no Content-Type header"
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || mt != "application/json" {
		return voicecall.CodeInvalidRequest, "Content-Type must be application/json;charset=UTF-8"
	}
	for k, p := range params {
		if k != "charset" || !strings.EqualFold(p, "utf-8") {
			return voicecall.CodeInvalidRequest, "Content-Type must be application/json;charset=UTF-8"
		}
	}
	return "", ""
}

// checkAuthorization checks the fixed Authorization value.
func checkAuthorization(v string) (voicecall.ResultCode, string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return voicecall.CodeAuthFailed, "no Authorization header"
	}
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "AKSK") {
		return voicecall.CodeAuthFailed, "Authorization is not of the AKSK scheme"
	}
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		params[strings.ToLower(strings.TrimSpace(name))] = val
	}
	realm, hasRealm := params["realm"]
	profile, hasProfile := params["profile"]
	typ, hasType := params["type"]
	switch {
	case !hasRealm:
		return voicecall.CodeRealmMissing, "Authorization has no realm"
	case !hasProfile:
		return voicecall.CodeProfileMissing, "Authorization has no profile"
	case !hasType:
		return voicecall.CodeTypeMissing, "Authorization has no type"
	case realm != "SDP":
		return voicecall.CodeRealmInvalid, `realm must be "SDP"`
	case profile != "UsernameToken":
		return voicecall.CodeProfileInvalid, `profile must be "UsernameToken"`
	case typ != "Appkey":
		return voicecall.CodeTypeInvalid, `type must be "Appkey"`
	}
	return "", ""
}

// authenticate runs the Authorization and X-AKSK checks and returns the
// request's app.
func (s *Server) authenticate(req *Request) (App, voicecall.ResultCode, string) {
	if code, reason := checkAuthorization(req.Header.Get("Authorization")); code != "" {
		return App{}, code, reason
	}
	values := req.Header.Values(aksk.Header)
	if len(values) == 0 || strings.TrimSpace(values[0]) == "" {
		return App{}, voicecall.CodeXAKSKMissing, "no X-AKSK header"
	}
	if len(values) > 1 {
		return App{}, voicecall.CodeAuthFailed, "more than one X-AKSK header"
	}
	tok, err := aksk.Parse(values[0])
	if err != nil {
		var perr *aksk.ParseError
		if !errors.As(err, &perr) {
			return App{}, voicecall.CodeAuthFailed, "X-AKSK cannot be parsed"
		}
		switch {
		case perr.Has(aksk.Header):
			return App{}, voicecall.CodeAuthFailed, "X-AKSK cannot be parsed"
		case perr.Has("Username"):
			return App{}, voicecall.CodeUsernameMissing, "X-AKSK has no Username"
		case perr.Has("Nonce"):
			return App{}, voicecall.CodeNonceMissing, "X-AKSK has no Nonce"
		case perr.Has("Created"):
			return App{}, voicecall.CodeCreatedMissing, "X-AKSK has no Created"
		default:
			return App{}, voicecall.CodeAuthFailed, "X-AKSK has no PasswordDigest"
		}
	}
	app, ok := s.apps[tok.Username]
	if !ok {
		return App{}, voicecall.CodeInvalidAppKey, "unknown app key"
	}
	now := s.now()
	expiry, code, reason := s.checkCreated(tok.Created, now)
	if code != "" {
		return App{}, code, reason
	}
	if !aksk.ValidNonce(tok.Nonce) {
		return App{}, voicecall.CodeAuthFailed, "Nonce must be 1-128 characters of [0-9A-Za-z]"
	}
	got, err := base64.StdEncoding.Strict().DecodeString(tok.PasswordDigest)
	if err != nil || len(got) != sha256.Size {
		return App{}, voicecall.CodeAuthFailed, "PasswordDigest is not the Base64 of a 32-byte HMAC-SHA256"
	}
	m := hmac.New(sha256.New, []byte(app.Secret))
	m.Write([]byte(tok.Nonce + tok.Created))
	if !hmac.Equal(got, m.Sum(nil)) {
		return App{}, voicecall.CodeAuthFailed, "PasswordDigest does not match (wrong app secret, or a different signing formula)"
	}
	if !s.useNonce(app.Key, tok.Nonce, now, expiry) {
		return App{}, voicecall.CodeAuthFailed, "Nonce already used (replay)"
	}
	return app, "", ""
}

// checkCreated checks that created is fresh in one of the accepted zones
// and returns until when its nonce must be remembered.
func (s *Server) checkCreated(created string, now time.Time) (time.Time, voicecall.ResultCode, string) {
	var expiry time.Time
	fresh := false
	// time.Parse would accept fractional seconds the layout does not have.
	if len(created) != len(aksk.CreatedLayout) {
		return time.Time{}, voicecall.CodeTimeOutLimit, "Created must have the layout 2006-01-02T15:04:05Z"
	}
	for _, loc := range s.cfg.locations {
		t, err := time.ParseInLocation(aksk.CreatedLayout, created, loc)
		if err != nil {
			return time.Time{}, voicecall.CodeTimeOutLimit, "Created must have the layout 2006-01-02T15:04:05Z"
		}
		if d := now.Sub(t); d <= s.cfg.skew && d >= -s.cfg.skew {
			fresh = true
		}
		if e := t.Add(s.cfg.skew); e.After(expiry) {
			expiry = e
		}
	}
	if !fresh {
		return time.Time{}, voicecall.CodeTimeOutLimit, fmt.Sprintf("Created is more than %s away from the server's clock", s.cfg.skew)
	}
	return expiry, "", ""
}

// useNonce records a nonce and reports whether it was fresh.
func (s *Server) useNonce(appKey, nonce string, now, expiry time.Time) bool {
	key := appKey + "\x00" + nonce
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.nonces[key]; ok && now.Before(e) {
		return false
	}
	s.nonces[key] = expiry
	if len(s.nonces) > 2*s.noncePrune+1024 {
		for k, e := range s.nonces {
			if !now.Before(e) {
				delete(s.nonces, k)
			}
		}
		s.noncePrune = len(s.nonces)
	}
	return true
}
