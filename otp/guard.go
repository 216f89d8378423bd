package otp

import (
	"net/netip"
	"time"
)

// Defaults of [Guard].
const (
	DefaultCooldown         = 60 * time.Second
	DefaultPerNumberHour    = 5
	DefaultPerNumberDay     = 10
	DefaultPerClient        = 10
	DefaultPerNetwork       = 30
	DefaultChecksPerClient  = 30
	DefaultClientWindow     = time.Hour
	DefaultGlobalPerMinute  = 100
	DefaultGlobalPerHour    = 3000
	DefaultGlobalPerDay     = 20000
	DefaultConversionWindow = time.Hour
)

// Default allowances of unverified sends ([Guard].Country and
// [Guard].Range).
var (
	DefaultCountry = Allowance{Base: 100, Factor: 1, Window: DefaultConversionWindow}
	DefaultRange   = Allowance{Base: 10, Factor: 2, Window: DefaultConversionWindow}
)

// Allowance caps the unverified sends (sends whose code was not checked
// right yet) to one country or one number range in a window: at most
// Base + Factor x verified, where verified counts the sends of the window
// whose code was checked right. Traffic that converts earns room; sends
// that are never verified, the mark of toll fraud, soon run out of it.
// A zero field takes its default; a negative Base turns the allowance
// off, a negative Factor makes it 0 (verified sends earn no room), and a
// Window that is not positive takes the default.
type Allowance struct {
	Base, Factor int
	// Window is a fixed window opened by the first send counted in it.
	Window time.Duration
}

// Guard configures the checks made before any call is placed and before
// any code is compared. A zero field takes its default; a negative
// number or duration turns that limit off.
type Guard struct {
	// Cooldown is the least time between two sends to one number
	// (default 60 s). A call that fails before it is answered lifts it.
	Cooldown time.Duration
	// PerNumberHour and PerNumberDay cap the sends to one number in an
	// hour (default 5) and in a day (default 10). Each window opens at
	// the first send counted in it.
	PerNumberHour, PerNumberDay int
	// PerClient caps the sends asked for by one client (the clientKey
	// argument of Send: an IP address, or any opaque key such as an
	// account id) in ClientWindow (default 10 in 1 hour). PerNetwork
	// caps the sends of every client whose key is an IP address in one
	// IPv4 /24 or IPv6 /64 (default 30). An empty clientKey is never
	// counted.
	PerClient, PerNetwork int
	// ChecksPerClient caps the checks one client makes in ClientWindow,
	// whatever the verification (default 30).
	ChecksPerClient int
	ClientWindow    time.Duration
	// GlobalPerMinute, GlobalPerHour and GlobalPerDay cap the sends of
	// the whole app (defaults 100, 3,000 and 20,000): the brakes on a
	// pumping attack spread over many numbers and addresses.
	GlobalPerMinute, GlobalPerHour, GlobalPerDay int
	// Country and Range cap the unverified sends per destination country
	// and per number range ([Destination]); defaults [DefaultCountry]
	// and [DefaultRange].
	Country, Range Allowance
	// RecordOnly makes the guard decide and report without refusing:
	// every send a limit would refuse is reported to [Hooks].Refused
	// (with RecordOnly set) and placed anyway. The hold of a number
	// whose call's outcome is unknown, the check limits and the
	// [NumberPolicy] still refuse. Use it to tune the limits on real
	// traffic before enforcing them.
	RecordOnly bool
}

// resolved is a Guard with its defaults applied; 0 means off.
type resolved struct {
	cooldown                        time.Duration
	perHour, perDay                 int
	perClient, perNetwork, checks   int
	clientWindow                    time.Duration
	globalMinute, globalHour, glDay int
	country, rng                    Allowance
	recordOnly                      bool
}

