package voicetest

import (
	"errors"
	"fmt"
	"maps"
)

// ErrNoDelivery is returned by [Server.Repush] for a delivery the server
// does not keep (unknown, or dropped by the [WithMaxRecords] bound or a
// [Server.Reset]).
var ErrNoDelivery = errors.New("voicetest: no such delivery")

// Repush pushes the notification of the delivery whose Seq is seq again,
// to the same URL with the same body (signed anew when pushes are
// signed), and returns the new delivery: its RepushOf is seq and its
// Attempt 1. It is made at once, whatever the original was (a status
// event or a CDR batch, answered or failed), so that a receiver's
// handling of a duplicate can be tried. Each call makes one more push.
func (s *Server) Repush(seq int) (Delivery, error) {
	s.mu.Lock()
	var orig *Delivery
	for i := range s.deliveries {
		if s.deliveries[i].Seq == seq {
			orig = &s.deliveries[i]
			break
		}
	}
	if orig == nil {
		s.mu.Unlock()
		return Delivery{}, fmt.Errorf("%w: %d", ErrNoDelivery, seq)
	}
	d := Delivery{Kind: orig.Kind, EventType: orig.EventType, URL: orig.URL, SessionIDs: orig.SessionIDs,
		Body: orig.Body, Attempt: 1, RepushOf: seq}
	app, ok := s.apps[orig.AppKey]
	s.mu.Unlock()
	if !ok {
		return Delivery{}, fmt.Errorf("voicetest: delivery %d: unknown app", seq)
	}
	if !s.enter() {
		return Delivery{}, errors.New("voicetest: server closed")
	}
	defer s.wg.Done()
	return s.post(app, d), nil
}

// Reset forgets what the server recorded (requests, calls, deliveries,
// recordings, downloads) and what was set since it started (faults,
// scenarios and digits set with [Server.SetScenario] and
// [Server.SetDigits]), going back to the options it was created with.
// Calls in progress keep playing and pushing; sequence numbers and
// session ids keep growing, so that an id is never given twice. Reset
// may be called any number of times.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.requests)
	s.requests = s.requests[:0]
	clear(s.calls)
	s.calls = s.calls[:0]
	clear(s.deliveries)
	s.deliveries = s.deliveries[:0]
	s.downloads = nil
	s.recordings = make(map[string]*recording)
	s.recordOrder = nil
	s.faults = nil
	s.scenario, s.next = s.cfg.scenario, ""
	s.callee = maps.Clone(s.cfg.callee)
	if s.callee == nil {
		s.callee = make(map[string]Scenario)
	}
	s.digits = maps.Clone(s.cfg.digits)
	if s.digits == nil {
		s.digits = make(map[string][]string)
	}
	s.notifyLocked()
}
