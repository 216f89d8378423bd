package voicecall

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall/internal/cdrbatch"
)

// Allocation gates (docs/PERFORMANCE.md): allocation
// counts are deterministic, so they are the CI-stable guard of the hot
// paths. The numbers are the committed ceilings; lower is welcome.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	c, err := NewClient("https://example.com", "myAppKey", "myAppSecret")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	req := fullRequest()
	answerBody := []byte(`{"resultcode":"0","resultdesc":"Success","sessionId":"1200_366_0_20161228102743@callenabler.home1.com"}`)
	rejectBody := []byte(`{"resultcode":"1010002","resultdesc":"Invalid request."}`)
	// The notification side, on a 50-record batch carrying every
	// documented field. encoding/json makes one allocation per string
	// member and a few per record: rawFee is that floor.
	feeBody := cdrbatch.Generate(50)
	rawFee := testing.AllocsPerRun(50, func() {
		var env rawEnvelope
		_ = json.Unmarshal(feeBody, &env)
	})
	serveFee := allocsHandler(t, feeBody)
	gates := []struct {
		name string
		max  float64
		fn   func()
	}{
		// The header string.
		{"sign", 1, func() { _, _ = c.signer.Sign(now) }},
		// url.Parse of the two callback URLs; none without them.
		{"validate", 2, func() { _ = req.Validate() }},
		{"validate without callback URLs", 0, func() { _ = validRequest().Validate() }},
		// The wire struct, json.Marshal's result and state, and the two
		// Base64 URLs.
		{"build body", 6, func() { _, _ = marshalBody(req.wire(req.UserData)) }},
		// One encoding/json decode into the response, and the header map.
		{"classify success", 10, func() { _, _ = classifyCallVerify(200, jsonContentType, answerBody) }},
		// Plus the error, its sanitised description and body snippet.
		{"classify rejection", 19, func() { _, _ = classifyCallVerify(403, jsonContentType, rejectBody) }},
		// The fast path (typed structs, as the raw decode) plus the
		// FeeRecords and a pointer per record. The general path, for
		// bodies with unmodelled or differently-cased members, makes
		// about 5,030 (a map of raw members per record).
		{"parse CDR batch of 50", 870, func() { _, _ = ParseNotification(feeBody) }},
		{"parse CDR batch of 50, general path", 5030, func() { _, _ = parseLenient(feeBody) }},
		// Parsing, plus the batch's key slices and map, the claim
		// results, the incremental body read, the detached context and
		// the answer's headers: parse + 72 (MemoryDedup allocates its
		// table once, on the first batch).
		{"handler, new CDR batch of 50", 941, serveFee},
	}
	t.Logf("raw decode of the CDR batch (the floor): %.0f allocs/op", rawFee)
	for _, g := range gates {
		got := testing.AllocsPerRun(200, g.fn)
		t.Logf("%s: %.0f allocs/op (gate %.0f)", g.name, got, g.max)
		if got > g.max {
			t.Errorf("%s: %.0f allocs/op, gate is %.0f", g.name, got, g.max)
		}
	}
}

// allocsHandler returns a function that has a Handler take body as a new
// batch: its MemoryDedup clock moves past the TTL before each request.
// The request and the response writer are reused, so that only the
// Handler's own allocations are counted.
func allocsHandler(t *testing.T, body []byte) func() {
	dedup := NewMemoryDedup(time.Hour, 0)
	clock := time.Date(2026, 3, 14, 7, 30, 0, 0, time.UTC)
	dedup.now = func() time.Time { return clock }
	h, err := NewHandler(HandlerConfig{Dedup: dedup, OnFee: func(context.Context, *FeeRecord) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(body)
	req, err := http.NewRequest(http.MethodPost, "/fee", io.NopCloser(r))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", jsonContentType)
	req.ContentLength = int64(len(body))
	w := &statusWriter{header: http.Header{}}
	return func() {
		clock = clock.Add(2 * time.Hour)
		r.Reset(body)
		w.status = 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			t.Fatalf("handler answered %d", w.status)
		}
	}
}

// statusWriter is a reusable http.ResponseWriter that keeps the status.
type statusWriter struct {
	header http.Header
	status int
}

func (w *statusWriter) Header() http.Header         { return w.header }
func (w *statusWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *statusWriter) WriteHeader(status int)      { w.status = status }
