package redact

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Redacted is what [Scrub] writes in place of a value.
const Redacted = "[redacted]"

// Scrub returns text with every occurrence of the values replaced by
// [Redacted]: text from the network that may echo a request back (a
// proxy's error page, a gateway's answer) before it goes into an error
// or a log. Besides the values as given, it finds them:
//
//   - percent-, HTML- and JSON-escaped, up to three layers deep ("+" as "%2B",
//     "%252B", "&#43;", "&#x2b;", "&plus;" or "\u002b");
//   - for a value made of digits (a code, or a number with or without
//     its "+"), with spaces or punctuation between the digits
//     ("9 0 8 1", "9-0-8-1", "135 1234 5678"): the whole run of digits
//     that contains it is replaced;
//   - for a number of 10 digits or more, without its country code
//     (national format, "13512345678" for "+8613512345678", with or
//     without a trunk "0").
//
// Empty values are ignored. Scrub costs a few passes over text; it is
// meant for error paths and bounded text.
func Scrub(text string, values []string) string {
	var buf [16]string
	digits := buf[:0] // the digit values, and the national forms of numbers
	any := false
	for _, v := range values {
		if v == "" {
			continue
		}
		any = true
		if d, ok := digitsOf(v); ok {
			digits = append(digits, d)
			if len(d) >= 10 {
				// A country code has 1 to 3 digits: what follows the
				// first 3 is in every national form of the number.
				digits = append(digits, d[3:])
			}
		}
	}
	if !any {
		return text
	}
	var spans []span
	v := view{s: text}
	for pass := 0; ; pass++ {
		spans = v.exactMatches(values, spans)
		spans = v.digitMatches(digits, spans)
		if pass == maxDecodePasses || !hasEscape(v.s) {
			break
		}
		v = v.decode()
	}
	return replaceSpans(text, spans)
}

// maxDecodePasses is how many layers of escaping Scrub looks through.
const maxDecodePasses = 3

// digitsOf returns v's digits when v is at least 4 ASCII digits with an
// optional leading "+".
func digitsOf(v string) (string, bool) {
	if len(v) > 0 && v[0] == '+' {
		v = v[1:]
	}
	if len(v) < 4 {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return "", false
		}
	}
	return v, true
}

// span is a byte range [start, end) of the original text.
type span struct{ start, end int }

// view is the text with some layers of escapes decoded: s[i] came from
// the original text's bytes [start[i], end[i]); start and end are nil
// for the original text itself.
type view struct {
	s          string
	start, end []int
}

// span returns the original range of v.s[i:j].
func (v *view) span(i, j int) span {
	if v.start == nil {
		return span{i, j}
	}
	return span{v.start[i], v.end[j-1]}
}

// exactMatches appends the original ranges of every occurrence of the
// values in v.
func (v *view) exactMatches(values []string, spans []span) []span {
	for _, val := range values {
		if val == "" {
			continue
		}
		for off := 0; off < len(v.s); {
			k := strings.Index(v.s[off:], val)
			if k < 0 {
				break
			}
			spans = append(spans, v.span(off+k, off+k+len(val)))
			off += k + 1
		}
	}
	return spans
}

// maxDigitGap is the most separator bytes between two digits of one run.
const maxDigitGap = 3

// isDigitSeparator reports whether b may stand between the digits of one
// value: ASCII space and punctuation, and the bytes of U+00A0 (no-break
// space).
func isDigitSeparator(b byte) bool {
	switch {
	case b == ' ' || b == '\t' || b == 0xC2 || b == 0xA0:
		return true
	case b >= '!' && b <= '/', b >= ':' && b <= '@', b >= '[' && b <= '`', b >= '{' && b <= '~':
		return true
	}
	return false
}

// digitMatches appends the original range of every run of digits (digits
// with at most maxDigitGap separators between them) whose digits contain
// one of the values.
func (v *view) digitMatches(values []string, spans []span) []span {
	if len(values) == 0 {
		return spans
	}
	var buf [64]byte
	run := buf[:0] // the digits of the current run
	first, last := -1, -1
	for i := 0; i <= len(v.s); i++ {
		if i < len(v.s) {
			c := v.s[i]
			if c >= '0' && c <= '9' {
				if first < 0 {
					first = i
				}
				run = append(run, c)
				last = i
				continue
			}
			if first < 0 || isDigitSeparator(c) && i-last <= maxDigitGap {
				continue // no run, or one that may go on
			}
		}
		if first >= 0 {
			for _, d := range values {
				if strings.Contains(string(run), d) {
					spans = append(spans, v.span(first, last+1))
					break
				}
			}
		}
		run, first, last = run[:0], -1, -1
	}
	return spans
}

