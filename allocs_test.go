package voicecall

import (
	"testing"
	"time"
)

// Allocation gates (reliability-and-performance.md §B5, BM-9): allocation
// counts are deterministic, so they are the CI-stable guard of the hot
// paths. The numbers are the committed ceilings; lower is welcome.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	s := newSigner("myAppKey", "myAppSecret")
	now := time.Now()
	req := fullRequest()
	answerBody := []byte(`{"resultcode":"0","resultdesc":"Success","sessionId":"1200_366_0_20161228102743@callenabler.home1.com"}`)
	rejectBody := []byte(`{"resultcode":"1010002","resultdesc":"Invalid request."}`)
	gates := []struct {
		name string
		max  float64
		fn   func()
	}{
		// uuid.NewRandom's buffer and the header string.
		{"sign", 2, func() { _, _ = s.headerValue(now, time.UTC) }},
		// url.Parse of the two callback URLs; none without them.
		{"validate", 2, func() { _ = req.Validate() }},
		{"validate without callback URLs", 0, func() { _ = validRequest().Validate() }},
		// The body buffer, sized once.
		{"build body", 1, func() { _ = req.marshal(req.UserData) }},
		// encoding/json's decoder state, resultdesc and sessionId.
		{"classify success", 7, func() { _, _ = classify("CallVerify", 200, ContentType, answerBody, "tok") }},
		// Plus the error, its sanitised description and body snippet.
		{"classify rejection", 15, func() { _, _ = classify("CallVerify", 403, ContentType, rejectBody, "tok") }},
	}
	for _, g := range gates {
		got := testing.AllocsPerRun(200, g.fn)
		t.Logf("%s: %.0f allocs/op (gate %.0f)", g.name, got, g.max)
		if got > g.max {
			t.Errorf("%s: %.0f allocs/op, gate is %.0f", g.name, got, g.max)
		}
	}
}
