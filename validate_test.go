package voicecall

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUserDataRules(t *testing.T) {
	t.Parallel()
	for s, ok := range map[string]bool{
		"":                       true,
		"order-42":               true,
		"José":                   true,
		"naïve café ü ß":         true,
		"emoji 🙂":                true,
		"a{b":                    false,
		"}":                      false,
		"订单":                     false,
		"mixed 中":                false,
		strings.Repeat("x", 256): true,
		strings.Repeat("x", 257): false,
	} {
		assert.Equal(t, ok, userDataProblem(s) == "", "%q: %s", s, userDataProblem(s))
	}
	assert.Contains(t, userDataProblem("订单"), "EncodeUserData", "the error names the way out")
}

func TestEncodeUserData(t *testing.T) {
	t.Parallel()
	enc := EncodeUserData("订单 42")
	assert.Empty(t, userDataProblem(enc), "the encoded form is valid userData")
	dec, err := DecodeUserData(enc)
	require.NoError(t, err)
	assert.Equal(t, "订单 42", dec)
	_, err = DecodeUserData("not base64!")
	assert.ErrorContains(t, err, "voicecall: decode userData")
}

func TestNumberForms(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"+8613500000001", "8613500000001"}, numberForms("+8613500000001", ""))
	assert.Empty(t, numberForms(""))
}

func TestFieldErrors(t *testing.T) {
	t.Parallel()
	var fs fieldErrors
	fs.add("a", "")
	assert.NoError(t, fs.err("Op"), "empty problems are no problems")
	fs.add("b", "is bad")
	fs.add("c", "is worse")
	err := fs.err("Op")
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "voicecall: Op: invalid b: is bad; c: is worse", err.Error())
}
