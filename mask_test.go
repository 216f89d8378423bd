package voicecall

import (
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
