package otp

import (
	"strings"
	"time"
)

// Defaults of [Guard].
const (
	DefaultCooldown        = 60 * time.Second
	DefaultPerNumberHour   = 5
	DefaultPerNumberDay    = 10
	DefaultClientWindow    = time.Hour
	DefaultGlobalPerMinute = 100
)

// DefaultAllowedPrefixes is the allow-list when [Guard].AllowedPrefixes
// is nil: Chinese numbers, which the platform calls.
var DefaultAllowedPrefixes = []string{"+86"}

// Guard configures the checks made before any call is placed. A zero
// field takes its default; a negative number or duration turns that
// limit off.
type Guard struct {
	// Cooldown is the least time between two sends to one number
	// (default 60 s). A call that fails before it is answered lifts it.
	Cooldown time.Duration
	// PerNumberHour and PerNumberDay cap the sends to one number in an
	// hour (default 5) and in a day (default 10). Each window opens at
	// the first send counted in it.
	PerNumberHour, PerNumberDay int
	// PerClient caps the sends asked for by one client key (the clientKey
	// argument of Send: an IP address, an account) in ClientWindow
	// (default 1 hour). 0 (the default) turns it off; an empty clientKey
	// is never counted.
	PerClient    int
	ClientWindow time.Duration
	// GlobalPerMinute caps the sends of the whole app in a minute
	// (default 100), whatever the number: the brake on a pumping attack
	// spread over many numbers.
	GlobalPerMinute int
	// AllowedPrefixes lists the prefixes a destination must start with,
	// "+" included (default [DefaultAllowedPrefixes], "+86"). Use
	// []string{"+"} to allow every destination.
	AllowedPrefixes []string
}

// resolved is a Guard with its defaults applied; 0 means off.
type resolved struct {
	cooldown        time.Duration
	perHour, perDay int
	perClient       int
	clientWindow    time.Duration
	globalPerMinute int
	prefixes        []string
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

func (g Guard) resolve() resolved {
	r := resolved{
		cooldown:        pick(g.Cooldown, DefaultCooldown),
		perHour:         pick(g.PerNumberHour, DefaultPerNumberHour),
		perDay:          pick(g.PerNumberDay, DefaultPerNumberDay),
		perClient:       max(g.PerClient, 0),
		clientWindow:    pick(g.ClientWindow, DefaultClientWindow),
		globalPerMinute: pick(g.GlobalPerMinute, DefaultGlobalPerMinute),
		prefixes:        g.AllowedPrefixes,
	}
	if r.prefixes == nil {
		r.prefixes = DefaultAllowedPrefixes
	}
	r.prefixes = append([]string(nil), r.prefixes...)
	if r.clientWindow == 0 {
		r.clientWindow = DefaultClientWindow
	}
	return r
}

func (r *resolved) allowed(number string) bool {
	for _, p := range r.prefixes {
		if strings.HasPrefix(number, p) {
			return true
		}
	}
	return false
}

// counters returns the rate limits of one send, by opaque ids.
func (r *resolved) counters(numberID, clientID string) []Counter {
	cs := make([]Counter, 0, 4)
	if r.perHour > 0 {
		cs = append(cs, Counter{Key: "nh:" + numberID, Limit: r.perHour, Window: time.Hour, Reason: ReasonNumberHourly})
	}
	if r.perDay > 0 {
		cs = append(cs, Counter{Key: "nd:" + numberID, Limit: r.perDay, Window: 24 * time.Hour, Reason: ReasonNumberDaily})
	}
	if r.perClient > 0 && clientID != "" {
		cs = append(cs, Counter{Key: "c:" + clientID, Limit: r.perClient, Window: r.clientWindow, Reason: ReasonClient})
	}
	if r.globalPerMinute > 0 {
		cs = append(cs, Counter{Key: "g", Limit: r.globalPerMinute, Window: time.Minute, Reason: ReasonGlobal})
	}
	return cs
}
