package otp

import (
	"context"
	"crypto/subtle"
	"strconv"
	"sync"
	"time"
)

// CheckResult is what [CodeStore.Check] found.
type CheckResult int

// Check results.
const (
	// CheckNone: no code is pending (none was put, it expired or it was
	// used). Nothing was counted.
	CheckNone CheckResult = iota + 1
	// CheckValid: the MAC matched; the check was counted and the code is
	// gone.
	CheckValid
	// CheckWrong: the MAC did not match; the check was counted.
	CheckWrong
	// CheckExhausted: the code was checked maxChecks times already;
	// nothing was counted or compared.
	CheckExhausted
)

// String returns "none", "valid", "wrong" or "exhausted".
func (c CheckResult) String() string {
	switch c {
	case CheckNone:
		return "none"
	case CheckValid:
		return "valid"
	case CheckWrong:
		return "wrong"
	case CheckExhausted:
		return "exhausted"
	}
	return "CheckResult(" + strconv.Itoa(int(c)) + ")"
}

// CodeStore keeps the pending code of each number as a MAC. number is an
// opaque id (the Lifecycle passes a keyed hash, never the phone number).
// Implementations must be safe for concurrent use, and each method must
// be atomic: of any number of concurrent Checks of one code, exactly
// maxChecks are counted, and at most one returns CheckValid.
type CodeStore interface {
	// Put stores mac as number's pending code for ttl, replacing any
	// code pending for it; its count of checks starts at 0.
	Put(ctx context.Context, number string, mac []byte, ttl time.Duration) error
	// Check counts one check of number's pending code, unless it was
	// checked maxChecks times already, and compares mac with the stored
	// MAC in constant time; a match removes the code.
	Check(ctx context.Context, number string, mac []byte, maxChecks int) (CheckResult, error)
}

// Counter is one rate limit of a [Reservation]: at most Limit sends in a
// window of Window that opens at the first send counted under Key and
// closes Window later (a fixed window, started by use).
type Counter struct {
	// Key names the counter in the store: unique per limit and subject.
	Key string
	// Limit is the most sends the window allows, at least 1.
	Limit int
	// Window is the window's length, at least 1 ms.
	Window time.Duration
	// Reason is reported when this counter refuses.
	Reason Reason
}

// Reservation asks a [GuardStore] to let one send to Number through.
type Reservation struct {
	// Number is the destination's opaque id.
	Number string
	// Token is the correlation token of the call about to be placed.
	Token string
	// Cooldown, when positive, refuses further sends to Number for that
	// long, unless the call is settled as failed.
	Cooldown time.Duration
	// Hold refuses further sends to Number for that long, until the call
	// is settled (its outcome becomes known); at least 1 ms.
	Hold time.Duration
	// Counters are checked in order after the hold and the cooldown.
	Counters []Counter
}

// Refusal is a [GuardStore]'s answer: Reason is [ReasonNone] when the
// send was reserved, else the first limit that refused and RetryAfter
// how long it still refuses. For [ReasonPending] RetryAfter is the
// shorter of the hold's and the cooldown's remaining times: a settlement
// can lift the hold at any moment, and the cooldown then remains.
type Refusal struct {
	Reason     Reason
	RetryAfter time.Duration
}

// Settlement is what became known of a reserved call.
type Settlement int

// Settlements.
const (
	// SettlePlaced: the call was placed (the platform accepted it, or a
	// notification of it arrived): the hold is lifted, the cooldown stays.
	SettlePlaced Settlement = iota + 1
	// SettleFailed: no call reached the callee (the platform rejected
	// the request, or the call failed before it was answered): the hold
	// and the cooldown are lifted. Counters are never refunded.
	SettleFailed
)

// GuardStore keeps the guard's state: holds, cooldowns and counters.
// Implementations must be safe for concurrent use and each method
// atomic: of concurrent Reserves that one send would bring over a limit,
// exactly one succeeds.
type GuardStore interface {
	// Reserve refuses the send when Number is held (ReasonPending), in
	// its cooldown (ReasonCooldown) or when a counter is at its limit
	// (that counter's Reason), checked in that order, and otherwise, in
	// the same atomic step, counts the send in every counter, starts the
	// cooldown and the hold, and remembers Token's number for Settle
	// (for at least max(Hold, Cooldown)). A refusal changes nothing.
	Reserve(ctx context.Context, r Reservation) (Refusal, error)
	// Settle lifts the hold, and with SettleFailed the cooldown, that
	// token's reservation set, if they are still token's (a later send's
	// hold or cooldown stays). An unknown or forgotten token is ignored.
	Settle(ctx context.Context, token string, s Settlement) error
}

// memSweepEvery is the fewest writes a memory store makes between sweeps
// of its expired entries; it waits for as many writes as it holds
// entries, so that a sweep costs O(1) per write.
const memSweepEvery = 1024

// MemoryCodeStore is the in-process [CodeStore]. Expired codes are
// dropped as writes go. Its memory is bounded by the sends the guard
// lets through in one TTL. It is safe for concurrent use; its state is
// lost on exit and not shared between processes.
type MemoryCodeStore struct {
	now func() time.Time

	mu     sync.Mutex
	codes  map[string]*memCode
	writes int
}

