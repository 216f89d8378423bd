package voicetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits Huawei's pages document for the request bodies.
const (
	minNumberLen   = 4
	maxNumberLen   = 31
	maxToneLen     = 128
	maxCodeLen     = 8
	maxTimes       = 9
	maxURLLen      = 128 // of the Base64 form
	maxUserDataLen = 256
)

// decodeBody decodes and checks a callVerify body, field by field in the
// order of the platform's documentation, and stops at the first problem:
// it returns the decoded fields and, on a problem, the field's wire name
// and what is wrong (never its value).
func decodeBody(raw []byte) (CallVerifyBody, string, string) {
	var b CallVerifyBody
	d := objectDecoder(raw, "")
	d.number("displayNbr", &b.DisplayNbr, true)
	d.number("calleeNbr", &b.CalleeNbr, true)
	var lang *int
	if d.integer("languageType", &lang) {
		switch {
		case lang == nil:
			d.fail("languageType", "is required")
		case *lang <= 0:
			d.fail("languageType", "must be a positive integer (2 for Chinese)")
		default:
			b.LanguageType = *lang
		}
	}
	d.tone("preTone", &b.PreTone, true)
	if d.str("verifyCode", &b.VerifyCode) {
		switch {
		case b.VerifyCode == "":
			d.fail("verifyCode", "is required")
		case len(b.VerifyCode) > maxCodeLen || strings.Trim(b.VerifyCode, "0123456789") != "":
			d.fail("verifyCode", "must be 1-8 digits 0-9")
		}
	}
	d.tone("posTone", &b.PosTone, false)
	if d.integer("times", &b.Times) && b.Times != nil && (*b.Times < 0 || *b.Times > maxTimes) {
		d.fail("times", "must be 0-9")
	}
	d.pushURL("statusUrl", &b.StatusURL)
	d.pushURL("feeUrl", &b.FeeURL)
	d.boolString("returnIdlePort", &b.ReturnIdlePort)
	d.userData(&b.UserData)
	d.number("bindNbr", &b.BindNbr, false)
	return b, d.field, d.problem
}

// decoder decodes a JSON object's members one by one and keeps the first
// problem it finds: once it has one, every later step decodes nothing,
// so that a body is decoded up to its first problem only. Each step
// reports whether it decoded its member (absent or null counts).
type decoder struct {
	fields map[string]json.RawMessage
	// at is the wire name of the object itself ("" for a request body,
	// e.g. "playInfoList[0]" for an item): problems are reported at
	// at + "." + the member's name.
	at string
	// field and problem are the first problem: the wire name of what is
	// wrong, and what is wrong (never the value).
	field, problem string
}

// objectDecoder returns the decoder of raw, a JSON object found at at;
// when raw is not an object, the decoder has that problem.
func objectDecoder(raw []byte, at string) *decoder {
	d := &decoder{at: at}
	// JSON's white space only: bytes.TrimSpace would also take a form
	// feed or a vertical tab, which no JSON decoder accepts.
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(raw, &d.fields) != nil {
		if at == "" {
			at = "body"
		}
		d.field, d.problem = at, "must be a JSON object"
	}
	return d
}

// ok reports whether no problem was found yet.
func (d *decoder) ok() bool { return d.problem == "" }

// fail records problem at member name ("" for the object itself) if it
// is the first.
func (d *decoder) fail(name, problem string) {
	if !d.ok() || problem == "" {
		return
	}
	switch {
	case d.at == "":
		d.field = name
	case name == "":
		d.field = d.at
	default:
		d.field = d.at + "." + name
	}
	d.problem = problem
}

// adopt takes the first problem of sub, a decoder of one of d's members.
func (d *decoder) adopt(sub *decoder) {
	if d.ok() {
		d.field, d.problem = sub.field, sub.problem
	}
}

// raw returns a member's JSON, or nil when it is absent or null.
func (d *decoder) raw(name string) json.RawMessage {
	r := d.fields[name]
	if r == nil || string(r) == "null" {
		return nil
	}
	return r
}

