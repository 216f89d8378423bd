// Package numberpolicy decides which telephone numbers a voice
// verification code may be sent to, with libphonenumber's metadata
// (github.com/nyaruka/phonenumbers, a Go port of Google's
// libphonenumber). It implements [otp.NumberPolicy]:
//
//	numbers, err := numberpolicy.New(numberpolicy.Config{}) // CN only, toll-fraud types refused
//	lc, err := otp.New(otp.Config{..., Numbers: numbers})
//
// A number passes when it is all of:
//
//   - "+" and digits, in E.164 form: the country calling code, then the
//     national significant number, with no national (trunk) prefix, no
//     spaces and no extension;
//   - a valid number of its region: its country calling code is one the
//     metadata knows (as a whole: +861 is not +86), its length is one its
//     region uses, and it lies in one of the region's number ranges;
//   - of a region in [Config].Countries (default CN);
//   - of a type in [Config].AllowTypes (default [DefaultTypes]: fixed line,
//     mobile, fixed line or mobile, toll-free and voicemail). Premium-rate,
//     shared-cost, UAN, VoIP, personal and pager numbers are refused by
//     default, numbers of no known type always (they are invalid): toll
//     fraud calls such numbers because part of what the caller pays goes
//     to whoever holds them.
//
// A refusal is an [*otp.DestinationError] whose Err is
// [otp.ErrInvalidNumber] (not a valid telephone number) or
// [otp.ErrDestinationNotAllowed] (a valid number the policy refuses), and
// whose Reason names why without the number: "too long for CN", "country
// FR not allowed", "premium-rate number".
//
// Non-geographic numbers (international networks such as +800, +870 or
// the satellite codes +881 and +882) belong to no country and are always
// refused.
//
// # Cost
//
// The metadata of every region is parsed when the program starts (the
// package's init), not at the first Check; the regular expressions of a
// region are compiled at its first use and cached for the life of the
// process. A [Policy] is immutable and safe for concurrent use.
package numberpolicy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/voicecall-go/voicecall/otp"
)

// Type is the type of a telephone number, as libphonenumber's metadata
// classifies it.
type Type int

// Number types. Their String is the name a [Config] error or a refusal
// uses.
const (
	FixedLine         Type = iota + 1 // a geographic fixed line
	Mobile                            // a mobile phone
	FixedLineOrMobile                 // a region where the two cannot be told apart by the number (US, CA)
	TollFree                          // free to the caller
	PremiumRate                       // the caller pays a high rate, part of which goes to the number's holder
	SharedCost                        // the cost is shared between caller and holder; above a normal call
	VoIP                              // a voice-over-IP service, often obtained online without identity checks
	PersonalNumber                    // a "follow-me" number routed to another number, at a rate of its own
	Pager                             // a pager; nobody can hear a code read out
	UAN                               // a universal access (company) number, routed onwards at a rate of its own
	Voicemail                         // a voicemail access number
)

var typeNames = [...]string{
	FixedLine:         "fixed-line",
	Mobile:            "mobile",
	FixedLineOrMobile: "fixed-line-or-mobile",
	TollFree:          "toll-free",
	PremiumRate:       "premium-rate",
	SharedCost:        "shared-cost",
	VoIP:              "voip",
	PersonalNumber:    "personal",
	Pager:             "pager",
	UAN:               "uan",
	Voicemail:         "voicemail",
}

