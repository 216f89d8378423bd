package otp

import (
	"context"
	"crypto/subtle"
	"strconv"
	"sync"
	"time"
)

// The types below are for store implementers: a [Lifecycle] speaks to its
// [Store] with them. Applications only pick a Store (the in-memory one,
// or redisstore's) and never call it.

// Store keeps the state of verifications and of the guard: the pending
// verifications (a keyed MAC of each code, never the code), the holds and
// cooldowns of numbers, and the counters of the guard.
//
// Implementations must be safe for concurrent use, and every method must
// be atomic and safe to repeat: a call made again with the same
// arguments (a client library re-sending a command whose reply was lost)
// has the effect of one call and gets the first call's answer, or an
// error with the state as if it had not run. No limit may ever let more
// through than it allows; a store whose state spans several machines
// (redisstore's, on Redis Cluster) may take a reservation's limits one by
// one and give back what it took when a later one refuses, so that
// concurrent sends near a limit may refuse each other. The package
// storetest holds the conformance suite every implementation must pass.
type Store interface {
	// Reserve asks to let one send through and, in the same atomic step,
	// stores its verification. It refuses when r.Number is held
	// (ReasonPending), in its cooldown (ReasonCooldown), when a counter
	// is at its limit or a conversion counter's unverified sends reached
	// its allowance (that counter's Reason), checked in that order; a
	// refusal changes nothing. Otherwise it counts the send in every
	// counter and conversion counter, starts the number's cooldown and
	// hold, stores the verification under r.ID (replacing the number's
	// earlier verification, which stops working) and remembers r.Token
	// for Settle, all for at least r.TTL.
	//
	// With r.RecordOnly every refusal but ReasonPending is reported in
	// the answer (Refusal.Reserved is then true) and the send is reserved
	// anyway. A Reserve that reserved, repeated with the same r.Token,
	// returns its first answer and counts nothing again; after
	// Settle(SettleReleased) it returns [ErrReleased]. (A refused one
	// changed nothing, and is decided again.)
	Reserve(ctx context.Context, r Reservation) (Refusal, error)
	// Settle records what became known of the send reserved with token
	// (see [Settlement]). It changes only what that send set: a later
	// send's hold, cooldown or verification stays. An unknown or
	// forgotten token is ignored; settling again changes nothing more.
	Settle(ctx context.Context, token string, s Settlement) error
	// Check counts one check of verification c.ID, unless c.Client is
	// at its limit (CheckRateLimited: nothing counted) or the
	// verification allows no more checks (CheckExhausted), then compares
	// c.MAC with the stored MAC in constant time; a match uses the
	// verification up and credits its conversion counters with one
	// verified send. A Check repeated with the same c.Op returns the
	// first answer and counts nothing again.
	Check(ctx context.Context, c CheckRequest) (CheckResult, error)
}

// ErrReleased (for store implementers) is returned by [Store.Reserve] for a reservation whose
// token was released ([SettleReleased]) before the call was repeated.
var ErrReleased = errf("store: reservation released")

// Counter (for store implementers) is one rate limit of a [Reservation] or a [CheckRequest]: at
// most Limit operations in a window of Window that opens at the first one
// counted under Key and closes Window later (a fixed window, started by
// use).
type Counter struct {
	// Key names the counter in the store: unique per limit and subject.
	Key string
	// Limit is the most operations the window allows, at least 1.
	Limit int
	// Window is the window's length, at least 1 ms.
	Window time.Duration
	// Reason is reported when this counter refuses.
	Reason Reason
}

// Conversion (for store implementers) is a counter of sends and verified sends (a fixed window
// started by use, like [Counter]) that refuses a send when the
// unverified sends (sends - verified) reached Base + Factor x verified.
type Conversion struct {
	// Key names the counter in the store.
	Key string
	// Base is the unverified sends allowed with nothing verified, at
	// least 1; Factor the more allowed per verified send.
	Base, Factor int
	// Window is the window's length, at least 1 ms.
	Window time.Duration
	// Reason is reported when this counter refuses.
	Reason Reason
}

// Reservation (for store implementers) asks a [Store] to let one send through and to store its
// verification.
type Reservation struct {
	// ID is the verification's id (what the user checks against).
	ID string
	// Token is the correlation token of the call about to be placed; it
	// also identifies the reservation when Reserve is repeated.
	Token string
	// Number is the destination's opaque id.
	Number string
	// MAC is the keyed MAC of the code; MaxChecks the checks it allows.
	MAC       []byte
	MaxChecks int
	// TTL is how long the code can be checked, and how long the number
	// is held until the call is settled; at least 1 ms.
	TTL time.Duration
	// Cooldown, when positive, refuses further sends to Number for that
	// long, unless the call is settled as failed or released.
	Cooldown time.Duration
	// Country and Range label the verification for events; stores keep
	// them as they are (they are not the number).
	Country, Range string
	// Counters are checked in order after the hold and the cooldown,
	// then Conversions.
	Counters    []Counter
	Conversions []Conversion
	// RecordOnly reserves despite any refusal but ReasonPending, and
	// reports the first limit that would have refused.
	RecordOnly bool
}