// readString decodes r, a member's JSON or nil, into dst.
func readString(r json.RawMessage, dst *string) bool {
	return r == nil || (r[0] == '"' && json.Unmarshal(r, dst) == nil)
}

// str decodes an optional string member.
func (d *decoder) str(name string, dst *string) bool {
	if !d.ok() {
		return false
	}
	if !readString(d.raw(name), dst) {
		d.fail(name, "must be a string")
		return false
	}
	return true
}

// boolString decodes an optional boolean sent as the platform's strings
// "true" or "false" (a JSON true is refused: the platform's models are
// strings).
func (d *decoder) boolString(name string, dst *string) {
	if d.ok() && (!readString(d.raw(name), dst) || (*dst != "" && *dst != "true" && *dst != "false")) {
		d.fail(name, `must be the string "true" or "false"`)
	}
}

// enum decodes an optional string member that must be one of values.
func (d *decoder) enum(name string, dst *string, values ...string) {
	if d.str(name, dst) && *dst != "" && !slices.Contains(values, *dst) {
		d.fail(name, "must be one of "+strings.Join(values, ", "))
	}
}

// userData decodes the optional userData member into dst and checks it
// against the platform's rule for it.
func (d *decoder) userData(dst *string) {
	if d.str("userData", dst) {
		d.fail("userData", userDataProblem(*dst))
	}
}

// integer decodes an optional integer member (a JSON number without
// fraction or exponent).
func (d *decoder) integer(name string, dst **int) bool {
	if !d.ok() {
		return false
	}
	r := d.raw(name)
	if r == nil {
		return true
	}
	n, err := strconv.Atoi(string(r))
	if err != nil {
		d.fail(name, "must be an integer")
		return false
	}
	*dst = &n
	return true
}

func (d *decoder) number(name string, dst *string, required bool) {
	if !d.str(name, dst) {
		return
	}
	switch s := *dst; {
	case s == "" && required:
		d.fail(name, "is required")
	case s == "":
	case len(s) < minNumberLen || len(s) > maxNumberLen || s[0] != '+' || strings.Trim(s[1:], "0123456789") != "":
		d.fail(name, `must be "+" followed by digits, 4-31 characters in all`)
	}
}

func (d *decoder) tone(name string, dst *string, required bool) {
	if !d.str(name, dst) {
		return
	}
	switch {
	case *dst == "" && required:
		d.fail(name, "is required")
	case utf8.RuneCountInString(*dst) > maxToneLen:
		d.fail(name, "must be at most 128 characters")
	}
}

// pushURL decodes statusUrl or feeUrl: the standard Base64 (with padding)
// of an absolute http or https URL, at most 128 characters encoded.
func (d *decoder) pushURL(name string, dst *string) {
	var enc string
	if !d.str(name, &enc) || enc == "" {
		return
	}
	if p := pushURLProblem(enc, dst); p != "" {
		d.fail(name, p)
	}
}

// pushURLProblem decodes enc, a non-empty statusUrl or feeUrl, into dst.
func pushURLProblem(enc string, dst *string) string {
	if len(enc) > maxURLLen {
		return "must be at most 128 characters"
	}
	if strings.ContainsAny(enc, "\r\n") {
		return "must be standard Base64 without line breaks"
	}
	dec, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil {
		return "must be the standard Base64 (RFC 4648 §4, with padding) of a URL"
	}
	u, err := url.Parse(string(dec))
	if err != nil || !utf8.Valid(dec) || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be the Base64 of an absolute http or https URL"
	}
	*dst = string(dec)
	return ""
}

// userDataProblem follows Huawei's rule for userData: at most 256
// characters, no "{" or "}", no Chinese characters unless Base64-encoded.
func userDataProblem(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if utf8.RuneCountInString(s) > maxUserDataLen {
		return "must be at most 256 characters"
	}
	for _, r := range s {
		switch {
		case r == '{' || r == '}':
			return `must not contain "{" or "}"`
		case unicode.Is(unicode.Han, r):
			return "must not contain Chinese characters (Base64-encode them)"
		}
	}
	return ""
}
