package numberpolicy_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voicecall-go/voicecall/numberpolicy"
	"github.com/voicecall-go/voicecall/otp"
)

// refusal asserts that err is an *otp.DestinationError wrapping want
// with the given reason, and that its text does not carry the number.
func refusal(t *testing.T, number string, err error, want error, reason string) {
	t.Helper()
	var de *otp.DestinationError
	require.ErrorAs(t, err, &de, "number %q", number)
	assert.ErrorIs(t, err, want, "number %q", number)
	assert.Equal(t, reason, de.Reason, "number %q", number)
	if digits := strings.TrimPrefix(number, "+"); len(digits) >= 4 {
		assert.NotContains(t, err.Error(), digits, "the error carries the number")
	}
}

func newPolicy(t testing.TB, cfg numberpolicy.Config) *numberpolicy.Policy {
	t.Helper()
	p, err := numberpolicy.New(cfg)
	require.NoError(t, err)
	return p
}

func TestNewDefaults(t *testing.T) {
	p := newPolicy(t, numberpolicy.Config{})
	assert.Equal(t, []string{"CN"}, p.Countries())
	assert.Equal(t, []numberpolicy.Type{numberpolicy.FixedLine, numberpolicy.Mobile, numberpolicy.FixedLineOrMobile, numberpolicy.TollFree, numberpolicy.Voicemail}, p.AllowTypes())
	assert.Equal(t, numberpolicy.DefaultTypes(), p.AllowTypes())
	assert.Equal(t, numberpolicy.DefaultCountries(), p.Countries())
}

func TestNewCopiesConfig(t *testing.T) {
	countries := []string{"CN", "HK"}
	types := []numberpolicy.Type{numberpolicy.Mobile}
	p := newPolicy(t, numberpolicy.Config{Countries: countries, AllowTypes: types})
	countries[1] = "FR"
	types[0] = numberpolicy.PremiumRate
	assert.Equal(t, []string{"CN", "HK"}, p.Countries())
	assert.Equal(t, []numberpolicy.Type{numberpolicy.Mobile}, p.AllowTypes())
	// DefaultTypes returns a fresh slice each time: a caller appending to
	// it cannot change the defaults.
	d := numberpolicy.DefaultTypes()
	d[0] = numberpolicy.PremiumRate
	assert.Equal(t, numberpolicy.FixedLine, numberpolicy.DefaultTypes()[0])
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  numberpolicy.Config
		want string // in the error
	}{
		{"unknown code", numberpolicy.Config{Countries: []string{"CN", "XX"}}, `Countries: "XX"`},
		{"lower case", numberpolicy.Config{Countries: []string{"cn"}}, `Countries: "cn"`},
		{"non-geographic", numberpolicy.Config{Countries: []string{"001"}}, `Countries: "001"`},
		{"unknown region", numberpolicy.Config{Countries: []string{"ZZ"}}, `Countries: "ZZ"`},
		{"empty code", numberpolicy.Config{Countries: []string{""}}, `Countries: ""`},
		{"calling code", numberpolicy.Config{Countries: []string{"+86"}}, `Countries: "+86"`},
		{"zero type", numberpolicy.Config{AllowTypes: []numberpolicy.Type{0}}, "AllowTypes: Type(0)"},
		{"unknown type", numberpolicy.Config{AllowTypes: []numberpolicy.Type{numberpolicy.Mobile, 99}}, "AllowTypes: Type(99)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := numberpolicy.New(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "voicecall: numberpolicy: "), err.Error())
		})
	}
}

func TestTypeString(t *testing.T) {
	want := map[numberpolicy.Type]string{
		numberpolicy.FixedLine: "fixed-line", numberpolicy.Mobile: "mobile", numberpolicy.FixedLineOrMobile: "fixed-line-or-mobile",
		numberpolicy.TollFree: "toll-free", numberpolicy.PremiumRate: "premium-rate", numberpolicy.SharedCost: "shared-cost",
		numberpolicy.VoIP: "voip", numberpolicy.PersonalNumber: "personal", numberpolicy.Pager: "pager",
		numberpolicy.UAN: "uan", numberpolicy.Voicemail: "voicemail", 0: "Type(0)", 12: "Type(12)", -1: "Type(-1)",
	}
	for typ, s := range want {
		assert.Equal(t, s, typ.String())
	}
}

