package voicetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
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
	d, ok := objectDecoder(raw)
	if !ok {
		return b, "body", "must be a JSON object"
	}

	if p := d.number("displayNbr", &b.DisplayNbr, true); p != "" {
		return b, "displayNbr", p
	}
	if p := d.number("calleeNbr", &b.CalleeNbr, true); p != "" {
		return b, "calleeNbr", p
	}
	var lang *int
	if p := d.integer("languageType", &lang); p != "" {
		return b, "languageType", p
	}
	switch {
	case lang == nil:
		return b, "languageType", "is required"
	case *lang <= 0:
		return b, "languageType", "must be a positive integer (2 for Chinese)"
	}
	b.LanguageType = *lang
	if p := d.tone("preTone", &b.PreTone, true); p != "" {
		return b, "preTone", p
	}
	if p := d.str("verifyCode", &b.VerifyCode); p != "" {
		return b, "verifyCode", p
	}
	switch {
	case b.VerifyCode == "":
		return b, "verifyCode", "is required"
	case len(b.VerifyCode) > maxCodeLen || strings.Trim(b.VerifyCode, "0123456789") != "":
		return b, "verifyCode", "must be 1-8 digits 0-9"
	}
	if p := d.tone("posTone", &b.PosTone, false); p != "" {
		return b, "posTone", p
	}
	if p := d.integer("times", &b.Times); p != "" {
		return b, "times", p
	}
	if b.Times != nil && (*b.Times < 0 || *b.Times > maxTimes) {
		return b, "times", "must be 0-9"
	}
	if p := d.pushURL("statusUrl", &b.StatusURL); p != "" {
		return b, "statusUrl", p
	}
	if p := d.pushURL("feeUrl", &b.FeeURL); p != "" {
		return b, "feeUrl", p
	}
	if p := d.boolString("returnIdlePort", &b.ReturnIdlePort); p != "" {
		return b, "returnIdlePort", p
	}
	if p := d.userData(&b.UserData); p != "" {
		return b, "userData", p
	}
	if p := d.number("bindNbr", &b.BindNbr, false); p != "" {
		return b, "bindNbr", p
	}
	return b, "", ""
}

type decoder struct{ fields map[string]json.RawMessage }

// objectDecoder decodes raw as a JSON object.
func objectDecoder(raw []byte) (decoder, bool) {
	var fields map[string]json.RawMessage
	// JSON's white space only: bytes.TrimSpace would also take a form
	// feed or a vertical tab, which no JSON decoder accepts.
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(raw, &fields) != nil {
		return decoder{}, false
	}
	return decoder{fields: fields}, true
}

// boolString decodes an optional boolean sent as the platform's strings
// "true" or "false" (a JSON true is refused: the platform's models are
// strings).
func (d decoder) boolString(name string, dst *string) string {
	if p := d.str(name, dst); p != "" {
		return `must be the string "true" or "false"`
	}
	if *dst != "" && *dst != "true" && *dst != "false" {
		return `must be the string "true" or "false"`
	}
	return ""
}

// enum decodes an optional string field that must be one of values.
func (d decoder) enum(name string, dst *string, values ...string) string {
	if p := d.str(name, dst); p != "" {
		return p
	}
	if *dst == "" {
		return ""
	}
	for _, v := range values {
		if *dst == v {
			return ""
		}
	}
	return "must be one of " + strings.Join(values, ", ")
}

// raw returns a field's JSON, or nil when it is absent or null.
func (d decoder) raw(name string) json.RawMessage {
	r := d.fields[name]
	if r == nil || string(r) == "null" {
		return nil
	}
	return r
}

// str decodes an optional string field.
func (d decoder) str(name string, dst *string) string {
	r := d.raw(name)
	if r == nil {
		return ""
	}
	if r[0] != '"' || json.Unmarshal(r, dst) != nil {
		return "must be a string"
	}
	return ""
}

// userData decodes the optional userData member into dst and checks it
// against the platform's rule for it.
func (d decoder) userData(dst *string) string {
	if p := d.str("userData", dst); p != "" {
		return p
	}
	return userDataProblem(*dst)
}

// integer decodes an optional integer field (a JSON number without
// fraction or exponent).
func (d decoder) integer(name string, dst **int) string {
	r := d.raw(name)
	if r == nil {
		return ""
	}
	n, err := strconv.Atoi(string(r))
	if err != nil {
		return "must be an integer"
	}
	*dst = &n
	return ""
}

func (d decoder) number(name string, dst *string, required bool) string {
	if p := d.str(name, dst); p != "" {
		return p
	}
	s := *dst
	switch {
	case s == "" && required:
		return "is required"
	case s == "":
		return ""
	case len(s) < minNumberLen || len(s) > maxNumberLen || s[0] != '+' || strings.Trim(s[1:], "0123456789") != "":
		return `must be "+" followed by digits, 4-31 characters in all`
	}
	return ""
}

func (d decoder) tone(name string, dst *string, required bool) string {
	if p := d.str(name, dst); p != "" {
		return p
	}
	switch {
	case *dst == "" && required:
		return "is required"
	case utf8.RuneCountInString(*dst) > maxToneLen:
		return "must be at most 128 characters"
	}
	return ""
}

// pushURL decodes statusUrl or feeUrl: the standard Base64 (with padding)
// of an absolute http or https URL, at most 128 characters encoded.
func (d decoder) pushURL(name string, dst *string) string {
	var enc string
	if p := d.str(name, &enc); p != "" {
		return p
	}
	if enc == "" {
		return ""
	}
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