func pick[T int | time.Duration](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

func (a Allowance) resolve(def Allowance) Allowance {
	if a.Base < 0 {
		return Allowance{}
	}
	w := a.Window
	if w <= 0 {
		w = def.Window
	}
	return Allowance{Base: pick(a.Base, def.Base), Factor: pick(a.Factor, def.Factor), Window: w}
}

func (g Guard) resolve() resolved {
	r := resolved{
		cooldown:     pick(g.Cooldown, DefaultCooldown),
		perHour:      pick(g.PerNumberHour, DefaultPerNumberHour),
		perDay:       pick(g.PerNumberDay, DefaultPerNumberDay),
		perClient:    pick(g.PerClient, DefaultPerClient),
		perNetwork:   pick(g.PerNetwork, DefaultPerNetwork),
		checks:       pick(g.ChecksPerClient, DefaultChecksPerClient),
		clientWindow: pick(g.ClientWindow, DefaultClientWindow),
		globalMinute: pick(g.GlobalPerMinute, DefaultGlobalPerMinute),
		globalHour:   pick(g.GlobalPerHour, DefaultGlobalPerHour),
		glDay:        pick(g.GlobalPerDay, DefaultGlobalPerDay),
		country:      g.Country.resolve(DefaultCountry),
		rng:          g.Range.resolve(DefaultRange),
		recordOnly:   g.RecordOnly,
	}
	if r.clientWindow == 0 {
		r.clientWindow = DefaultClientWindow
	}
	return r
}

// network returns the /24 (IPv4) or /64 (IPv6) of clientKey when it is
// an IP address, else "".
func network(clientKey string) string {
	a, err := netip.ParseAddr(clientKey)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, err := a.WithZone("").Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// clientKeyOf returns the form of clientKey that is counted: an IP
// address in its canonical form (so that "::ffff:192.0.2.1" and
// "192.0.2.1" are one client), anything else as it is.
func clientKeyOf(clientKey string) string {
	if a, err := netip.ParseAddr(clientKey); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return clientKey
}

// counters returns the rate limits of one send, by opaque ids, in the
// order they are checked.
func (r *resolved) counters(k keyed, numberID, clientKey string) []Counter {
	cs := make([]Counter, 0, 7)
	if r.perHour > 0 {
		cs = append(cs, Counter{Key: "nh:" + numberID, Limit: r.perHour, Window: time.Hour, Reason: ReasonNumberHourly})
	}
	if r.perDay > 0 {
		cs = append(cs, Counter{Key: "nd:" + numberID, Limit: r.perDay, Window: 24 * time.Hour, Reason: ReasonNumberDaily})
	}
	if clientKey != "" {
		if r.perClient > 0 {
			cs = append(cs, Counter{Key: "c:" + k.id("client", clientKeyOf(clientKey)), Limit: r.perClient, Window: r.clientWindow, Reason: ReasonClient})
		}
		if n := network(clientKey); n != "" && r.perNetwork > 0 {
			cs = append(cs, Counter{Key: "cn:" + k.id("network", n), Limit: r.perNetwork, Window: r.clientWindow, Reason: ReasonNetwork})
		}
	}
	if r.globalMinute > 0 {
		cs = append(cs, Counter{Key: "g", Limit: r.globalMinute, Window: time.Minute, Reason: ReasonGlobal})
	}
	if r.globalHour > 0 {
		cs = append(cs, Counter{Key: "gh", Limit: r.globalHour, Window: time.Hour, Reason: ReasonGlobalHourly})
	}
	if r.glDay > 0 {
		cs = append(cs, Counter{Key: "gd", Limit: r.glDay, Window: 24 * time.Hour, Reason: ReasonGlobalDaily})
	}
	return cs
}

// conversions returns the allowances of unverified sends of one send.
func (r *resolved) conversions(k keyed, d Destination) []Conversion {
	cs := make([]Conversion, 0, 2)
	if r.rng.Base > 0 && d.Range != "" {
		cs = append(cs, Conversion{Key: "ur:" + k.id("range", d.Range), Base: r.rng.Base, Factor: r.rng.Factor, Window: r.rng.Window, Reason: ReasonRange})
	}
	if r.country.Base > 0 && d.Country != "" {
		cs = append(cs, Conversion{Key: "uc:" + d.Country, Base: r.country.Base, Factor: r.country.Factor, Window: r.country.Window, Reason: ReasonCountry})
	}
	return cs
}

// checkCounter returns the limit of one client's checks (Limit 0: none).
func (r *resolved) checkCounter(k keyed, clientKey string) Counter {
	if clientKey == "" || r.checks == 0 {
		return Counter{}
	}
	return Counter{Key: "k:" + k.id("client", clientKeyOf(clientKey)), Limit: r.checks, Window: r.clientWindow, Reason: ReasonChecks}
}