// typeCase is how a policy with the default types must answer a number of
// one libphonenumber type: the reason of its refusal, "" when allowed.
var typeCases = []struct {
	typ    phonenumbers.PhoneNumberType
	reason string
}{
	{phonenumbers.FIXED_LINE, ""},
	{phonenumbers.MOBILE, ""},
	{phonenumbers.FIXED_LINE_OR_MOBILE, ""},
	{phonenumbers.TOLL_FREE, ""},
	{phonenumbers.VOICEMAIL, ""},
	{phonenumbers.PREMIUM_RATE, "premium-rate number"},
	{phonenumbers.SHARED_COST, "shared-cost number"},
	{phonenumbers.VOIP, "voip number"},
	{phonenumbers.PERSONAL_NUMBER, "personal number"},
	{phonenumbers.PAGER, "pager number"},
	{phonenumbers.UAN, "uan number"},
}

var regions = []string{"CN", "HK", "US", "JM", "GB", "DE", "IT", "FR", "RU", "KZ", "AU", "IN"}

// TestCheckExampleNumbers checks the metadata's own example number of
// each type in a dozen regions (so the test follows the metadata when it
// changes): allowed or refused by type, with the country and range.
func TestCheckExampleNumbers(t *testing.T) {
	p := newPolicy(t, numberpolicy.Config{Countries: regions})
	seen := map[phonenumbers.PhoneNumberType]int{}
	for _, region := range regions {
		for _, tc := range typeCases {
			ex := phonenumbers.GetExampleNumberForType(region, tc.typ)
			if ex == nil || phonenumbers.GetNumberType(ex) != tc.typ {
				continue // no example, or one that also matches another type (US fixed lines are FIXED_LINE_OR_MOBILE)
			}
			number := phonenumbers.Format(ex, phonenumbers.E164)
			t.Run(region+"/"+number, func(t *testing.T) {
				seen[tc.typ]++
				dest, err := p.Check(number)
				if tc.reason != "" {
					refusal(t, number, err, otp.ErrDestinationNotAllowed, tc.reason)
					assert.Zero(t, dest)
					return
				}
				require.NoError(t, err)
				if dest.Country != region {
					// A range several regions share (NANP toll-free
					// numbers, +7 800) counts as the first region's.
					assert.True(t, phonenumbers.IsValidNumberForRegion(ex, dest.Country), "%s not valid for %s", number, dest.Country)
					assert.Equal(t, phonenumbers.TOLL_FREE, tc.typ, "only shared toll-free ranges are of another region")
				}
				cc := "+" + strconv.Itoa(int(ex.GetCountryCode()))
				nsn := strings.TrimPrefix(number, cc)
				assert.Equal(t, cc+nsn[:min(7, len(nsn))], dest.Range)
			})
		}
	}
	// Every type was tried, in CN among others for the types CN has.
	for _, tc := range typeCases {
		assert.NotZero(t, seen[tc.typ], "no example number of type %d", tc.typ)
	}
}

// TestCheckCN is the default policy on China's example number of each
// type, and on numbers of other countries.
func TestCheckCN(t *testing.T) {
	p := newPolicy(t, numberpolicy.Config{})
	n := 0
	for _, tc := range typeCases {
		ex := phonenumbers.GetExampleNumberForType("CN", tc.typ)
		if ex == nil || phonenumbers.GetNumberType(ex) != tc.typ {
			continue
		}
		n++
		number := phonenumbers.Format(ex, phonenumbers.E164)
		dest, err := p.Check(number)
		if tc.reason != "" {
			refusal(t, number, err, otp.ErrDestinationNotAllowed, tc.reason)
			continue
		}
		require.NoError(t, err, number)
		assert.Equal(t, "CN", dest.Country)
	}
	assert.GreaterOrEqual(t, n, 5, "CN example numbers: fixed line, mobile, toll-free, premium rate, shared cost at least")
	for _, region := range []string{"US", "JM", "FR", "HK", "KZ"} {
		number := phonenumbers.Format(phonenumbers.GetExampleNumberForType(region, phonenumbers.MOBILE), phonenumbers.E164)
		_, err := p.Check(number)
		refusal(t, number, err, otp.ErrDestinationNotAllowed, "country "+region+" not allowed")
	}
}

