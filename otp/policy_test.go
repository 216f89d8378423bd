package otp_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/voicecall-go/voicecall/otp"
)

func TestChinaNumbers(t *testing.T) {
	t.Parallel()
	for number, want := range map[string]string{
		"+8613500000001": "+861350000", // mobile
		"+8619912345678": "+861991234",
		"+8616812345678": "+861681234",
		"+861012345678":  "+861012345", // Beijing fixed line
		"+862112345678":  "+862112345", // Shanghai
		"+8675528000088": "+867552800", // Shenzhen, 8-digit subscriber
		"+865718123456":  "+865718123", // 3-digit area code, 7 digits
		"+869011234567":  "+869011234", // Tacheng (0901)
	} {
		d, err := otp.ChinaNumbers{}.Check(number)
		if assert.NoError(t, err, number) {
			assert.Equal(t, otp.Destination{Country: "CN", Range: want}, d, number)
		}
	}
	for number, want := range map[string]error{
		"+861":                              otp.ErrInvalidNumber,
		"+8612345678901":                    otp.ErrInvalidNumber, // 12x is no mobile block
		"+86101234567":                      otp.ErrInvalidNumber, // 9 digits
		"+86135000000012":                   otp.ErrInvalidNumber,
		"+8600000000000":                    otp.ErrInvalidNumber,
		"+86" + strings.Repeat("0", 27):     otp.ErrInvalidNumber,
		"+8690012345678":                    otp.ErrDestinationNotAllowed,
		"+868001234567":                     otp.ErrDestinationNotAllowed,
		"+864001234567":                     otp.ErrDestinationNotAllowed,
		"+33612345678":                      otp.ErrDestinationNotAllowed,
		"+8613500000001 ":                   otp.ErrInvalidNumber,
		"+86\u0661\u0663500000001":          otp.ErrInvalidNumber,
		"+" + strings.Repeat("86", 15) + "": otp.ErrInvalidNumber,
	} {
		_, err := otp.ChinaNumbers{}.Check(number)
		assert.ErrorIs(t, err, want, "%q", number)
	}
}

func TestDestinationError(t *testing.T) {
	t.Parallel()
	err := error(&otp.DestinationError{Err: otp.ErrDestinationNotAllowed, Reason: "premium-rate number"})
	assert.Equal(t, "otp: destination not allowed: premium-rate number", err.Error())
	assert.ErrorIs(t, err, otp.ErrDestinationNotAllowed)
	assert.NotErrorIs(t, err, otp.ErrInvalidNumber)
	err = &otp.DestinationError{Err: otp.ErrInvalidNumber, Reason: "too long for CN"}
	assert.Equal(t, "otp: invalid phone number: too long for CN", err.Error())
}
