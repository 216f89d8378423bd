package voicecall

import (
	"encoding/base64"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the fields every API shares, as Huawei's API pages state
// them.
const (
	MinNumberLen      = 4   // shortest phone number, "+" included
	MaxNumberLen      = 31  // longest phone number, "+" included
	MaxToneLen        = 128 // longest audio file name, in characters
	MaxCallbackURLLen = 128 // longest Base64-encoded callback URL
	MaxUserDataLen    = 256 // longest userData, in characters
)

// fieldErrors collects the problems of one request, in field order.
type fieldErrors []FieldError

// add records problem for field unless problem is "".
func (fs *fieldErrors) add(field, problem string) {
	if problem != "" {
		*fs = append(*fs, FieldError{Field: field, Problem: problem})
	}
}

// err returns a [*ValidationError] for op, or nil when there is no
// problem.
func (fs fieldErrors) err(op string) error {
	if len(fs) == 0 {
		return nil
	}
	return newValidationError(op, fs...)
}

// numberProblem checks a phone number: "+" and digits, 4-31 characters
// in all (mobile "+{country}{mobile}", fixed line "+{country}{area code
// without its leading 0}{number}").
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

// toneProblem checks the name of an approved audio file: 1-128
// characters of valid UTF-8.
func toneProblem(s string, required bool) string {
	switch {
	case s == "" && required:
		return "is required"
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(s) > MaxToneLen:
		return "must be at most 128 characters"
	}
	return ""
}

// callbackURLProblem checks a statusUrl or feeUrl given in plain form:
// an absolute http or https URL whose standard Base64 form (what is sent)
// is at most 128 characters.
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

// encodeCallbackURL returns the standard Base64 of a callback URL, or ""
// for "".
func encodeCallbackURL(s string) string {
	if s == "" {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(s))
}

// userDataProblem returns why s cannot be sent as userData, or "" if it
// can. Huawei's API pages allow at most 256 characters and forbid "{",
// "}" and Chinese characters that are not Base64-encoded
// ([EncodeUserData] does that); every other character is accepted
// (s must be valid UTF-8).
func userDataProblem(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if utf8.RuneCountInString(s) > MaxUserDataLen {
		return "must be at most 256 characters"
	}
	for _, r := range s {
		switch {
		case r == '{' || r == '}':
			return `must not contain "{" or "}"`
		case unicode.Is(unicode.Han, r):
			return "must not contain Chinese characters (Base64-encode the value with EncodeUserData)"
		}
	}
	return ""
}

// EncodeUserData returns the standard Base64 of s, the form Huawei's
// pages ask for when userData would carry Chinese characters. The
// platform echoes userData verbatim: decode it in your notification
// callbacks with [DecodeUserData]. The result is 4/3 as long as s in
// bytes, so s may be at most 192 bytes.
func EncodeUserData(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// DecodeUserData reverses [EncodeUserData].
func DecodeUserData(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", errf("decode userData: not standard Base64")
	}
	return string(b), nil
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// boolString is the platform's form of a boolean: "true" or "false".
func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// numberForms returns the non-empty numbers with and without their
// leading "+", for scrubbing echoes.
func numberForms(numbers ...string) []string {
	var out []string
	for _, n := range numbers {
		if n != "" {
			out = append(out, n, strings.TrimPrefix(n, "+"))
		}
	}
	return out
}