// String returns the type's name: "mobile", "premium-rate"...
func (t Type) String() string {
	if t.known() {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

func (t Type) known() bool { return t >= FixedLine && t <= Voicemail }

// typeOf maps libphonenumber's type to a Type; 0 for UNKNOWN.
func typeOf(t phonenumbers.PhoneNumberType) Type {
	switch t {
	case phonenumbers.FIXED_LINE:
		return FixedLine
	case phonenumbers.MOBILE:
		return Mobile
	case phonenumbers.FIXED_LINE_OR_MOBILE:
		return FixedLineOrMobile
	case phonenumbers.TOLL_FREE:
		return TollFree
	case phonenumbers.PREMIUM_RATE:
		return PremiumRate
	case phonenumbers.SHARED_COST:
		return SharedCost
	case phonenumbers.VOIP:
		return VoIP
	case phonenumbers.PERSONAL_NUMBER:
		return PersonalNumber
	case phonenumbers.PAGER:
		return Pager
	case phonenumbers.UAN:
		return UAN
	case phonenumbers.VOICEMAIL:
		return Voicemail
	}
	return 0
}

// DefaultCountries are the regions allowed when [Config].Countries is
// empty: China, the only destination of Huawei Cloud's voice
// verification service (its FAQ: no international calls).
func DefaultCountries() []string { return []string{"CN"} }

// DefaultTypes are the types allowed when [Config].AllowTypes is empty:
// [FixedLine], [Mobile], [FixedLineOrMobile], [TollFree] and [Voicemail].
// The others ([PremiumRate], [SharedCost], [VoIP], [PersonalNumber],
// [Pager], [UAN]) are the ones toll fraud uses; to allow one back, list
// it with these: append(numberpolicy.DefaultTypes(), numberpolicy.VoIP).
func DefaultTypes() []Type {
	return []Type{FixedLine, Mobile, FixedLineOrMobile, TollFree, Voicemail}
}

// Config configures a [Policy]. The zero Config allows the numbers of
// [DefaultCountries] of the types [DefaultTypes].
type Config struct {
	// Countries lists the regions whose numbers may be called, as ISO
	// 3166-1 alpha-2 codes in upper case ("CN", "HK"). Each must be a
	// region libphonenumber knows. Empty means [DefaultCountries] (CN).
	Countries []string
	// AllowTypes lists the number types that may be called. Empty means
	// [DefaultTypes]. A number of no known type is never allowed: it is
	// not a valid number.
	AllowTypes []Type
}

// Policy is an [otp.NumberPolicy] backed by libphonenumber's metadata.
// It is immutable and safe for concurrent use.
type Policy struct {
	countries map[string]bool
	types     [Voicemail + 1]bool
}

var _ otp.NumberPolicy = (*Policy)(nil)

// New returns a Policy for cfg. An unknown country code or number type
// is an error naming the field.
func New(cfg Config) (*Policy, error) {
	countries := cfg.Countries
	if len(countries) == 0 {
		countries = DefaultCountries()
	}
	types := cfg.AllowTypes
	if len(types) == 0 {
		types = DefaultTypes()
	}
	p := &Policy{countries: make(map[string]bool, len(countries))}
	supported := phonenumbers.GetSupportedRegions()
	for _, c := range countries {
		if !supported[c] {
			return nil, fmt.Errorf("voicecall: numberpolicy: Countries: %q is not an ISO 3166-1 alpha-2 region code that libphonenumber knows (upper case, such as \"CN\")", c)
		}
		p.countries[c] = true
	}
	for _, t := range types {
		if !t.known() {
			return nil, fmt.Errorf("voicecall: numberpolicy: AllowTypes: %v is not a number type", t)
		}
		p.types[t] = true
	}
	return p, nil
}

// Countries returns the allowed regions, sorted.
func (p *Policy) Countries() []string {
	out := make([]string, 0, len(p.countries))
	for c := range p.countries {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// AllowTypes returns the allowed number types, in the order of their
// constants.
func (p *Policy) AllowTypes() []Type {
	var out []Type
	for t := FixedLine; t <= Voicemail; t++ {
		if p.types[t] {
			out = append(out, t)
		}
	}
	return out
}

// maxDigits is the most digits a number can have: a country calling code
// of 3 and a national significant number of 17 (libphonenumber's limits;
// E.164 itself allows 15 in all).
const maxDigits = 3 + 17

// Check returns the destination of number, or an [*otp.DestinationError]
// saying why it is refused (see the package documentation for the rules).
// Reasons, never containing the number:
//
//   - [otp.ErrInvalidNumber]: `not "+" followed by digits`, "too long to
//     be a telephone number", "too short to be a telephone number",
//     "unknown country calling code", "national prefix 0 after +86" (or
//     "not in E.164 form" for other extra digits), "too short for CN",
//     "too long for CN", "length not used in CN", "matches no number
//     range of CN" (a number of no known type);
//   - [otp.ErrDestinationNotAllowed]: "country FR not allowed",
//     "non-geographic number not allowed", or the type, such as
//     "premium-rate number".
func (p *Policy) Check(number string) (otp.Destination, error) {
	if len(number) < 2 || number[0] != '+' || !allDigits(number[1:]) {
		return otp.Destination{}, invalid(`not "+" followed by digits`)
	}
	if len(number)-1 > maxDigits {
		return otp.Destination{}, invalid("too long to be a telephone number")
	}
	num, err := phonenumbers.Parse(number, "ZZ")
	if err != nil {
		return otp.Destination{}, invalid(parseReason(err))
	}
	cc := int(num.GetCountryCode())
	ccText := strconv.Itoa(cc)
	where := regionName(cc)
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	if "+"+ccText+nsn != number {
		// Parse drops a national prefix after the country code
		// (+86 0 10...): the number it checked is not the one that
		// would be dialled.
		if ndd := phonenumbers.GetNddPrefixForRegion(phonenumbers.GetRegionCodeForCountryCode(cc), true); ndd != "" && strings.HasPrefix(number[1+len(ccText):], ndd) {
			return otp.Destination{}, invalid("national prefix " + ndd + " after +" + ccText)
		}
		return otp.Destination{}, invalid("not in E.164 form")
	}
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.IS_POSSIBLE, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
	case phonenumbers.TOO_SHORT:
		return otp.Destination{}, invalid("too short for " + where)
	case phonenumbers.TOO_LONG:
		return otp.Destination{}, invalid("too long for " + where)
	case phonenumbers.INVALID_COUNTRY_CODE:
		return otp.Destination{}, invalid("unknown country calling code")
	default: // INVALID_LENGTH
		return otp.Destination{}, invalid("length not used in " + where)
	}
	if !phonenumbers.IsValidNumber(num) {
		// A possible length but no number range of the region: of no
		// known type (libphonenumber's UNKNOWN).
		return otp.Destination{}, invalid("matches no number range of " + where)
	}
	region := phonenumbers.GetRegionCodeForNumber(num)
	if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
		return otp.Destination{}, notAllowed("non-geographic number not allowed")
	}
	if !p.countries[region] {
		return otp.Destination{}, notAllowed("country " + region + " not allowed")
	}
	t := typeOf(phonenumbers.GetNumberType(num))
	if !t.known() {
		// Unreachable for a valid number; refused all the same.
		return otp.Destination{}, invalid("matches no number range of " + where)
	}
	if !p.types[t] {
		return otp.Destination{}, notAllowed(t.String() + " number")
	}
	return otp.Destination{Country: region, Range: "+" + ccText + nsn[:min(len(nsn), 7)]}, nil
}

// regionName names the region of a country calling code in a reason:
// "CN", or "+1" when several regions share it.
func regionName(cc int) string {
	regions := phonenumbers.GetRegionCodesForCountryCode(cc)
	if len(regions) == 1 && regions[0] != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
		return regions[0]
	}
	return "+" + strconv.Itoa(cc)
}

func parseReason(err error) string {
	switch err {
	case phonenumbers.ErrInvalidCountryCode:
		return "unknown country calling code"
	case phonenumbers.ErrTooShortNSN, phonenumbers.ErrTooShortAfterIDD:
		return "too short to be a telephone number"
	case phonenumbers.ErrNumTooLong:
		return "too long to be a telephone number"
	}
	return "not a telephone number"
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func invalid(reason string) error {
	return &otp.DestinationError{Err: otp.ErrInvalidNumber, Reason: reason}
}

func notAllowed(reason string) error {
	return &otp.DestinationError{Err: otp.ErrDestinationNotAllowed, Reason: reason}
}