// Refusal (for store implementers) is a [Store.Reserve]'s answer: Reason is [ReasonNone] when the
// send was reserved, else the first limit that refused and RetryAfter
// how long it still refuses. For [ReasonPending] RetryAfter is the
// shorter of the hold's and the cooldown's remaining times: a settlement
// can lift the hold at any moment, and the cooldown then remains.
// Reserved is true when the send was reserved: always with ReasonNone,
// and with another Reason in record-only mode.
type Refusal struct {
	Reason     Reason
	RetryAfter time.Duration
	Reserved   bool
}

// Settlement (for store implementers) is what became known of a reserved send.
type Settlement int

// Settlements.
const (
	// SettlePlaced: the call was placed (the platform accepted it, or a
	// notification of it arrived): the hold is lifted, the cooldown stays.
	SettlePlaced Settlement = iota + 1
	// SettleFailed: no call reached the callee (the call failed before
	// it was answered): the hold and the cooldown are lifted. The
	// verification stays (its code was never heard).
	SettleFailed
	// SettleReleased: no call was placed (the platform rejected it, or
	// the send failed before the call): the hold and the cooldown are
	// lifted and the verification is removed. Counters are never
	// refunded.
	SettleReleased
)

// CheckRequest (for store implementers) asks a [Store] to check one code.
type CheckRequest struct {
	// ID is the verification's id; MAC the keyed MAC of the code typed.
	ID  string
	MAC []byte
	// Op identifies this check (random, at least 128 bits): a Check
	// repeated with the same Op gets the first answer.
	Op string
	// Client, when its Limit is positive, limits the checks of one
	// client: at its limit the check is refused (CheckRateLimited, with
	// RetryAfter) before anything else is read or counted.
	Client Counter
}

// CheckStatus (for store implementers, and in [CheckedEvent]) is what
// [Store.Check] found.
type CheckStatus int

// Check statuses.
const (
	// CheckUnknown: no verification has this id (never stored, released,
	// or forgotten after its expiry). Nothing was counted.
	CheckUnknown CheckStatus = iota + 1
	// CheckValid: the MAC matched; the check was counted and the
	// verification is used up.
	CheckValid
	// CheckWrong: the MAC did not match; the check was counted.
	CheckWrong
	// CheckExhausted: the verification was checked MaxChecks times
	// already; nothing was counted or compared.
	CheckExhausted
	// CheckExpired: the verification's TTL ran out. Nothing counted.
	CheckExpired
	// CheckUsed: the verification was used up by a valid check.
	// Nothing counted. (A verification replaced by a later send to its
	// number, or released, is CheckUnknown.)
	CheckUsed
	// CheckRateLimited: the client reached its limit of checks; nothing
	// was read or counted.
	CheckRateLimited
)

var checkNames = [...]string{"", "unknown", "valid", "wrong", "exhausted", "expired", "used", "rate-limited"}

// String returns "unknown", "valid", "wrong", "exhausted", "expired",
// "used" or "rate-limited".
func (c CheckStatus) String() string {
	if c > 0 && int(c) < len(checkNames) {
		return checkNames[c]
	}
	return "CheckStatus(" + strconv.Itoa(int(c)) + ")"
}

// CheckResult (for store implementers) is a [Store.Check]'s answer.
type CheckResult struct {
	Status CheckStatus
	// AttemptsLeft is the checks the verification still allows after
	// this one (with CheckWrong and CheckValid).
	AttemptsLeft int
	// RetryAfter is how long the client's limit still refuses (with
	// CheckRateLimited).
	RetryAfter time.Duration
	// Country and Range are the verification's labels (when it was
	// found).
	Country, Range string
}

// memSweepEvery is the fewest writes a memory store makes between sweeps
// of its expired entries; it waits for as many writes as it holds
// entries, so that a sweep costs O(1) per write.
const memSweepEvery = 1024

