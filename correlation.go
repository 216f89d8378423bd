package voicecall

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// CorrelationIndex finds calls by the userData they carried. When a
// CallVerify request leaves UserData empty, the SDK sends a unique
// correlation token ([IsCorrelationToken]) and returns it on the response
// and on every error; the platform echoes it in the call's status events
// and CDR. Give a CorrelationIndex to [HandlerConfig].Correlations (or
// call Observe yourself) and [CorrelationIndex.Lookup] the token: a
// sighting proves the call was placed, which settles a CallVerify whose
// outcome was unknown.
//
// The index assumes userData values are unique per call, as the SDK's
// tokens are; when two calls share one, the later session replaces the
// earlier. It lives in memory, remembers a call for a TTL after its last
// notification (default 24 hours) and holds at most maxEntries calls
// (default 100,000), dropping the oldest first. It is safe for
// concurrent use. Applications with several receiver instances should
// record userData in their own database from the callbacks instead.
type CorrelationIndex struct {
	ttl time.Duration
	now func() time.Time

	mu  sync.Mutex
	set fifoMap[CallSighting]
}

// CallSighting is what a [CorrelationIndex] knows about one call.
type CallSighting struct {
	// UserData is the userData the call carried.
	UserData string
	// SessionID identifies the call.
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
	// FirstSeen and LastSeen are when the index first and last received
	// a notification of the call (receiver's clock).
	FirstSeen, LastSeen time.Time
}

// NewCorrelationIndex returns an empty index; ttl <= 0 means
// [DefaultCorrelationTTL] and maxEntries <= 0 means
// [DefaultCorrelationMaxEntries].
func NewCorrelationIndex(ttl time.Duration, maxEntries int) *CorrelationIndex {
	if ttl <= 0 {
		ttl = DefaultCorrelationTTL
	}
	if maxEntries <= 0 {
		maxEntries = DefaultCorrelationMaxEntries
	}
	return &CorrelationIndex{ttl: ttl, now: time.Now, set: newFIFOMap[CallSighting](maxEntries)}
}

// Lookup returns what is known about the call that carried userData.
func (c *CorrelationIndex) Lookup(userData string) (CallSighting, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.set.get(userData, now)
}

// Observe records the status event or CDRs of n that carry a userData.
// The [Handler] calls it for every notification it accepts.
func (c *CorrelationIndex) Observe(n *Notification) {
	switch n.Kind {
	case NotificationStatus:
		if ev := n.Status; ev != nil && ev.UserData != "" {
			c.update(ev.UserData, ev.SessionID, func(s *CallSighting) {
				s.raise(ev.Type)
				if ev.Type == EventAnswer {
					s.Answered = true
				}
				if ev.Type == EventDisconnect && ev.HasStateCode {
					s.StateCode, s.HasStateCode = ev.StateCode, true
				}
			})
		}
	case NotificationFee:
		for i := range n.Fees {
			rec := &n.Fees[i]
			if rec.UserData == "" {
				continue
			}
			c.update(rec.UserData, rec.SessionID, func(s *CallSighting) {
				s.raise(EventFee)
				s.HasCDR = true
				s.Answered = s.Answered || rec.Answered()
			})
		}
	}
}

func (c *CorrelationIndex) update(userData, sessionID string, apply func(*CallSighting)) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.set.purge(now)
	s, ok := c.set.get(userData, now)
	if !ok || s.SessionID != sessionID {
		s = CallSighting{UserData: userData, SessionID: sessionID, FirstSeen: now}
	}
	s.LastSeen = now
	apply(&s)
	c.set.put(userData, s, now.Add(c.ttl))
}

// raise sets LastEvent to t if t comes later in a call's life.
func (s *CallSighting) raise(t EventType) {
	if eventRank(t) > eventRank(s.LastEvent) {
		s.LastEvent = t
	}
}

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