// TestCheckRefusals: the strings the string-prefix allow-list let
// through, and other malformed or unwanted numbers, each with its reason.
func TestCheckRefusals(t *testing.T) {
	satellite := phonenumbers.Format(phonenumbers.GetExampleNumberForNonGeoEntity(882), phonenumbers.E164)
	jamaica := phonenumbers.Format(phonenumbers.GetExampleNumberForType("JM", phonenumbers.MOBILE), phonenumbers.E164)
	premium := phonenumbers.Format(phonenumbers.GetExampleNumberForType("CN", phonenumbers.PREMIUM_RATE), phonenumbers.E164)
	invalid, notAllowed := otp.ErrInvalidNumber, otp.ErrDestinationNotAllowed
	tests := []struct {
		number string
		err    error
		reason string
	}{
		// The issue's four.
		{"+861", invalid, "too short to be a telephone number"},
		{"+8600", invalid, "too short for CN"},
		{"+860012345678", invalid, "national prefix 0 after +86"},
		{"+86" + strings.Repeat("0", 27), invalid, "too long to be a telephone number"},
		{"+869001234567", invalid, "matches no number range of CN"},
		{"+8690012345678", invalid, "matches no number range of CN"},
		// The measured fraud range: +86168 is premium rate (168 voice
		// information services); the 11-digit numbers fit no range.
		{premium, notAllowed, "premium-rate number"},
		{"+8616812345678", invalid, "matches no number range of CN"},
		// A valid Beijing number written with its trunk prefix: Parse
		// would drop the 0, the platform would dial it.
		{"+8601012345678", invalid, "national prefix 0 after +86"},
		{"+861350000000123", invalid, "too long for CN"},
		{"+8613", invalid, "too short for CN"},
		// Not "+" and digits.
		{"", invalid, `not "+" followed by digits`},
		{"+", invalid, `not "+" followed by digits`},
		{"8613500000001", invalid, `not "+" followed by digits`},
		{"008613500000001", invalid, `not "+" followed by digits`},
		{"+86 135 0000 0001", invalid, `not "+" followed by digits`},
		{"+86-13500000001", invalid, `not "+" followed by digits`},
		{"+8613500000001;ext=2", invalid, `not "+" followed by digits`},
		{"+8613500000001x2", invalid, `not "+" followed by digits`},
		{"tel:+8613500000001", invalid, `not "+" followed by digits`},
		{"+86１3500000001", invalid, `not "+" followed by digits`},
		{"++8613500000001", invalid, `not "+" followed by digits`},
		{"+86FLOWERS01", invalid, `not "+" followed by digits`},
		{"+" + strings.Repeat("8", 21), invalid, "too long to be a telephone number"},
		{"+" + strings.Repeat("8", 300), invalid, "too long to be a telephone number"},
		// Country calling codes: known as a whole, or not at all.
		{"+9991234567", invalid, "unknown country calling code"},
		{"+0086135000001", invalid, "unknown country calling code"},
		{"+1", invalid, "not a telephone number"},
		{satellite, notAllowed, "non-geographic number not allowed"},
		{jamaica, notAllowed, "country JM not allowed"}, // +1 876: not the US
		{"+12", invalid, "not a telephone number"},
	}
	p := newPolicy(t, numberpolicy.Config{Countries: []string{"CN", "US"}})
	for _, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			dest, err := p.Check(tt.number)
			refusal(t, tt.number, err, tt.err, tt.reason)
			assert.Zero(t, dest)
		})
	}
}