// MemoryStore is the in-process [Store]. Expired entries are dropped as
// writes go; its memory is bounded by what the guard lets through in a
// day. It is safe for concurrent use; its state is lost on exit and not
// shared between processes, so several instances each apply the limits
// on their own. Its calls never lose a reply, but it honours the
// repetition contract (a repeated Reserve or Check) all the same.
type MemoryStore struct {
	now func() time.Time

	mu      sync.Mutex
	vers    map[string]*memVer   // verification id
	current map[string]string    // number -> verification id
	holds   map[string]memMark   // number -> token
	cools   map[string]memMark   // number -> token
	tokens  map[string]*memToken // token
	counts  map[string]*memCount
	convs   map[string]*memConv
	writes  int
}

type memVer struct {
	mac           []byte
	checks, max   int
	used          bool
	expires, keep time.Time // keep: forgotten after expires + TTL
	country, rng  string
	convs         []string
	ops           map[string]CheckResult // answers of counted checks, by Op
	number        string
}

type memMark struct {
	v       string
	expires time.Time
}

type memToken struct {
	number, id string
	answer     Refusal
	released   bool
	expires    time.Time
}

type memCount struct {
	ops     map[string]struct{} // the operations counted (n = len)
	n       int
	expires time.Time
}

type memConv struct {
	sends, verified int
	expires         time.Time
}

// NewMemoryStore returns an empty MemoryStore on the system clock.
func NewMemoryStore() *MemoryStore { return NewMemoryStoreClock(time.Now) }

// NewMemoryStoreClock returns an empty MemoryStore that reads the time
// from now: for tests and simulations with a fake clock.
func NewMemoryStoreClock(now func() time.Time) *MemoryStore {
	return &MemoryStore{
		now:     now,
		vers:    make(map[string]*memVer),
		current: make(map[string]string),
		holds:   make(map[string]memMark),
		cools:   make(map[string]memMark),
		tokens:  make(map[string]*memToken),
		counts:  make(map[string]*memCount),
		convs:   make(map[string]*memConv),
	}
}

func live[T any](m map[string]T, k string, now time.Time, exp func(T) time.Time) (T, bool) {
	v, ok := m[k]
	if !ok || !now.Before(exp(v)) {
		var zero T
		return zero, false
	}
	return v, true
}

func markExp(m memMark) time.Time { return m.expires }

// Reserve implements [Store].
func (s *MemoryStore) Reserve(_ context.Context, r Reservation) (Refusal, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := live(s.tokens, r.Token, now, func(t *memToken) time.Time { return t.expires }); ok {
		if t.released {
			return Refusal{}, ErrReleased
		}
		return t.answer, nil
	}
	if m, ok := live(s.holds, r.Number, now, markExp); ok {
		wait := m.expires.Sub(now)
		if c, ok := live(s.cools, r.Number, now, markExp); ok {
			wait = min(wait, c.expires.Sub(now))
		}
		return Refusal{Reason: ReasonPending, RetryAfter: wait}, nil
	}
	ans := Refusal{Reserved: true}
	refuse := func(reason Reason, wait time.Duration) bool {
		if ans.Reason == ReasonNone {
			ans.Reason, ans.RetryAfter = reason, wait
		}
		return !r.RecordOnly
	}
	if m, ok := live(s.cools, r.Number, now, markExp); ok {
		if refuse(ReasonCooldown, m.expires.Sub(now)) {
			return Refusal{Reason: ReasonCooldown, RetryAfter: m.expires.Sub(now)}, nil
		}
	}
	for _, c := range r.Counters {
		if n, ok := live(s.counts, c.Key, now, func(n *memCount) time.Time { return n.expires }); ok && n.n >= c.Limit {
			if refuse(c.Reason, n.expires.Sub(now)) {
				return Refusal{Reason: c.Reason, RetryAfter: n.expires.Sub(now)}, nil
			}
		}
	}
	for _, c := range r.Conversions {
		if v, ok := live(s.convs, c.Key, now, func(v *memConv) time.Time { return v.expires }); ok && v.sends-v.verified >= c.Base+c.Factor*v.verified {
			if refuse(c.Reason, v.expires.Sub(now)) {
				return Refusal{Reason: c.Reason, RetryAfter: v.expires.Sub(now)}, nil
			}
		}
	}
	if s.writes++; s.writes >= max(memSweepEvery, len(s.tokens)+len(s.counts)+len(s.vers)) {
		s.writes = 0
		s.sweep(now)
	}
	for _, c := range r.Counters {
		n, ok := live(s.counts, c.Key, now, func(n *memCount) time.Time { return n.expires })
		if !ok {
			n = &memCount{expires: now.Add(c.Window)}
			s.counts[c.Key] = n
		}
		n.n++
	}
	convs := make([]string, 0, len(r.Conversions))
	for _, c := range r.Conversions {
		v, ok := live(s.convs, c.Key, now, func(v *memConv) time.Time { return v.expires })
		if !ok {
			v = &memConv{expires: now.Add(c.Window)}
			s.convs[c.Key] = v
		}
		v.sends++
		convs = append(convs, c.Key)
	}
	if r.Cooldown > 0 {
		s.cools[r.Number] = memMark{v: r.Token, expires: now.Add(r.Cooldown)}
	} else {
		delete(s.cools, r.Number)
	}
	s.holds[r.Number] = memMark{v: r.Token, expires: now.Add(r.TTL)}
	if old, ok := s.current[r.Number]; ok {
		delete(s.vers, old)
	}
	s.current[r.Number] = r.ID
	s.vers[r.ID] = &memVer{
		mac: append([]byte(nil), r.MAC...), max: r.MaxChecks,
		expires: now.Add(r.TTL), keep: now.Add(2 * r.TTL),
		country: r.Country, rng: r.Range, convs: convs,
		number: r.Number,
	}
	keep := max(2*r.TTL, r.Cooldown)
	s.tokens[r.Token] = &memToken{number: r.Number, id: r.ID, answer: ans, expires: now.Add(keep)}
	return ans, nil
}

