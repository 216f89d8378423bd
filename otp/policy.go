package otp

import (
	"strings"

	"github.com/voicecall-go/voicecall"
)

// Destination is what a NumberPolicy learned of a number it allows.
type Destination struct {
	// Country is the ISO 3166-1 alpha-2 code of the number's region, such as "CN".
	Country string
	// Range names the block of numbers the guard counts unverified sends by: "+", the
	// country calling code and the first 7 digits of the national significant number
	// (all of it when shorter), such as "+861681234".
	Range string
}

// NumberPolicy decides which destinations may be called. Implementations must be safe
// for concurrent use.
type NumberPolicy interface {
	// Check returns the destination of number ("+" and digits, as the caller gave it), or a
	// *DestinationError whose Err is ErrInvalidNumber or ErrDestinationNotAllowed.
	Check(number string) (Destination, error)
}

// ChinaNumbers is the default [NumberPolicy]: it allows Chinese numbers
// (+86, which the platform calls) of the shapes of mobile and fixed-line
// numbers, and nothing else, without any numbering metadata. The national
// significant number (the digits after 86) must be:
//
//   - a mobile number: 11 digits, 13 to 19 first;
//   - a Beijing fixed line: 10, then 8 digits;
//   - another fixed line: an area code of 2-4 digits starting with 2-9
//     and the subscriber's 7-8 digits, 10 or 11 digits in all; 400
//     (shared cost), 800 (toll free) and 900 (premium rate) are refused.
//
// The module github.com/voicecall-go/voicecall/numberpolicy checks
// numbers against libphonenumber's metadata, by country and type.
type ChinaNumbers struct{}

var _ NumberPolicy = ChinaNumbers{}

// Check implements [NumberPolicy].
func (ChinaNumbers) Check(number string) (Destination, error) {
	invalid := func(reason string) (Destination, error) {
		return Destination{}, &DestinationError{Err: ErrInvalidNumber, Reason: reason}
	}
	refused := func(reason string) (Destination, error) {
		return Destination{}, &DestinationError{Err: ErrDestinationNotAllowed, Reason: reason}
	}
	if !validNumber(number) {
		return invalid(`must be "+" followed by digits, 4-31 characters in all`)
	}
	nsn, ok := strings.CutPrefix(number, "+86")
	if !ok {
		return refused("country calling code not allowed: only +86 (CN)")
	}
	switch {
	case nsn == "":
		return invalid("no national number")
	case nsn[0] == '0':
		return invalid("national number starts with 0 (the trunk prefix) for CN")
	case len(nsn) < 10:
		return invalid("too short for CN")
	case len(nsn) > 11:
		return invalid("too long for CN")
	case nsn[0] == '1':
		switch {
		case nsn[1] >= '3' && len(nsn) == 11: // mobile
		case nsn[1] == '0' && len(nsn) == 10: // Beijing fixed line
		default:
			return invalid("not a mobile or fixed-line number of CN")
		}
	case strings.HasPrefix(nsn, "400"):
		return refused("shared-cost number")
	case strings.HasPrefix(nsn, "800"):
		return refused("toll-free number")
	case strings.HasPrefix(nsn, "900"):
		return refused("premium-rate number")
	}
	return Destination{Country: "CN", Range: "+86" + nsn[:7]}, nil
}

// validNumber applies the platform's rule for calleeNbr: "+" and digits,
// 4-31 characters.
func validNumber(s string) bool {
	if len(s) < voicecall.MinNumberLen || len(s) > voicecall.MaxNumberLen || s[0] != '+' {
		return false
	}
	return allDigits(s[1:])
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
