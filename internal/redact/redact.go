// Package redact makes strings safe to log or print: phone numbers keep
// only their last four digits, and text from the network is bounded and
// stripped of control characters and invalid UTF-8.
package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Phone masks all but the last four characters of a phone number:
// "+8613500000001" becomes "**********0001". Numbers of four characters
// or fewer are masked entirely.
func Phone(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 4 {
		return strings.Repeat("*", n)
	}
	i := len(s)
	for k := 0; k < 4; k++ {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return strings.Repeat("*", n-4) + Text(s[i:], 4)
}

// Text returns s cut to at most max bytes (on a rune boundary, with "…"
// appended when cut), with invalid UTF-8 replaced by U+FFFD and control
// characters (CR and LF included) replaced by spaces, so that text from
// the network cannot forge log lines.
func Text(s string, max int) string {
	var b strings.Builder
	cut := false
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				r = unicode.ReplacementChar
			}
		}
		if unicode.IsControl(r) {
			r = ' '
		}
		if b.Len()+utf8.RuneLen(r) > max {
			cut = true
			break
		}
		b.WriteRune(r)
	}
	if cut {
		b.WriteString("…")
	}
	return b.String()
}