type memCode struct {
	mac     []byte
	checks  int
	expires time.Time
}

// NewMemoryCodeStore returns an empty MemoryCodeStore.
func NewMemoryCodeStore() *MemoryCodeStore {
	return &MemoryCodeStore{now: time.Now, codes: make(map[string]*memCode)}
}

// Put implements [CodeStore].
func (s *MemoryCodeStore) Put(_ context.Context, number string, mac []byte, ttl time.Duration) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writes++; s.writes >= max(memSweepEvery, len(s.codes)) {
		s.writes = 0
		for k, c := range s.codes {
			if !now.Before(c.expires) {
				delete(s.codes, k)
			}
		}
	}
	s.codes[number] = &memCode{mac: append([]byte(nil), mac...), expires: now.Add(ttl)}
	return nil
}

// Check implements [CodeStore].
func (s *MemoryCodeStore) Check(_ context.Context, number string, mac []byte, maxChecks int) (CheckResult, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[number]
	if !ok || !now.Before(c.expires) {
		delete(s.codes, number)
		return CheckNone, nil
	}
	if c.checks >= maxChecks {
		return CheckExhausted, nil
	}
	c.checks++
	if subtle.ConstantTimeCompare(c.mac, mac) == 1 {
		delete(s.codes, number)
		return CheckValid, nil
	}
	return CheckWrong, nil
}

// MemoryGuardStore is the in-process [GuardStore]. Expired entries are
// dropped as writes go; its memory is bounded by the sends the guard lets
// through in a day (at most GlobalPerMinute x 1440 numbers). It is safe
// for concurrent use; its state is lost on exit and not shared between
// processes, so several instances each apply the limits on their own.
type MemoryGuardStore struct {
	now func() time.Time

	mu     sync.Mutex
	holds  map[string]memMark // number -> token
	cools  map[string]memMark // number -> token
	tokens map[string]memMark // token -> number
	counts map[string]memCount
	writes int
}

type memMark struct {
	v       string
	expires time.Time
}

type memCount struct {
	n       int
	expires time.Time
}

// NewMemoryGuardStore returns an empty MemoryGuardStore.
func NewMemoryGuardStore() *MemoryGuardStore {
	return &MemoryGuardStore{
		now:    time.Now,
		holds:  make(map[string]memMark),
		cools:  make(map[string]memMark),
		tokens: make(map[string]memMark),
		counts: make(map[string]memCount),
	}
}

// Reserve implements [GuardStore].
func (s *MemoryGuardStore) Reserve(_ context.Context, r Reservation) (Refusal, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.holds[r.Number]; ok && now.Before(m.expires) {
		wait := m.expires.Sub(now)
		if c, ok := s.cools[r.Number]; ok && now.Before(c.expires) {
			wait = min(wait, c.expires.Sub(now))
		}
		return Refusal{Reason: ReasonPending, RetryAfter: wait}, nil
	}
	if m, ok := s.cools[r.Number]; ok && now.Before(m.expires) {
		return Refusal{Reason: ReasonCooldown, RetryAfter: m.expires.Sub(now)}, nil
	}
	for _, c := range r.Counters {
		if n, ok := s.counts[c.Key]; ok && now.Before(n.expires) && n.n >= c.Limit {
			return Refusal{Reason: c.Reason, RetryAfter: n.expires.Sub(now)}, nil
		}
	}
	if s.writes++; s.writes >= max(memSweepEvery, len(s.tokens)+len(s.counts)) {
		s.writes = 0
		s.sweep(now)
	}
	for _, c := range r.Counters {
		n, ok := s.counts[c.Key]
		if !ok || !now.Before(n.expires) {
			n = memCount{expires: now.Add(c.Window)}
		}
		n.n++
		s.counts[c.Key] = n
	}
	if r.Cooldown > 0 {
		s.cools[r.Number] = memMark{v: r.Token, expires: now.Add(r.Cooldown)}
	} else {
		delete(s.cools, r.Number)
	}
	s.holds[r.Number] = memMark{v: r.Token, expires: now.Add(r.Hold)}
	s.tokens[r.Token] = memMark{v: r.Number, expires: now.Add(max(r.Hold, r.Cooldown))}
	return Refusal{}, nil
}

// Settle implements [GuardStore].
func (s *MemoryGuardStore) Settle(_ context.Context, token string, st Settlement) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[token]
	if !ok || !now.Before(t.expires) {
		return nil
	}
	if m, ok := s.holds[t.v]; ok && m.v == token {
		delete(s.holds, t.v)
	}
	if st == SettleFailed {
		if m, ok := s.cools[t.v]; ok && m.v == token {
			delete(s.cools, t.v)
		}
	}
	return nil
}

func (s *MemoryGuardStore) sweep(now time.Time) {
	for _, m := range []map[string]memMark{s.holds, s.cools, s.tokens} {
		for k, v := range m {
			if !now.Before(v.expires) {
				delete(m, k)
			}
		}
	}
	for k, v := range s.counts {
		if !now.Before(v.expires) {
			delete(s.counts, k)
		}
	}
}
