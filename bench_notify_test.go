package voicecall

// Paired benchmarks of the notification side (docs/PERFORMANCE.md), on a
// generated 50-record CDR batch in which every record carries every
// documented FeeInfo field (internal/cdrbatch).

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall/internal/cdrbatch"
)

// rawEnvelope is what a careful user would decode a batch into with
// encoding/json: typed structs, field names matched case-insensitively,
// no unmodelled members kept.
type rawEnvelope struct {
	EventType  string      `json:"eventType"`
	StatusInfo *wireStatus `json:"statusInfo"`
	FeeLst     []wireFee   `json:"feeLst"`
}

// rawDecode is the floor of both benchmarks: encoding/json's Unmarshal of
// the body into typed structs, nothing else.
func rawDecode(b *testing.B, body []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var env rawEnvelope
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
// httptest.NewRecorder, with the raw decode of the same body (BM-6).
// impl=handler is a new batch on a small store: the Handler limits and
// reads the body, parses it, claims the records in its MemoryDedup,
// calls OnFee and commits them; the dedup clock moves on by more than
// the TTL between requests, so the same body counts as new every time.
//
// impl=handler-repush is the platform's re-push of a handled batch on
// that small store: every record a duplicate, OnFee not called.
//
// impl=full-new and impl=full-repush are the pair of the receiver issue
// (target: full-new at least 0.95x the throughput of full-repush): both
// run on a full MemoryDedup (200,000 records, its default bound, every
// set full).
// full-new pushes a batch of 50 records never seen (their icids carry
// the iteration number), so each push displaces 50 old keys;
// full-repush pushes one handled batch again, every record a duplicate
// and OnFee not called.
func BenchmarkWebhook(b *testing.B) {
	body := cdrbatch.Generate(50)
	serve := func(b *testing.B, h *Handler, body []byte, next func()) {
		r := bytes.NewReader(body)
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			next()
			r.Reset(body)
			req := httptest.NewRequest(http.MethodPost, "/fee", r)
			req.Header.Set("Content-Type", jsonContentType)
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
		serve(b, h, body, func() { clock = clock.Add(2 * time.Hour) }) // a new batch each time
		if calls < 50 || calls%50 != 0 {
			b.Fatalf("OnFee called %d times, want a multiple of 50", calls)
		}
	})
	b.Run("impl=full-new", func(b *testing.B) {
		fresh, next := newBatches(b, body)
		calls, iter := 0, 0
		h, err := NewHandler(HandlerConfig{Dedup: fullDedup(b), OnFee: func(context.Context, *FeeRecord) error {
			calls++
			return nil
		}})
		if err != nil {
			b.Fatal(err)
		}
		serve(b, h, fresh, func() {
			iter++
			next()
		})
		if calls != 50*iter {
			b.Fatalf("OnFee called %d times for %d new batches", calls, iter)
		}
	})
	b.Run("impl=handler-repush", func(b *testing.B) {
		h, err := NewHandler(HandlerConfig{OnFee: func(context.Context, *FeeRecord) error { return nil }})
		if err != nil {
			b.Fatal(err)
		}
		serve(b, h, body, func() {})
	})
	b.Run("impl=full-repush", func(b *testing.B) {
		calls := 0
		h, err := NewHandler(HandlerConfig{Dedup: fullDedup(b), OnFee: func(context.Context, *FeeRecord) error {
			calls++
			return nil
		}})
		if err != nil {
			b.Fatal(err)
		}
		serve(b, h, body, func() {})
		if calls != 50 {
			b.Fatalf("OnFee called %d times, want 50 (the first push)", calls)
		}
	})
}

// fullDedup returns a full MemoryDedup of the default bound: filled with
// four times the bound, so that every set of the table is full, as a
// long-running receiver's is, and a new key always displaces an old one.
func fullDedup(b *testing.B) *MemoryDedup {
	d := NewMemoryDedup(0, 0)
	keys := make([]DedupKey, 1)
	for i := range 4 * DefaultDedupMaxBytes / DedupRecordBytes {
		binary.BigEndian.PutUint64(keys[0][8:], uint64(i)+1<<62)
		_, _ = d.Claim(context.Background(), keys)
		_ = d.Commit(context.Background(), keys)
	}
	if d.Len() != DefaultDedupMaxBytes/DedupRecordBytes {
		b.Fatal("store not full")
	}
	// Both sides of a pair start from a collected heap, so that neither
	// pays for the garbage of the sub-benchmark before it.
	runtime.GC()
	return d
}

// newBatches returns a copy of a generated batch and a function that
// makes it a batch never seen: it writes a new number into each record's
// icid, in place.
func newBatches(b *testing.B, body []byte) (fresh []byte, next func()) {
	fresh = bytes.Clone(body)
	marker := []byte(`"icid":"CAE-20260314153000-`)
	var at []int
	for i := 0; ; {
		j := bytes.Index(fresh[i:], marker)
		if j < 0 {
			break
		}
		at = append(at, i+j+len(marker))
		i += j + len(marker)
	}
	if len(at) != 50 {
		b.Fatalf("found %d icids", len(at))
	}
	iter := 0
	return fresh, func() {
		iter++
		for k, p := range at {
			n := iter*64 + k
			for d := 7; d >= 0; d-- { // 8 digits, in place
				fresh[p+d] = byte('0' + n%10)
				n /= 10
			}
		}
	}
}

// BenchmarkWebhookPaired measures the full-new/full-repush pair of
// BenchmarkWebhook push by push, as BenchmarkCallVerifyPaired does for
// calls: each iteration pushes one new batch to one full store and
// re-pushes a handled batch to another, in an order that alternates, and
// times each push alone. It reports both times and repush/new, the
// throughput of new batches relative to re-pushes (target >= 0.95).
func BenchmarkWebhookPaired(b *testing.B) {
	body := cdrbatch.Generate(50)
	fresh, next := newBatches(b, body)
	handler := func(onFee func(context.Context, *FeeRecord) error) *Handler {
		h, err := NewHandler(HandlerConfig{Dedup: fullDedup(b), OnFee: onFee})
		if err != nil {
			b.Fatal(err)
		}
		return h
	}
	newCalls, repushCalls := 0, 0
	hNew := handler(func(context.Context, *FeeRecord) error { newCalls++; return nil })
	hRepush := handler(func(context.Context, *FeeRecord) error { repushCalls++; return nil })
	push := func(h *Handler, body []byte) time.Duration {
		req := httptest.NewRequest(http.MethodPost, "/fee", bytes.NewReader(body))
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, req)
		d := time.Since(start)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
		return d
	}
	push(hRepush, body) // handled once: every later push is a re-push
	var tNew, tRepush time.Duration
	n := 0
	for b.Loop() {
		next()
		if n%2 == 0 {
			tNew += push(hNew, fresh)
			tRepush += push(hRepush, body)
		} else {
			tRepush += push(hRepush, body)
			tNew += push(hNew, fresh)
		}
		n++
	}
	if newCalls != 50*n || repushCalls != 50 {
		b.Fatalf("OnFee called %d times for %d new batches, %d times for re-pushes", newCalls, n, repushCalls)
	}
	b.ReportMetric(float64(tNew.Nanoseconds())/float64(n), "ns/new")
	b.ReportMetric(float64(tRepush.Nanoseconds())/float64(n), "ns/repush")
	b.ReportMetric(float64(tRepush)/float64(tNew), "repush/new")
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
