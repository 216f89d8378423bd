package voicecall

// Paired benchmarks of the notification side (reliability-and-performance.md
// §B5, BM-5 and BM-6), on a generated 50-record CDR batch in which every
// record carries every documented FeeInfo field (internal/cdrbatch).

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall/internal/cdrbatch"
)

// rawDecode is the floor of both benchmarks: encoding/json's Unmarshal of
// the body into the SDK's own wire structs, nothing else.
func rawDecode(b *testing.B, body []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var env wireEnvelope
		if err := json.Unmarshal(body, &env); err != nil || len(env.FeeLst) != 50 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeFee50 compares ParseNotification (UTF-8 check, decode,
// envelope member check, record checks, time parsing, the public
// FeeRecords) with the raw decode (BM-5: target ratio <= 1.10).
func BenchmarkDecodeFee50(b *testing.B) {
	body := cdrbatch.Generate(50)
	b.Run("impl=raw", func(b *testing.B) { rawDecode(b, body) })
	b.Run("impl=sdk", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			n, err := ParseNotification(body)
			if err != nil || len(n.Fees) != 50 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWebhook compares the full Handler, through
// httptest.NewRecorder, with the raw decode of the same body (BM-6:
// target ratio <= 1.15). impl=handler is a new batch: the Handler
// limits and reads the body, parses it, claims each record in its
// MemoryDedup, calls OnFee and commits the record. The dedup clock moves
// on by more than the TTL between requests, so the same body counts as
// new every time while the store stays at 50 keys. impl=handler-repush
// is the platform's re-push of a handled batch: every record is a
// duplicate and OnFee is not called.
func BenchmarkWebhook(b *testing.B) {
	body := cdrbatch.Generate(50)
	serve := func(b *testing.B, h *Handler, next func()) {
		r := bytes.NewReader(body)
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			next()
			r.Reset(body)
			req := httptest.NewRequest(http.MethodPost, "/fee", r)
			req.Header.Set("Content-Type", ContentType)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatal(w.Code)
			}
		}
	}
	b.Run("impl=raw", func(b *testing.B) { rawDecode(b, body) })
	b.Run("impl=handler", func(b *testing.B) {
		dedup := NewMemoryDedup(time.Hour, 0)
		clock := time.Date(2026, 3, 14, 7, 30, 0, 0, time.UTC)
		dedup.now = func() time.Time { return clock }
		calls := 0
		h, err := NewHandler(HandlerConfig{Dedup: dedup, OnFee: func(context.Context, *FeeRecord) error {
			calls++
			return nil
		}})
		if err != nil {
			b.Fatal(err)
		}
		serve(b, h, func() { clock = clock.Add(2 * time.Hour) }) // a new batch each time
		if calls < 50 || calls%50 != 0 {
			b.Fatalf("OnFee called %d times, want a multiple of 50", calls)
		}
	})
	b.Run("impl=handler-repush", func(b *testing.B) {
		h, err := NewHandler(HandlerConfig{OnFee: func(context.Context, *FeeRecord) error { return nil }})
		if err != nil {
			b.Fatal(err)
		}
		serve(b, h, func() {})
	})
}

// BenchmarkCheckEnvelopeKeys is the duplicate-member scan alone, one part
// of the gap between impl=sdk and impl=raw in BenchmarkDecodeFee50.
func BenchmarkCheckEnvelopeKeys(b *testing.B) {
	body := cdrbatch.Generate(50)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := checkEnvelopeKeys(body); err != nil {
			b.Fatal(err)
		}
	}
}
