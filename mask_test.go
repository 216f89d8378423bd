package voicecall

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMaskNumber(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"+8613500000001", "**********0001"},
		{"13500000001", "*******0001"},
		{"1234", "****"},
		{"", ""},
		{"+8613500\n0001", "*********0001"},
		{"+861350000\r\n01", "**********  01"},
	} {
		got := MaskNumber(tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
		assert.NotContains(t, got, "\n")
	}
}

func TestSanitizeText(t *testing.T) {
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
		assert.Equal(t, tc.want, SanitizeText(tc.in, tc.max), "%q", tc.in)
	}
	assert.LessOrEqual(t, len(SanitizeText(strings.Repeat("x", 1000), 100)), 100+len("…"))
}
