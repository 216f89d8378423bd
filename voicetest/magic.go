package voicetest

// MagicNumber is a callee number whose calls go a given way on a server
// started with [WithMagicNumbers], in the spirit of Twilio's test numbers:
// any client, in any language, exercises a branch by calling the number,
// without the control API. The numbers are Beijing fixed-line numbers
// whose local part starts with 0, which no real line has.
type MagicNumber struct {
	Number string
	// Scenario is how calls to the number go ("" for the default).
	Scenario Scenario
	// Digits are the keys the callee presses when a voice notification
	// collects digits ("" for the default).
	Digits string
	// Description says what the number does, for documentation.
	Description string
}

// magicNumbers is the table behind [MagicNumbers]; the last four digits
// of the scenario numbers are the disconnect's stateCode.
var magicNumbers = func() []MagicNumber {
	t := []MagicNumber{
		{Number: "+8610000000000", Scenario: ScenarioAnswered, Description: "answered, whatever the default scenario (stateCode 0)"},
		{Number: "+8610000008101", Scenario: ScenarioNoAnswer, Description: "rings, never answered (stateCode 8101)"},
		{Number: "+8610000008102", Scenario: ScenarioBusy, Description: "busy (stateCode 8102)"},
		{Number: "+8610000008104", Scenario: ScenarioPoweredOff, Description: "powered off (stateCode 8104)"},
		{Number: "+8610000008004", Scenario: ScenarioRejected, Description: "rejected while ringing (stateCode 8004)"},
		{Number: "+8610000008100", Scenario: ScenarioNotExist, Description: "the number does not exist (stateCode 8100)"},
		{Number: "+8610000003600", Scenario: ScenarioLongCall, Description: "answered, then lasts an hour (simulated) unless stopped: try callStop"},
	}
	for k := '0'; k <= '9'; k++ {
		t = append(t, MagicNumber{Number: "+861000000100" + string(k), Scenario: ScenarioAnswered, Digits: string(k),
			Description: "answered; presses " + string(k) + " at every digit collection (collectInfo)"})
	}
	return t
}()

// MagicNumbers returns the table of magic numbers (see [WithMagicNumbers]).
func MagicNumbers() []MagicNumber { return append([]MagicNumber(nil), magicNumbers...) }

// WithMagicNumbers makes calls to the numbers of [MagicNumbers] go the way
// the table says. A scenario or digits set for the number itself
// ([Server.SetScenario], [Server.SetDigits], [WithCalleeScenario],
// [WithCalleeDigits]) takes precedence; the magic number takes precedence
// over the default scenario and digits.
func WithMagicNumbers() Option {
	return func(c *config) error { c.magic = true; return nil }
}

// magicLocked returns the magic number entry of number when magic numbers
// are on; s.mu must be held (the table itself is immutable).
func (s *Server) magicLocked(number string) (MagicNumber, bool) {
	if !s.cfg.magic {
		return MagicNumber{}, false
	}
	for _, m := range magicNumbers {
		if m.Number == number {
			return m, true
		}
	}
	return MagicNumber{}, false
}
