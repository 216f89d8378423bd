package voicecall

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/voicecall-go/voicecall/internal/expiring"
)

// CorrelationStore (for store implementers; applications pass a
// [CorrelationIndex] or the redisstore module's store and call Lookup)
// keeps what notifications said about each call, by
// the userData the call carried. When a CallVerify request leaves
// UserData empty, the SDK sends a unique correlation token
// ([IsCorrelationToken]) and returns it on the response and on every
// error; the platform echoes it in the call's status events and CDR.
// Give a store to [HandlerConfig].Correlations and Lookup the token: a
// sighting proves the call was placed, which settles a CallVerify whose
// outcome was unknown.
//
// [CorrelationIndex] is the in-memory store; the redisstore module has a
// shared one. Implementations must be safe for concurrent use and apply
// [CallSighting.Merge], so that every store keeps the same thing.
type CorrelationStore interface {
	// Observe folds s into what is kept for s.UserData (by the rules of
	// CallSighting.Merge), atomically, and returns the merged sighting.
	Observe(ctx context.Context, s CallSighting) (CallSighting, error)
	// Lookup returns what is kept for userData; ok is false when nothing
	// is.
	Lookup(ctx context.Context, userData string) (s CallSighting, ok bool, err error)
}

// CallSighting (for store implementers, and what Lookup returns) is
// what a [CorrelationStore] knows about one call.
type CallSighting struct {
	// UserData is the userData the call carried.
	UserData string
	// SessionID identifies the call. [CorrelationIndex] keeps one longer
	// than 256 bytes (the platform's maximum) as "sha256:" and the first
	// 32 hex digits of its SHA-256, so that no push can make it hold more.
	SessionID string
	// LastEvent is the furthest event seen, in the order callout,
	// alerting, answer, collectInfo, disconnect, fee (whatever the order
	// of arrival).
	LastEvent EventType
	// Answered reports whether an answer event or an answered CDR was
	// seen.
	Answered bool
	// StateCode is the hang-up reason of the disconnect event, when
	// HasStateCode.
	StateCode StateCode
	// HasStateCode reports whether a disconnect event with a stateCode
	// was seen.
	HasStateCode bool
	// HasCDR reports whether the call's CDR was seen.
	HasCDR bool
	// FirstSeen and LastSeen are when the store first and last received
	// a notification of the call (receiver's clock).
	FirstSeen, LastSeen time.Time
}

// Merge returns s with o folded in. When both have the same SessionID
// (an empty SessionID, from a status event that carried none, counts as
// the same call and takes the other's), LastEvent becomes the later of
// the two in a call's life, Answered and HasCDR are or-ed, a
// disconnect's StateCode is kept (o's when it has one), FirstSeen is the
// earlier and LastSeen the later (a zero time counts as unknown). A
// different SessionID means the userData was reused by another call: o
// replaces s. Merge is pure, so every store applies the same rule.
func (s CallSighting) Merge(o CallSighting) CallSighting {
	if s.SessionID != o.SessionID && s.SessionID != "" && o.SessionID != "" {
		return o
	}
	out := s
	if out.SessionID == "" {
		out.SessionID = o.SessionID
	}
	if o.UserData != "" {
		out.UserData = o.UserData
	}
	if eventRank(o.LastEvent) > eventRank(s.LastEvent) {
		out.LastEvent = o.LastEvent
	}
	out.Answered = s.Answered || o.Answered
	out.HasCDR = s.HasCDR || o.HasCDR
	if o.HasStateCode {
		out.StateCode, out.HasStateCode = o.StateCode, true
	}
	if out.FirstSeen.IsZero() || (!o.FirstSeen.IsZero() && o.FirstSeen.Before(out.FirstSeen)) {
		out.FirstSeen = o.FirstSeen
	}
	if o.LastSeen.After(out.LastSeen) {
		out.LastSeen = o.LastSeen
	}
	return out
}

// sightings returns one CallSighting per status event or CDR of n that
// carries a userData, seen at now (FirstSeen and LastSeen).
func sightings(n *Notification, now time.Time) []CallSighting {
	var out []CallSighting
	switch n.Kind {
	case NotificationStatus:
		if ev := n.Status; ev != nil && ev.UserData != "" {
			s := CallSighting{UserData: ev.UserData, SessionID: ev.SessionID, LastEvent: ev.Type, FirstSeen: now, LastSeen: now}
			s.Answered = ev.Type == EventAnswer
			if ev.Type == EventDisconnect && ev.HasStateCode {
				s.StateCode, s.HasStateCode = ev.StateCode, true
			}
			out = append(out, s)
		}
	case NotificationFee:
		for i := range n.Fees {
			rec := &n.Fees[i]
			if rec.UserData == "" {
				continue
			}
			out = append(out, CallSighting{
				UserData: rec.UserData, SessionID: rec.SessionID, LastEvent: EventFee,
				HasCDR: true, Answered: rec.Answered(), FirstSeen: now, LastSeen: now,
			})
		}
	}
	return out
}