func TestCheckRange(t *testing.T) {
	p := newPolicy(t, numberpolicy.Config{Countries: []string{"CN", "IT", "NU", "US"}})
	tests := []struct {
		number, country, rng string
	}{
		{"+8613500000001", "CN", "+861350000"},
		{"+8613500009999", "CN", "+861350000"}, // same block
		{"+861012345678", "CN", "+861012345"},
		{"+390612345678", "IT", "+390612345"}, // Italy keeps its leading 0
		{"+12015550123", "US", "+12015550"},
	}
	// A region whose numbers are shorter than 7 digits: the range is the
	// whole number.
	nu := phonenumbers.GetExampleNumber("NU")
	require.NotNil(t, nu)
	nuNumber := phonenumbers.Format(nu, phonenumbers.E164)
	require.Less(t, len(phonenumbers.GetNationalSignificantNumber(nu)), 7, nuNumber)
	tests = append(tests, struct{ number, country, rng string }{nuNumber, "NU", nuNumber})
	for _, tt := range tests {
		dest, err := p.Check(tt.number)
		require.NoError(t, err, tt.number)
		assert.Equal(t, otp.Destination{Country: tt.country, Range: tt.rng}, dest, tt.number)
	}
}

func TestCheckAllowTypes(t *testing.T) {
	premium := phonenumbers.Format(phonenumbers.GetExampleNumberForType("CN", phonenumbers.PREMIUM_RATE), phonenumbers.E164)
	fixed := phonenumbers.Format(phonenumbers.GetExampleNumberForType("CN", phonenumbers.FIXED_LINE), phonenumbers.E164)
	mobile := "+8613500000001"

	// A type allowed back.
	p := newPolicy(t, numberpolicy.Config{AllowTypes: append(numberpolicy.DefaultTypes(), numberpolicy.PremiumRate)})
	for _, n := range []string{premium, fixed, mobile} {
		_, err := p.Check(n)
		assert.NoError(t, err, n)
	}

	// Mobile numbers only.
	p = newPolicy(t, numberpolicy.Config{AllowTypes: []numberpolicy.Type{numberpolicy.Mobile}})
	_, err := p.Check(mobile)
	assert.NoError(t, err)
	_, err = p.Check(fixed)
	refusal(t, fixed, err, otp.ErrDestinationNotAllowed, "fixed-line number")
	_, err = p.Check(premium)
	refusal(t, premium, err, otp.ErrDestinationNotAllowed, "premium-rate number")

	// Allowing every type still refuses numbers of no known type.
	all := []numberpolicy.Type{}
	for typ := numberpolicy.FixedLine; typ <= numberpolicy.Voicemail; typ++ {
		all = append(all, typ)
	}
	p = newPolicy(t, numberpolicy.Config{AllowTypes: all})
	_, err = p.Check("+869001234567")
	refusal(t, "+869001234567", err, otp.ErrInvalidNumber, "matches no number range of CN")
}

// TestCheckError: the error matches one of otp's errors only, and its
// text (otp's format) ends with the reason.
func TestCheckError(t *testing.T) {
	p := newPolicy(t, numberpolicy.Config{})
	_, err := p.Check("+33612345678")
	require.Error(t, err)
	assert.ErrorIs(t, err, otp.ErrDestinationNotAllowed)
	assert.NotErrorIs(t, err, otp.ErrInvalidNumber)
	assert.True(t, strings.HasSuffix(err.Error(), "destination not allowed: country FR not allowed"), err.Error())

	_, err = p.Check("+861")
	assert.ErrorIs(t, err, otp.ErrInvalidNumber)
	assert.NotErrorIs(t, err, otp.ErrDestinationNotAllowed)
	assert.True(t, strings.HasSuffix(err.Error(), ": too short to be a telephone number"), err.Error())
}

// TestCheckConcurrent: one Policy shared by goroutines gives each the
// answer it gives alone (run with -race).
func TestCheckConcurrent(t *testing.T) {
	p := newPolicy(t, numberpolicy.Config{Countries: regions})
	var numbers []string
	for _, region := range regions {
		for _, tc := range typeCases {
			if ex := phonenumbers.GetExampleNumberForType(region, tc.typ); ex != nil {
				numbers = append(numbers, phonenumbers.Format(ex, phonenumbers.E164))
			}
		}
	}
	numbers = append(numbers, "+861", "+8600", "+869001234567", "+882161234567", "x")
	type answer struct {
		dest otp.Destination
		err  string
	}
	check := func(n string) answer {
		d, err := p.Check(n)
		if err != nil {
			return answer{d, err.Error()}
		}
		return answer{d, ""}
	}
	want := make([]answer, len(numbers))
	for i, n := range numbers {
		want[i] = check(n)
	}
	const workers = 8
	got := make([][]answer, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range numbers {
				j := (i + w*7) % len(numbers) // each worker starts elsewhere
				got[w] = append(got[w], check(numbers[j]))
			}
		}()
	}
	wg.Wait()
	for w := range workers {
		for i := range numbers {
			j := (i + w*7) % len(numbers)
			assert.Equal(t, want[j], got[w][i], "worker %d, %s", w, numbers[j])
		}
	}
}

