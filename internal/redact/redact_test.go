package redact

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPhone(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"+8613500000001": "**********0001",
		"+86135":         "**6135",
		"12345":          "*2345",
		"1234":           "****",
		"":               "",
		"+86１３5000":      "*****5000",
		"+8613500\n0001": "*********0001",
	} {
		got := Phone(in)
		assert.Equal(t, want, got, "%q", in)
		assert.NotContains(t, got, "\n")
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "plain", Text("plain", 10))
	assert.Equal(t, "a  b", Text("a\r\nb", 10), "CR and LF cannot forge log lines")
	assert.Equal(t, "a\ufffdb", Text("a\xffb", 10))
	assert.Equal(t, "abc…", Text("abcdef", 3))
	assert.Equal(t, "音…", Text("音音", 4), "cut on a rune boundary")
	long := Text(strings.Repeat("x", 10000), 512)
	assert.LessOrEqual(t, len(long), 512+len("…"))
}

// TestTextTable keeps the table of the root package's former SanitizeText
// (now internal: voicetest and the sandbox call Text).
func TestTextTable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 10, "plain"},
		{"a\r\nINFO forged", 64, "a  INFO forged"},
		{"a\xffb", 10, "a\ufffdb"},
		{"abcdef", 3, "abc…"},
		{"音音", 4, "音…"},
	} {
		assert.Equal(t, tc.want, Text(tc.in, tc.max), "%q", tc.in)
	}
	assert.LessOrEqual(t, len(Text(strings.Repeat("x", 1000), 100)), 100+len("…"))
}