// hasEscape reports whether s may hold an escape decode would decode.
func hasEscape(s string) bool {
	return strings.ContainsAny(s, "%&\\")
}

// decode returns v with one layer of escapes decoded: %XX, &#NN;,
// &#xHH;, a few named HTML entities and JSON's \uXXXX and \/.
func (v *view) decode() view {
	b := make([]byte, 0, len(v.s))
	out := view{start: make([]int, 0, len(v.s)), end: make([]int, 0, len(v.s))}
	var rb [utf8.UTFMax]byte
	for i := 0; i < len(v.s); {
		p, n := v.s[i:i+1], 1
		if r, k := unescape(v.s[i:]); k > 0 {
			p, n = string(rb[:utf8.EncodeRune(rb[:], r)]), k
		}
		s := v.span(i, i+n)
		for j := 0; j < len(p); j++ {
			b = append(b, p[j])
			out.start = append(out.start, s.start)
			out.end = append(out.end, s.end)
		}
		i += n
	}
	out.s = string(b)
	return out
}

// htmlEntities are the named entities decode knows: those an escaper
// may write for the characters of numbers, codes, digests and nonces.
var htmlEntities = map[string]rune{
	"amp": '&', "lt": '<', "gt": '>', "quot": '"', "apos": '\'', "plus": '+', "sol": '/', "equals": '=',
	"nbsp": '\u00a0', "num": '#', "percnt": '%', "colon": ':', "comma": ',', "period": '.', "lpar": '(',
	"rpar": ')', "hyphen": '-', "dash": '-', "lowbar": '_', "bsol": '\\', "semi": ';',
}

// unescape decodes the escape at the start of b, if there is one, and
// returns the rune and the escape's length (0 when b starts with none).
func unescape(b string) (rune, int) {
	switch {
	case len(b) >= 3 && b[0] == '%' && isHex(b[1]) && isHex(b[2]):
		// One byte: a multi-byte character decodes to its bytes one by
		// one, each a rune below 0x100 only if ASCII.
		x, _ := strconv.ParseUint(b[1:3], 16, 8)
		if x >= utf8.RuneSelf {
			return 0, 0 // leave non-ASCII percent escapes alone
		}
		return rune(x), 3
	case len(b) >= 6 && b[0] == '\\' && b[1] == 'u' && isHex(b[2]) && isHex(b[3]) && isHex(b[4]) && isHex(b[5]):
		x, _ := strconv.ParseUint(b[2:6], 16, 32)
		if r := rune(x); utf8.ValidRune(r) {
			return r, 6
		}
	case len(b) >= 2 && b[0] == '\\' && b[1] == '/':
		return '/', 2
	case len(b) >= 3 && b[0] == '&':
		end := strings.IndexByte(b[:min(len(b), 12)], ';')
		if end < 2 {
			return 0, 0
		}
		name := b[1:end]
		if name[0] == '#' {
			num, base := name[1:], 10
			if len(num) > 0 && (num[0] == 'x' || num[0] == 'X') {
				num, base = num[1:], 16
			}
			x, err := strconv.ParseUint(num, base, 32)
			if r := rune(x); err == nil && utf8.ValidRune(r) {
				return r, end + 1
			}
			return 0, 0
		}
		if r, ok := htmlEntities[name]; ok {
			return r, end + 1
		}
	}
	return 0, 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// replaceSpans returns text with the spans (merged where they overlap or
// touch) replaced by Redacted.
func replaceSpans(text string, spans []span) string {
	if len(spans) == 0 {
		return text
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	out := make([]byte, 0, len(text))
	pos := 0
	cur := spans[0]
	for _, s := range spans[1:] {
		if s.start <= cur.end {
			cur.end = max(cur.end, s.end)
			continue
		}
		out = append(append(out, text[pos:cur.start]...), Redacted...)
		pos, cur = cur.end, s
	}
	out = append(append(out, text[pos:cur.start]...), Redacted...)
	return string(append(out, text[cur.end:]...))
}
