package redisstore

import (
	"context"

	"github.com/voicecall-go/voicecall"
)

// ObserveAs runs Observe as operation op (16 hex digits), as go-redis
// re-sends it after a lost reply: the tests use it to re-send an
// operation after another one.
func (c *CorrelationStore) ObserveAs(ctx context.Context, s voicecall.CallSighting, op string) (voicecall.CallSighting, error) {
	s.SessionID = boundedID(s.SessionID)
	s.LastEvent = voicecall.EventType(boundedID(string(s.LastEvent)))
	return c.observe(ctx, s, op)
}

// Held returns how many claims d remembers for Release.
func (d *DedupStore) Held() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.held)
}
