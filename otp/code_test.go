package otp

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func be32(vs ...uint32) *bytes.Reader {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return bytes.NewReader(b)
}

func TestNewCodeRejectsTheBiasedTail(t *testing.T) {
	t.Parallel()
	// 2^32 = 4294967296; the largest multiple of 10^6 below it is
	// 4294000000: values from there up would favour codes 000000-967295.
	code, err := newCode(be32(4294000000, 4294967295, 4293999999), 6)
	require.NoError(t, err)
	assert.Equal(t, "999999", code, "the first two draws are rejected")
	code, err = newCode(be32(42), 6)
	require.NoError(t, err)
	assert.Equal(t, "000042", code, "zero-padded")
	code, err = newCode(be32(4294960000-1), 4)
	require.NoError(t, err)
	assert.Equal(t, "9999", code)
	_, err = newCode(be32(4294967295), 6)
	assert.Error(t, err, "a source that runs dry")
}

func TestNewCodeLengths(t *testing.T) {
	t.Parallel()
	for n := MinCodeLength; n <= MaxCodeLength; n++ {
		c, err := NewCode(n)
		require.NoError(t, err)
		assert.Len(t, c, n)
		assert.True(t, allDigitsT(c))
	}
	for _, n := range []int{0, 3, 9} {
		_, err := NewCode(n)
		assert.Error(t, err, "%d", n)
	}
}

func allDigitsT(s string) bool { return validNumber("+000" + s) }

// TestNewCodeDigitsAreUniform: a chi-square test of each digit over
// 20,000 codes; the bound (37.7 for 9 degrees of freedom) fails a fair
// source once in 10^5 runs per position.
func TestNewCodeDigitsAreUniform(t *testing.T) {
	t.Parallel()
	const n = 20_000
	var counts [6][10]int
	for range n {
		c, err := NewCode(6)
		require.NoError(t, err)
		for i := range c {
			counts[i][c[i]-'0']++
		}
	}
	for pos, cs := range counts {
		var chi float64
		for _, o := range cs {
			d := float64(o) - n/10.0
			chi += d * d / (n / 10.0)
		}
		assert.Less(t, chi, 37.7, "position %d: %v", pos, cs)
	}
}

func TestKeyedSeparatesKinds(t *testing.T) {
	t.Parallel()
	k := keyed{key: []byte("k")}
	assert.NotEqual(t, k.id("number", "+8613500000001"), k.id("client", "+8613500000001"))
	assert.NotEqual(t, k.codeMAC("+861", "23456"), k.codeMAC("+8612", "3456"), "fields are delimited")
	assert.Len(t, k.id("number", "x"), 32)
	assert.NotEqual(t, k.codeMAC("+8613500000001", "123456"), keyed{key: []byte("other")}.codeMAC("+8613500000001", "123456"))
}