// FuzzCheck: any string gets an answer, never a panic: either a
// destination of an allowed country whose range starts the number, or a
// refusal wrapping one of otp's two errors with a reason free of the
// number.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"+8613500000001", "+861", "+8600", "+860012345678", "+86" + strings.Repeat("0", 27), "+869001234567",
		"+8616812345", "+8601012345678", "+390612345678", "+18765230123", "+882161234567", "+6837010", "+9991234567",
		"", "+", "+1", "8613500000001", "+86 135 0000 0001", "+8613500000001;ext=2", "+86１3500000001",
	} {
		f.Add(s)
	}
	p, err := numberpolicy.New(numberpolicy.Config{Countries: []string{"CN", "US", "IT", "NU"}, AllowTypes: []numberpolicy.Type{numberpolicy.Mobile, numberpolicy.FixedLine, numberpolicy.FixedLineOrMobile}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, number string) {
		dest, err := p.Check(number)
		if err != nil {
			var de *otp.DestinationError
			if !errors.As(err, &de) {
				t.Fatalf("%q: %T %v", number, err, err)
			}
			if !errors.Is(err, otp.ErrInvalidNumber) && !errors.Is(err, otp.ErrDestinationNotAllowed) {
				t.Fatalf("%q: %v wraps neither otp error", number, err)
			}
			if de.Reason == "" {
				t.Fatalf("%q: empty reason", number)
			}
			if digits := strings.TrimPrefix(number, "+"); len(digits) >= 4 && strings.Contains(de.Reason, digits) {
				t.Fatalf("%q: reason %q carries the number", number, de.Reason)
			}
			if dest != (otp.Destination{}) {
				t.Fatalf("%q: refused with destination %+v", number, dest)
			}
			return
		}
		switch dest.Country {
		case "CN", "US", "IT", "NU":
		default:
			t.Fatalf("%q: allowed in %q", number, dest.Country)
		}
		if !strings.HasPrefix(number, dest.Range) || len(dest.Range) < 3 {
			t.Fatalf("%q: range %q", number, dest.Range)
		}
		again, err := p.Check(number)
		if err != nil || again != dest {
			t.Fatalf("%q: second check %+v, %v; first %+v", number, again, err, dest)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	p := newPolicy(b, numberpolicy.Config{})
	for _, bc := range []struct{ name, number string }{
		{"allowed", "+8613500000001"},
		{"premium-rate", "+8616812345"},
		{"no-range", "+869001234567"},
		{"malformed", "+86 135 0000 0001"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = p.Check(bc.number)
			}
		})
	}
}

// ExamplePolicy_Check: the default policy allows Chinese mobile and fixed
// numbers and refuses the rest with a reason.
func ExamplePolicy_Check() {
	p, err := numberpolicy.New(numberpolicy.Config{}) // CN, toll-fraud types refused
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, number := range []string{"+8613500000001", "+8616812345", "+861", "+33612345678"} {
		dest, err := p.Check(number)
		var refused *otp.DestinationError
		switch {
		case err == nil:
			fmt.Println("allowed:", dest.Country, dest.Range)
		case errors.As(err, &refused) && errors.Is(err, otp.ErrInvalidNumber):
			fmt.Println("invalid:", refused.Reason)
		case errors.As(err, &refused):
			fmt.Println("not allowed:", refused.Reason)
		}
	}
	// Output:
	// allowed: CN +861350000
	// not allowed: premium-rate number
	// invalid: too short to be a telephone number
	// not allowed: country FR not allowed
}