// maxCorrelationIDLen bounds the userData and sessionId a
// CorrelationIndex keeps verbatim.
const maxCorrelationIDLen = 256

// CorrelationIndex is the in-memory [CorrelationStore]. It remembers a
// call for a TTL after its last notification (default 24 hours) and
// holds at most maxBytes (default [DefaultCorrelationMaxBytes]),
// counting per call its fixed overhead (about 450 bytes) and the bytes
// of its userData and sessionId; at the bound it drops the calls first
// seen longest ago. Calls are keyed by a 128-bit hash of their
// userData; a userData or sessionId longer than 256 bytes is not kept
// verbatim (see [CallSighting]), so every call costs at most about 1 KB.
// It is safe for concurrent use. Applications with several receiver
// instances should use a shared store, or record userData in their own
// database from the callbacks.
type CorrelationIndex struct {
	ttl time.Duration
	now func() time.Time

	mu  sync.Mutex
	set *expiring.Map[DedupKey, CallSighting]
}

// NewCorrelationIndex returns an empty index; ttl <= 0 means
// [DefaultCorrelationTTL] and maxBytes <= 0 means
// [DefaultCorrelationMaxBytes].
func NewCorrelationIndex(ttl time.Duration, maxBytes int64) *CorrelationIndex {
	if ttl <= 0 {
		ttl = DefaultCorrelationTTL
	}
	if maxBytes <= 0 {
		maxBytes = DefaultCorrelationMaxBytes
	}
	size := func(_ DedupKey, s CallSighting) int {
		return len(s.UserData) + len(s.SessionID) + len(s.LastEvent) + int(unsafe.Sizeof(s))
	}
	return &CorrelationIndex{ttl: ttl, now: time.Now, set: expiring.New(maxBytes, size, expiring.Evict)}
}

func correlationKey(userData string) DedupKey {
	sum := sha256.Sum256([]byte(userData))
	return DedupKey(sum[:16])
}

// boundedID returns id, or its hash when longer than
// maxCorrelationIDLen.
func boundedID(id string) string {
	if len(id) <= maxCorrelationIDLen {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// Lookup implements [CorrelationStore].
func (c *CorrelationIndex) Lookup(_ context.Context, userData string) (CallSighting, bool, error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.set.Get(correlationKey(userData), now)
	if ok {
		s.UserData = userData
	}
	return s, ok, nil
}

// Observe implements [CorrelationStore]. The [Handler] calls it for every
// sighting of every notification it accepts: one per status event or
// CDR that carries a userData.
func (c *CorrelationIndex) Observe(_ context.Context, s CallSighting) (CallSighting, error) {
	now := c.now()
	userData := s.UserData
	s.SessionID = boundedID(s.SessionID)
	s.LastEvent = EventType(boundedID(string(s.LastEvent)))
	key := correlationKey(userData)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set.Purge(now)
	old, ok := c.set.Get(key, now)
	if ok {
		old.UserData = userData
		s = old.Merge(s)
	}
	kept := s
	if len(userData) > maxCorrelationIDLen {
		kept.UserData = ""
	}
	c.set.Put(key, kept, now.Add(c.ttl), now)
	return s, nil
}

// eventRank orders event types by their place in a call's life.
func eventRank(t EventType) int {
	switch t {
	case EventCallout:
		return 1
	case EventAlerting:
		return 2
	case EventAnswer:
		return 3
	case EventCollectInfo:
		return 4
	case EventDisconnect:
		return 5
	case EventFee:
		return 6
	}
	return 0
}

// NewCorrelationToken returns a new correlation token: "vc" and 32 hex
// digits from crypto/rand. When a request leaves UserData empty the SDK
// sets one itself; generate it yourself and record it before the call
// when your notification receiver must recognise the call's very first
// push (callout), which can arrive before the request method returns.
func NewCorrelationToken() string {
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (Go 1.24 and later)
	var b [34]byte
	b[0], b[1] = 'v', 'c'
	hex.Encode(b[2:], raw[:])
	return string(b[:])
}

// IsCorrelationToken reports whether s has the form of a token the SDK
// generates for an empty UserData.
func IsCorrelationToken(s string) bool {
	return len(s) == 34 && strings.HasPrefix(s, "vc") && strings.Trim(s[2:], "0123456789abcdef") == ""
}
