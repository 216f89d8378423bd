package redact

import (
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestScrub: each form an echo may give a value is redacted, and the
// text around it is kept.
func TestScrub(t *testing.T) {
	t.Parallel()
	const (
		callee = "+8613512345678"
		code   = "90817263"
		digest = "q+Vx/9Lw0=="
		nonce  = "6d0a+b/c"
		secret = "s3cr=t+key"
	)
	values := []string{callee, "8613512345678", code, digest, nonce, secret, ""}
	tests := []struct{ name, in, want string }{
		{"as given", "to +8613512345678 code 90817263", "to [redacted] code [redacted]"},
		{"national format", `"callee":"13512345678"`, `"callee":"[redacted]"`},
		{"national with trunk 0", "dial 013512345678 now", "dial [redacted] now"},
		{"international prefix 00", "0086 135 1234 5678", "[redacted]"},
		{"spaced number", "callee 135 1234 5678.", "callee [redacted]."},
		{"dashed number", "callee +86-135-1234-5678;", "callee +[redacted];"},
		{"spaced code", "code: 9 0 8 1 7 2 6 3 end", "code: [redacted] end"},
		{"dashed code", "9-0-8-1-7-2-6-3", "[redacted]"},
		{"dotted code", "9.0.8.1.7.2.6.3", "[redacted]"},
		{"no-break spaces", "9\u00a00\u00a08\u00a01\u00a07\u00a02\u00a06\u00a03", "[redacted]"},
		{"percent-escaped code", "9%200%208%201%207%202%206%203", "[redacted]"},
		{"percent-escaped number", "callee=%2B8613512345678&x=1", "callee=[redacted]&x=1"},
		{"digest %2B", "d=" + url.QueryEscape(digest) + "&n=1", "d=[redacted]&n=1"},
		{"digest lower-case %2b", "d=q%2bVx%2f9Lw0%3d%3d", "d=[redacted]"},
		{"digest &#43;", "<p>q&#43;Vx&#47;9Lw0&#61;&#61;</p>", "<p>[redacted]</p>"},
		{"digest &#x2B;", "q&#x2B;Vx/9Lw0==", "[redacted]"},
		{"digest &plus;", "q&plus;Vx&sol;9Lw0&equals;&equals;", "[redacted]"},
		{"digest JSON \\u002b", `"q\u002bVx\/9Lw0=="`, `"[redacted]"`},
		{"digest escaped twice", "q%252BVx%252F9Lw0%253D%253D", "[redacted]"},
		{"digest HTML of percent", "q&#37;2BVx/9Lw0==", "[redacted]"},
		{"nonce HTML-escaped", html.EscapeString("n=6d0a+b/c"), "n=[redacted]"},
		{"nonce &amp;#43;", "6d0a&amp;#43;b/c", "[redacted]"},
		{"secret percent-escaped", url.QueryEscape(secret), "[redacted]"},
		{"secret in a query-escaped body", url.QueryEscape(`{"secret":"s3cr=t+key"}`), url.QueryEscape(`{"secret":"`) + "[redacted]" + url.QueryEscape(`"}`)},
		{"two values touching", code + callee, "[redacted]"},
		{"unrelated digits kept", "resultcode 1010002 at 2026-01-27", "resultcode 1010002 at 2026-01-27"},
		{"unrelated escapes kept", "a%20b &amp; c", "a%20b &amp; c"},
		{"broken escapes kept", "%2 &#; &#xZZ; \\u12", "%2 &#; &#xZZ; \\u12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, Scrub(tt.in, values))
		})
	}
}

// TestScrubShortValues: a short number is not cut to a national form
// (what would be left is too short to tell), and values shorter than 4
// digits are matched exactly only.
func TestScrubShortValues(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "x 1 2 3 y", Scrub("x 1 2 3 y", []string{"123"}))
	assert.Equal(t, "x [redacted] y", Scrub("x 123 y", []string{"123"}))
	assert.Equal(t, "call 86123456", Scrub("call 86123456", []string{"+12345678"}), "an 8-digit number has no national form")
	assert.Equal(t, "text", Scrub("text", nil))
}

// FuzzScrub: Scrub never panics, and a value made of the characters of
// numbers, codes, digests and nonces never remains in the text.
func FuzzScrub(f *testing.F) {
	f.Add("to +8613512345678", "+8613512345678")
	f.Add("q%2BVx&#47;9", "q+Vx/9")
	f.Add("9 0 8 1", "9081")
	f.Add("&#x110000; %ff \\ud800 &amp;#43;", "x")
	f.Fuzz(func(t *testing.T, text, value string) {
		in := text + value + text
		out := Scrub(in, []string{value})
		if value == "" || strings.Contains(Redacted, value) || strings.Trim(value, "+/=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return
		}
		if strings.Contains(out, value) {
			t.Fatalf("Scrub(%q) = %q keeps %q", in, out, value)
		}
	})
}