// Settle implements [Store].
func (s *MemoryStore) Settle(_ context.Context, token string, st Settlement) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := live(s.tokens, token, now, func(t *memToken) time.Time { return t.expires })
	if !ok {
		return nil
	}
	if m, ok := s.holds[t.number]; ok && m.v == token {
		delete(s.holds, t.number)
	}
	if st == SettleFailed || st == SettleReleased {
		if m, ok := s.cools[t.number]; ok && m.v == token {
			delete(s.cools, t.number)
		}
	}
	if st == SettleReleased {
		t.released = true
		delete(s.vers, t.id)
		if s.current[t.number] == t.id {
			delete(s.current, t.number)
		}
	}
	return nil
}

// Check implements [Store].
func (s *MemoryStore) Check(_ context.Context, c CheckRequest) (CheckResult, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := live(s.vers, c.ID, now, func(v *memVer) time.Time { return v.keep })
	if ok {
		if r, done := v.ops[c.Op]; done {
			return r, nil
		}
	}
	if c.Client.Limit > 0 {
		n, ok := live(s.counts, c.Client.Key, now, func(n *memCount) time.Time { return n.expires })
		if ok {
			if _, done := n.ops[c.Op]; !done && n.n >= c.Client.Limit {
				return CheckResult{Status: CheckRateLimited, RetryAfter: n.expires.Sub(now)}, nil
			}
		} else {
			n = &memCount{expires: now.Add(c.Client.Window)}
			s.counts[c.Client.Key] = n
		}
		if n.ops == nil {
			n.ops = make(map[string]struct{})
		}
		if _, done := n.ops[c.Op]; !done {
			n.ops[c.Op] = struct{}{}
			n.n++
		}
	}
	if !ok {
		return CheckResult{Status: CheckUnknown}, nil
	}
	res := CheckResult{Country: v.country, Range: v.rng}
	switch {
	case v.used:
		res.Status = CheckUsed
		return res, nil
	case !now.Before(v.expires):
		res.Status = CheckExpired
		return res, nil
	case v.checks >= v.max:
		res.Status = CheckExhausted
		return res, nil
	}
	v.checks++
	res.AttemptsLeft = v.max - v.checks
	res.Status = CheckWrong
	if subtle.ConstantTimeCompare(v.mac, c.MAC) == 1 {
		res.Status = CheckValid
		v.used = true
		for _, k := range v.convs {
			if cv, ok := live(s.convs, k, now, func(v *memConv) time.Time { return v.expires }); ok {
				cv.verified++
			}
		}
	}
	if v.ops == nil {
		v.ops = make(map[string]CheckResult, v.max)
	}
	v.ops[c.Op] = res
	return res, nil
}

func (s *MemoryStore) sweep(now time.Time) {
	for _, m := range []map[string]memMark{s.holds, s.cools} {
		for k, v := range m {
			if !now.Before(v.expires) {
				delete(m, k)
			}
		}
	}
	for k, v := range s.tokens {
		if !now.Before(v.expires) {
			delete(s.tokens, k)
		}
	}
	for k, v := range s.vers {
		if !now.Before(v.keep) {
			delete(s.vers, k)
			if s.current[v.number] == k {
				delete(s.current, v.number)
			}
		}
	}
	for k, v := range s.counts {
		if !now.Before(v.expires) {
			delete(s.counts, k)
		}
	}
	for k, v := range s.convs {
		if !now.Before(v.expires) {
			delete(s.convs, k)
		}
	}
}
