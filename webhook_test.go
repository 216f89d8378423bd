package voicecall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/aksk"
)

// recorder is a set of callbacks that remember what they were given.
type recorder struct {
	mu       sync.Mutex
	statuses []string // "event sessionId"
	fees     map[string]int
	order    []string
	unknown  []EventType
}

func newRecorder() *recorder { return &recorder{fees: map[string]int{}} }

func (r *recorder) config() HandlerConfig {
	return HandlerConfig{
		OnStatus: func(_ context.Context, ev *StatusEvent) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.statuses = append(r.statuses, string(ev.Type)+" "+ev.SessionID)
			return nil
		},
		OnFee: func(_ context.Context, rec *FeeRecord) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.fees[rec.SessionID]++
			r.order = append(r.order, rec.SessionID)
			return nil
		},
		OnUnknown: func(_ context.Context, ev *UnknownEvent) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.unknown = append(r.unknown, ev.Type)
			return nil
		},
	}
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.statuses) + len(r.order) + len(r.unknown)
}

func serve(t *testing.T, h http.Handler, method, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func newHandler(t *testing.T, cfg HandlerConfig) *Handler {
	t.Helper()
	h, err := NewHandler(cfg)
	require.NoError(t, err)
	return h
}

// postHTTP pushes body to a real loopback server.
func postHTTP(t *testing.T, client *http.Client, url string, body []byte) (int, string) {
	t.Helper()
	resp, err := client.Post(url, jsonContentType, bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestHandlerDoneWhen covers the "Done when" over loopback HTTP.
func TestHandlerDoneWhen(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	srv := httptest.NewServer(newHandler(t, rec.config()))
	defer srv.Close()
	client := srv.Client()

	for _, f := range []string{"status_callout_seed.json", "fee_seed.json", "fee_batch50.json", "status_disconnect.json", "unknown_event.json"} {
		code, body := postHTTP(t, client, srv.URL, readNotification(t, f))
		assert.Equal(t, http.StatusOK, code, f)
		assert.JSONEq(t, `{"resultcode":"0","resultdesc":"Success"}`, body, f)
	}
	assert.Equal(t, []string{
		"callout " + seedSessionID,
		"disconnect 1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com",
	}, rec.statuses)
	assert.Equal(t, []EventType{"recordReady"}, rec.unknown)
	want := append([]string{seedSessionID}, batch50SessionIDs()...)
	assert.Equal(t, want, rec.order)

	// The same 50-record batch again: 200, nothing handled twice.
	code, _ := postHTTP(t, client, srv.URL, readNotification(t, "fee_batch50.json"))
	assert.Equal(t, http.StatusOK, code)
	assert.Len(t, rec.order, 51)
	for _, id := range want {
		assert.Equal(t, 1, rec.fees[id], id)
	}

	before := rec.calls()
	code, _ = postHTTP(t, client, srv.URL, readNotification(t, "bad_truncated.json"))
	assert.Equal(t, http.StatusBadRequest, code)

	// "Expect: 100-continue" lets the server answer 413 from
	// Content-Length before the client writes 2 MiB to a closing
	// connection.
	big, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(bytes.Repeat([]byte(" "), 2<<20)))
	require.NoError(t, err)
	big.Header.Set("Content-Type", jsonContentType)
	big.Header.Set("Expect", "100-continue")
	expectClient := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}}
	defer expectClient.CloseIdleConnections()
	resp, err := expectClient.Do(big)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	resp, err = client.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "POST", resp.Header.Get("Allow"))
	assert.Equal(t, before, rec.calls(), "refused requests dispatch nothing")
}

func TestHandlerRefusals(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	h := newHandler(t, rec.config())
	callout := readNotification(t, "status_callout_seed.json")

	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodHead, http.MethodDelete, http.MethodOptions, http.MethodPatch} {
		w := serve(t, h, m, jsonContentType, callout)
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, m)
		assert.Equal(t, "POST", w.Header().Get("Allow"), m)
	}
	// Finding 3: any Content-Type is accepted when the body is JSON (the
	// platform's pages call the body a byte stream; a 415 loses the push).
	for _, ct := range []string{"application/json", "application/json;charset=UTF-8", "application/json; charset=utf-8", "Application/JSON",
		"", "text/plain", "application/octet-stream", "application/x-www-form-urlencoded", "application/json;charset=GBK", "application/json; charset=", "application/jsonx"} {
		w := serve(t, h, http.MethodPost, ct, callout)
		assert.Equal(t, http.StatusOK, w.Code, ct)
		assert.Equal(t, jsonContentType, w.Header().Get("Content-Type"))
	}
	calls := rec.calls()
	for _, f := range []string{
		"bad_truncated.json", "bad_empty.json", "bad_invalid_utf8.json", "bad_deep_nested.json", "bad_not_object.json",
		"bad_dup_eventtype.json", "bad_dup_eventtype_escaped.json", "bad_dup_feelst.json",
		"bad_missing_eventtype.json", "bad_eventtype_number.json", "bad_fee_missing_feelst.json",
	} {
		w := serve(t, h, http.MethodPost, jsonContentType, readNotification(t, f))
		assert.Equal(t, http.StatusBadRequest, w.Code, f)
		var ans struct{ ResultCode, ResultDesc string }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &ans), f)
		assert.Equal(t, "400", ans.ResultCode, f)
		assert.True(t, strings.HasPrefix(ans.ResultDesc, "voicecall: parse notification: "), ans.ResultDesc)
		assert.Less(t, len(ans.ResultDesc), 200, "a short reason")
	}
	assert.Equal(t, calls, rec.calls(), "a malformed body dispatches nothing")
}

// TestHandlerRefusalLogRate: a flood of refused pushes logs at most
// refusalLogRate records a second, and the first record of the next
// second says how many were held back; every refusal is still answered.
func TestHandlerRefusalLogRate(t *testing.T) {
	t.Parallel()
	var sink logSink
	h := newHandler(t, HandlerConfig{Logger: sink.logger(), OnStatus: newRecorder().config().OnStatus})
	clock := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	h.now = func() time.Time { return clock }
	refused := func() []map[string]any {
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(sink.String()), "\n") {
			var rec map[string]any
			if line != "" && json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "voicecall: notification refused" {
				out = append(out, rec)
			}
		}
		return out
	}

	const flood = 3*refusalLogRate + 5
	for range flood {
		assert.Equal(t, http.StatusMethodNotAllowed, serve(t, h, http.MethodGet, "", nil).Code, "every refusal is answered")
	}
	recs := refused()
	require.Len(t, recs, refusalLogRate, "at most refusalLogRate records in one second")
	for _, rec := range recs {
		assert.NotContains(t, rec, "suppressed")
	}

	clock = clock.Add(time.Second)
	assert.Equal(t, http.StatusMethodNotAllowed, serve(t, h, http.MethodGet, "", nil).Code)
	recs = refused()
	require.Len(t, recs, refusalLogRate+1, "a new second lets records through again")
	assert.EqualValues(t, flood-refusalLogRate, recs[refusalLogRate]["suppressed"], "the held-back records are counted")

	assert.Equal(t, http.StatusMethodNotAllowed, serve(t, h, http.MethodGet, "", nil).Code)
	recs = refused()
	require.Len(t, recs, refusalLogRate+2)
	assert.NotContains(t, recs[refusalLogRate+1], "suppressed", "the count is reported once")
}

func TestHandlerBodyLimit(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	const limit = 300
	h := newHandler(t, HandlerConfig{MaxBodyBytes: limit, OnStatus: rec.config().OnStatus})
	var seenLength atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenLength.Store(r.ContentLength)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	body := readNotification(t, "status_callout_seed.json")
	require.Less(t, len(body), limit)

	code, _ := postHTTP(t, srv.Client(), srv.URL, body)
	assert.Equal(t, http.StatusOK, code)

	padded := append(bytes.TrimSpace(body), bytes.Repeat([]byte(" "), limit+1-len(bytes.TrimSpace(body)))...)
	code, _ = postHTTP(t, srv.Client(), srv.URL, padded)
	assert.Equal(t, http.StatusRequestEntityTooLarge, code, "with Content-Length")

	// Without Content-Length (chunked), the limit applies while reading.
	req, err := http.NewRequest(http.MethodPost, srv.URL, io.MultiReader(bytes.NewReader(padded)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", jsonContentType)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, int64(-1), seenLength.Load(), "the server saw no Content-Length")
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "chunked")
	assert.Equal(t, 1, rec.calls())

	_, err = NewHandler(HandlerConfig{MaxBodyBytes: -1})
	assert.ErrorContains(t, err, "voicecall: new handler: invalid MaxBodyBytes")
}

// TestHandlerFeeFailureRetriesOnlyFailed: a failing OnFee answers 503;
// the re-push handles exactly the records that failed.
func TestHandlerFeeFailureRetriesOnlyFailed(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	handled := map[string]int{}
	failing := map[string]bool{}
	ids := batch50SessionIDs()
	failing[ids[3]], failing[ids[7]] = true, true
	var logs logSink
	h := newHandler(t, HandlerConfig{
		Logger: logs.logger(),
		OnFee: func(_ context.Context, rec *FeeRecord) error {
			mu.Lock()
			defer mu.Unlock()
			if failing[rec.SessionID] {
				return errors.New("database unavailable")
			}
			handled[rec.SessionID]++
			return nil
		},
	})
	batch := readNotification(t, "fee_batch50.json")

	w := serve(t, h, http.MethodPost, jsonContentType, batch)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Len(t, handled, 48)
	assert.Contains(t, logs.String(), "CDR callback failed")
	assert.Contains(t, logs.String(), "database unavailable")
	assert.NotContains(t, logs.String(), "+8613500023757", "callee numbers are masked")
	assert.Contains(t, logs.String(), `"calleeNum":"**********3757"`)

	mu.Lock()
	failing = map[string]bool{}
	mu.Unlock()
	w = serve(t, h, http.MethodPost, jsonContentType, batch)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Len(t, handled, 50)
	for _, id := range ids {
		assert.Equal(t, 1, handled[id], id)
	}
	w = serve(t, h, http.MethodPost, jsonContentType, batch)
	assert.Equal(t, http.StatusOK, w.Code)
	for _, id := range ids {
		assert.Equal(t, 1, handled[id], id)
	}
}

func TestHandlerPanics(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	count := map[string]int{}
	panicOn := batch50SessionIDs()[2]
	var logs logSink
	h := newHandler(t, HandlerConfig{
		Logger:    logs.logger(),
		OnStatus:  func(context.Context, *StatusEvent) error { panic("status boom") },
		OnUnknown: func(context.Context, *UnknownEvent) error { panic("unknown boom") },
		OnFee: func(_ context.Context, rec *FeeRecord) error {
			mu.Lock()
			defer mu.Unlock()
			if rec.SessionID == panicOn {
				panicOn = ""
				panic("fee boom")
			}
			count[rec.SessionID]++
			return nil
		},
	})
	assert.Equal(t, http.StatusInternalServerError, serve(t, h, http.MethodPost, jsonContentType, readNotification(t, "status_callout_seed.json")).Code)
	assert.Equal(t, http.StatusInternalServerError, serve(t, h, http.MethodPost, jsonContentType, readNotification(t, "unknown_event.json")).Code)
	batch := readNotification(t, "fee_batch50.json")
	assert.Equal(t, http.StatusInternalServerError, serve(t, h, http.MethodPost, jsonContentType, batch).Code)
	assert.Len(t, count, 49, "the other records are still handled")
	assert.Equal(t, http.StatusOK, serve(t, h, http.MethodPost, jsonContentType, batch).Code)
	assert.Len(t, count, 50)
	for id, n := range count {
		assert.Equal(t, 1, n, id)
	}
	assert.Contains(t, logs.String(), "callback panicked: fee boom")
}

// TestHandlerStatusFailure: status events are never re-pushed, so a
// failed callback is logged and answered 200.
func TestHandlerStatusFailure(t *testing.T) {
	t.Parallel()
	var logs logSink
	h := newHandler(t, HandlerConfig{
		Logger:   logs.logger(),
		OnStatus: func(context.Context, *StatusEvent) error { return errors.New("queue full") },
		OnUnknown: func(context.Context, *UnknownEvent) error {
			return errors.New("cannot store")
		},
	})
	w := serve(t, h, http.MethodPost, jsonContentType, readNotification(t, "status_disconnect.json"))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"resultcode":"0","resultdesc":"Success"}`, w.Body.String())
	out := logs.String()
	assert.Contains(t, out, "status callback failed")
	assert.Contains(t, out, "queue full")
	assert.Contains(t, out, `"level":"ERROR"`)
	assert.NotContains(t, out, "+8613500000001")
	assert.Contains(t, out, "**********0001")

	w = serve(t, h, http.MethodPost, jsonContentType, readNotification(t, "unknown_event.json"))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)

	// No callbacks at all: everything is acknowledged, nothing logged as an error.
	quiet := newHandler(t, HandlerConfig{})
	for _, f := range []string{"status_disconnect.json", "fee_batch50.json", "unknown_event.json"} {
		assert.Equal(t, http.StatusOK, serve(t, quiet, http.MethodPost, jsonContentType, readNotification(t, f)).Code, f)
	}
}

// TestHandlerConcurrentDuplicates pushes the same batch 8 times at once:
// every record is handled exactly once; deliveries that met a record
// another delivery was handling answer 503 (and would be re-pushed).
func TestHandlerConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	const deliveries = 8
	ids := batch50SessionIDs()
	gate := make(chan struct{})
	var mu sync.Mutex
	count := map[string]int{}
	h := newHandler(t, HandlerConfig{OnFee: func(_ context.Context, rec *FeeRecord) error {
		if rec.SessionID == ids[0] {
			<-gate // hold record 0 until every other delivery has answered
		}
		mu.Lock()
		defer mu.Unlock()
		count[rec.SessionID]++
		return nil
	}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	batch := readNotification(t, "fee_batch50.json")
	codes := make(chan int, deliveries)
	for range deliveries {
		go func() {
			resp, err := srv.Client().Post(srv.URL, jsonContentType, bytes.NewReader(batch))
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	timeout := time.After(20 * time.Second)
	for range deliveries - 1 {
		select {
		case c := <-codes:
			assert.Equal(t, http.StatusServiceUnavailable, c, "record 0 is busy in another delivery")
		case <-timeout:
			close(gate)
			t.Fatal("deliveries did not answer")
		}
	}
	close(gate)
	select {
	case c := <-codes:
		assert.Equal(t, http.StatusOK, c)
	case <-timeout:
		t.Fatal("the holding delivery did not answer")
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, count, 50)
	for _, id := range ids {
		assert.Equal(t, 1, count[id], id)
	}
}

// flakyStore is a DedupStore whose operations fail on demand.
type flakyStore struct {
	*MemoryDedup
	claimErr, commitErr, releaseErr error
	result                          ClaimResult
	extra                           int // results beyond len(keys)
}

func (s *flakyStore) Claim(ctx context.Context, keys []DedupKey) ([]ClaimResult, error) {
	if s.claimErr != nil {
		return nil, s.claimErr
	}
	if s.result != 0 {
		out := make([]ClaimResult, len(keys)+s.extra)
		for i := range out {
			out[i] = s.result
		}
		return out, nil
	}
	return s.MemoryDedup.Claim(ctx, keys)
}

func (s *flakyStore) Commit(ctx context.Context, keys []DedupKey) error {
	if s.commitErr != nil {
		return s.commitErr
	}
	return s.MemoryDedup.Commit(ctx, keys)
}

func (s *flakyStore) Release(ctx context.Context, keys []DedupKey) error {
	if s.releaseErr != nil {
		return s.releaseErr
	}
	return s.MemoryDedup.Release(ctx, keys)
}

func TestHandlerDedupStoreFailures(t *testing.T) {
	t.Parallel()
	body := readNotification(t, "fee_seed.json")
	calls := 0
	onFee := func(context.Context, *FeeRecord) error { calls++; return nil }

	var logs logSink
	store := &flakyStore{MemoryDedup: NewMemoryDedup(0, 0), claimErr: errors.New("redis down")}
	h := newHandler(t, HandlerConfig{Dedup: store, OnFee: onFee, Logger: logs.logger()})
	assert.Equal(t, http.StatusServiceUnavailable, serve(t, h, http.MethodPost, jsonContentType, body).Code)
	assert.Zero(t, calls, "nothing is handled without a claim")
	assert.Contains(t, logs.String(), "redis down")

	store.claimErr, store.result = nil, ClaimResult(42)
	assert.Equal(t, http.StatusServiceUnavailable, serve(t, h, http.MethodPost, jsonContentType, body).Code)
	assert.Zero(t, calls)

	store.result = ClaimFull
	assert.Equal(t, http.StatusServiceUnavailable, serve(t, h, http.MethodPost, jsonContentType, body).Code, "a store full answers 503, so that the platform pushes again")
	assert.Zero(t, calls, "a record the store could not claim is not handled")
	assert.Contains(t, logs.String(), "dedup store full")

	store.result, store.extra = ClaimAcquired, 1
	assert.Equal(t, http.StatusServiceUnavailable, serve(t, h, http.MethodPost, jsonContentType, body).Code, "a result count that does not match is a store failure")
	assert.Zero(t, calls)
	store.extra = 0

	store.result, store.commitErr = 0, errors.New("commit lost")
	assert.Equal(t, http.StatusOK, serve(t, h, http.MethodPost, jsonContentType, body).Code, "the record was handled")
	assert.Equal(t, 1, calls)
	assert.Contains(t, logs.String(), "commit lost")

	store2 := &flakyStore{MemoryDedup: NewMemoryDedup(0, 0), releaseErr: errors.New("release lost")}
	h2 := newHandler(t, HandlerConfig{Dedup: store2, Logger: logs.logger(), OnFee: func(context.Context, *FeeRecord) error { return errors.New("nope") }})
	assert.Equal(t, http.StatusServiceUnavailable, serve(t, h2, http.MethodPost, jsonContentType, body).Code)
	assert.Contains(t, logs.String(), "release lost")
	// The claim was not released: a re-push inside the lease finds it busy.
	assert.Equal(t, http.StatusServiceUnavailable, serve(t, h2, http.MethodPost, jsonContentType, body).Code)
}

// TestHandlerFindings: each body of the receiver review that was lost
// (answered 200 without a callback, or refused) now reaches its callback,
// over loopback HTTP.
func TestHandlerFindings(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	var mu sync.Mutex
	var userData []string
	cfg := rec.config()
	onStatus := cfg.OnStatus
	cfg.OnStatus = func(ctx context.Context, ev *StatusEvent) error {
		mu.Lock()
		userData = append(userData, ev.UserData)
		mu.Unlock()
		return onStatus(ctx, ev)
	}
	srv := httptest.NewServer(newHandler(t, cfg))
	defer srv.Close()
	post := func(contentType string, body []byte) int {
		resp, err := srv.Client().Post(srv.URL, contentType, bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	// 1. "FEE" with only OnFee reached nothing; "Disconnect" was unknown.
	assert.Equal(t, 200, post(jsonContentType, readNotification(t, "fee_eventtype_upper.json")))
	assert.Equal(t, []string{seedSessionID}, rec.order)
	assert.Equal(t, 200, post(jsonContentType, readNotification(t, "status_disconnect_mixed_case.json")))
	assert.Equal(t, []string{"disconnect 1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com"}, rec.statuses)
	// 2. A status event without sessionId was a 400.
	assert.Equal(t, 200, post(jsonContentType, []byte(`{"eventType":"answer","statusInfo":{"userData":"vc0123456789abcdef0123456789abcdef"}}`)))
	assert.Equal(t, "answer ", rec.statuses[1])
	assert.Equal(t, "vc0123456789abcdef0123456789abcdef", userData[1])
	// 3. text/plain, octet-stream, no Content-Type were a 415.
	for i, ct := range []string{"text/plain", "application/octet-stream", ""} {
		body := fmt.Sprintf(`{"eventType":"callout","statusInfo":{"sessionId":"ct%d"}}`, i)
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		require.NoError(t, err)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, ct)
	}
	assert.Equal(t, []string{"callout ct0", "callout ct1", "callout ct2"}, rec.statuses[2:])
	// 4. An integer as a string, and a 51-record batch, were a 400.
	assert.Equal(t, 200, post(jsonContentType, readNotification(t, "fee_string_int.json")))
	assert.Equal(t, "1201_900_4294967295_20190124030500@callenabler245.huaweicaas.com", rec.order[1])
	assert.Equal(t, 200, post(jsonContentType, readNotification(t, "fee_51.json")))
	assert.Len(t, rec.order, 2+51)
}

// TestHandlerForgedRecordDoesNotSuppressGenuine: finding 8. A forged CDR
// with a genuine record's sessionId and icid, pushed first, no longer
// makes the genuine record skip OnFee.
func TestHandlerForgedRecordDoesNotSuppressGenuine(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	var mu sync.Mutex
	var callees []string
	cfg := rec.config()
	cfg.OnFee = func(_ context.Context, r *FeeRecord) error {
		mu.Lock()
		defer mu.Unlock()
		callees = append(callees, r.CalleeNum)
		return nil
	}
	h := newHandler(t, cfg)
	genuine := readNotification(t, "fee_seed.json")
	n, err := ParseNotification(genuine)
	require.NoError(t, err)
	forged := n
	forged.Fees = []FeeRecord{n.Fees[0]}
	forged.Fees[0].CalleeNum = "+8613000000000"
	forged.Fees[0].CallOutAnswerTime, forged.Fees[0].RawTimes.CallOutAnswerTime = time.Time{}, ""
	forgedBody, err := json.Marshal(forged)
	require.NoError(t, err)

	assert.Equal(t, 200, serve(t, h, http.MethodPost, jsonContentType, forgedBody).Code)
	assert.Equal(t, 200, serve(t, h, http.MethodPost, jsonContentType, genuine).Code)
	assert.Equal(t, 200, serve(t, h, http.MethodPost, jsonContentType, genuine).Code, "the genuine re-push is a duplicate")
	assert.Equal(t, []string{"+8613000000000", n.Fees[0].CalleeNum}, callees, "both reach OnFee, the genuine one once")
}

// TestHandlerDuplicateInBatch: two copies of one record inside one batch
// are handled once, and the batch is answered 200 (never 503 forever).
func TestHandlerDuplicateInBatch(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	h := newHandler(t, rec.config())
	body := []byte(`{"eventType":"fee","feeLst":[{"sessionId":"s1","icid":"i1"},{"sessionId":"s2"},{"icid":"i1","sessionId":"s1"}]}`)
	var ends []NotificationInfo
	h.hooks.NotificationEnd = func(_ context.Context, info NotificationInfo) { ends = append(ends, info) }
	for range 3 {
		assert.Equal(t, 200, serve(t, h, http.MethodPost, jsonContentType, body).Code)
	}
	assert.Equal(t, []string{"s1", "s2"}, rec.order)
	require.Len(t, ends, 3)
	assert.Equal(t, 3, ends[0].Records)
	assert.Equal(t, 1, ends[0].Duplicates)
	assert.Equal(t, 3, ends[2].Duplicates)
}

func TestHandlerDeadLetter(t *testing.T) {
	t.Parallel()
	var logs logSink
	var letters []*DeadLetter
	var dlErr error
	h := newHandler(t, HandlerConfig{
		Logger: logs.logger(),
		OnStatus: func(_ context.Context, ev *StatusEvent) error {
			if ev.SessionID == "panic" {
				panic("boom")
			}
			return errors.New("database down")
		},
		OnDeadLetter: func(_ context.Context, dl *DeadLetter) error {
			letters = append(letters, dl)
			return dlErr
		},
	})
	body := readNotification(t, "status_disconnect.json")
	w := serve(t, h, http.MethodPost, jsonContentType, body)
	assert.Equal(t, 200, w.Code, "the event is kept by the dead letter")
	require.Len(t, letters, 1)
	assert.Equal(t, body, letters[0].Body, "the raw body, to replay")
	assert.Equal(t, StateCalleeNoAnswer, letters[0].Event.StateCode)
	assert.ErrorContains(t, letters[0].Err, "database down")
	replayed, err := ParseNotification(letters[0].Body)
	require.NoError(t, err)
	assert.Equal(t, letters[0].Event, replayed.Status)
	assert.Contains(t, logs.String(), "goes to OnDeadLetter")
	assert.NotContains(t, logs.String(), "+8613500000001")

	assert.Equal(t, 500, serve(t, h, http.MethodPost, jsonContentType, []byte(`{"eventType":"answer","statusInfo":{"sessionId":"panic"}}`)).Code)
	require.Len(t, letters, 2)
	assert.ErrorContains(t, letters[1].Err, "callback panicked")

	dlErr = errors.New("disk full")
	assert.Equal(t, 503, serve(t, h, http.MethodPost, jsonContentType, body).Code, "both failed: 503 in case the platform re-pushes")
	assert.Contains(t, logs.String(), "disk full")

	// A succeeding OnStatus sends nothing to the dead letter.
	ok := newHandler(t, HandlerConfig{
		OnStatus:     func(context.Context, *StatusEvent) error { return nil },
		OnDeadLetter: func(context.Context, *DeadLetter) error { t.Error("dead letter called"); return nil },
	})
	assert.Equal(t, 200, serve(t, ok, http.MethodPost, jsonContentType, body).Code)
}

func TestHandlerDedupStatus(t *testing.T) {
	t.Parallel()
	for _, dedup := range []bool{false, true} {
		rec := newRecorder()
		cfg := rec.config()
		cfg.DedupStatus = dedup
		h := newHandler(t, cfg)
		body := readNotification(t, "status_disconnect.json")
		for range 3 {
			assert.Equal(t, 200, serve(t, h, http.MethodPost, jsonContentType, body).Code)
		}
		other := bytes.Replace(body, []byte("03:05:01"), []byte("03:05:02"), 1)
		assert.Equal(t, 200, serve(t, h, http.MethodPost, jsonContentType, other).Code)
		if dedup {
			assert.Len(t, rec.statuses, 2, "identical events once; a different timestamp is another event")
		} else {
			assert.Len(t, rec.statuses, 4, "off by default")
		}
	}
	// A failed event is forgotten, so that a copy is handled.
	fails := 1
	var calls int
	h := newHandler(t, HandlerConfig{DedupStatus: true, OnStatus: func(context.Context, *StatusEvent) error {
		calls++
		if fails > 0 {
			fails--
			return errors.New("x")
		}
		return nil
	}})
	body := readNotification(t, "status_callout_seed.json")
	serve(t, h, http.MethodPost, jsonContentType, body)
	serve(t, h, http.MethodPost, jsonContentType, body)
	serve(t, h, http.MethodPost, jsonContentType, body)
	assert.Equal(t, 2, calls)
}

// TestHandlerHooks: the hooks fire for every push, refusals included,
// with the right information; a panicking hook breaks nothing; no phone
// number, secret or X-AKSK value reaches them.
func TestHandlerHooks(t *testing.T) {
	t.Parallel()
	type ctxKey struct{}
	var mu sync.Mutex
	var starts []NotificationInfo
	var ends []NotificationInfo
	var sawCtx []bool
	hooks := &HandlerHooks{
		NotificationStart: func(ctx context.Context, info NotificationInfo) context.Context {
			mu.Lock()
			defer mu.Unlock()
			starts = append(starts, info)
			return context.WithValue(ctx, ctxKey{}, "span")
		},
		NotificationEnd: func(ctx context.Context, info NotificationInfo) {
			mu.Lock()
			defer mu.Unlock()
			ends = append(ends, info)
			sawCtx = append(sawCtx, ctx.Value(ctxKey{}) == "span")
		},
	}
	var cbCtx []bool
	cfg := HandlerConfig{
		Hooks: hooks,
		OnFee: func(ctx context.Context, r *FeeRecord) error {
			cbCtx = append(cbCtx, ctx.Value(ctxKey{}) == "span")
			if r.SessionID == "fail" {
				return errors.New("nope")
			}
			return nil
		},
		OnStatus: func(ctx context.Context, ev *StatusEvent) error {
			cbCtx = append(cbCtx, ctx.Value(ctxKey{}) == "span")
			return nil
		},
	}
	h := newHandler(t, cfg)
	reqAt := func(method, path string, body []byte) int {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	batch := readNotification(t, "fee_batch50.json")
	assert.Equal(t, 200, reqAt(http.MethodPost, "/fee", batch))
	assert.Equal(t, 200, reqAt(http.MethodPost, "/fee", batch))
	assert.Equal(t, 200, reqAt(http.MethodPost, "/status", readNotification(t, "status_disconnect.json")))
	assert.Equal(t, 405, reqAt(http.MethodGet, "/status", nil))
	assert.Equal(t, 400, reqAt(http.MethodPost, "/status", readNotification(t, "bad_truncated.json")))
	assert.Equal(t, 503, reqAt(http.MethodPost, "/fee", []byte(`{"eventType":"fee","feeLst":[{"sessionId":"fail","calleeNum":"+8613500000001"}]}`)))

	mu.Lock()
	require.Len(t, starts, 6)
	require.Len(t, ends, 6)
	assert.Equal(t, NotificationInfo{Path: "/fee"}, starts[0])
	assert.Equal(t, "/status", starts[2].Path)
	assert.Equal(t, []bool{true, true, true, true, true, true}, sawCtx, "End gets Start's context")
	for i := range ends {
		assert.Equal(t, starts[i].Path, ends[i].Path, "End gets Start's Path (push %d)", i)
	}
	assert.NotContains(t, cbCtx, false, "callbacks get Start's context")

	assert.Equal(t, NotificationFee, ends[0].Kind)
	assert.Equal(t, EventFee, ends[0].EventType)
	assert.Equal(t, 50, ends[0].Records)
	assert.Zero(t, ends[0].Duplicates)
	assert.Equal(t, 200, ends[0].Status)
	assert.Empty(t, ends[0].Verification)
	assert.Positive(t, ends[0].CallbackDuration)
	assert.NoError(t, ends[0].Err)
	assert.Equal(t, 50, ends[1].Duplicates, "the re-push")
	assert.Equal(t, NotificationStatus, ends[2].Kind)
	assert.Equal(t, EventDisconnect, ends[2].EventType)
	assert.Equal(t, NotificationInfo{Path: "/status", Status: 405, Err: ends[3].Err}, ends[3], "refused before parsing: Kind 0")
	assert.ErrorContains(t, ends[3].Err, "method not allowed")
	assert.Equal(t, 400, ends[4].Status)
	assert.Zero(t, ends[4].Kind)
	assert.Error(t, ends[4].Err)
	assert.Equal(t, 503, ends[5].Status)
	assert.ErrorContains(t, ends[5].Err, "nope")
	all := fmt.Sprintf("%+v %+v", starts, ends)
	for _, number := range []string{"+8613500000001", "8613500000001", "+8613500027919", "+8675528000088"} {
		assert.NotContains(t, all, number)
	}
	mu.Unlock()

	// Verification outcomes; no X-AKSK value in what the hooks see.
	created, _ := time.Parse(aksk.CreatedLayout, pushCreated)
	var vEnds []NotificationInfo
	hv := newHandler(t, HandlerConfig{
		Verification: &PushVerification{AppSecret: pushSecret, URLs: []string{pushURL}},
		Hooks:        &HandlerHooks{NotificationEnd: func(_ context.Context, info NotificationInfo) { vEnds = append(vEnds, info) }},
	})
	hv.now = func() time.Time { return created }
	header := aksk.SignPush("k", pushSecret, pushURL, pushNonce, pushCreated, aksk.PushLayoutNewline).HeaderValue()
	for _, hd := range []string{header, header, ""} {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(readNotification(t, "status_callout_seed.json")))
		if hd != "" {
			req.Header.Set(aksk.Header, hd)
		}
		hv.ServeHTTP(httptest.NewRecorder(), req)
	}
	require.Len(t, vEnds, 3)
	assert.Equal(t, "ok", vEnds[0].Verification)
	assert.Equal(t, 200, vEnds[0].Status)
	assert.Equal(t, "failed", vEnds[1].Verification, "replay")
	assert.Equal(t, 401, vEnds[1].Status)
	assert.Equal(t, "failed", vEnds[2].Verification, "unsigned")
	v := fmt.Sprintf("%+v", vEnds)
	assert.NotContains(t, v, pushNonce)
	assert.NotContains(t, v, "a8GQi36zPRy")

	// Panicking hooks: the push is handled as if they were not set.
	rec := newRecorder()
	pcfg := rec.config()
	pcfg.Hooks = &HandlerHooks{
		NotificationStart: func(context.Context, NotificationInfo) context.Context { panic("start") },
		NotificationEnd:   func(context.Context, NotificationInfo) { panic("end") },
	}
	hp := newHandler(t, pcfg)
	w := serve(t, hp, http.MethodPost, jsonContentType, batch)
	assert.Equal(t, 200, w.Code)
	assert.JSONEq(t, successBody, w.Body.String())
	assert.Len(t, rec.order, 50)
}

// TestHandlerDoesNotAllocateFromContentLength: finding 6. Connections
// that announce a 1 MiB body and send nothing took the declared size
// each (2,000 of them: 2 GiB). Now the Handler starts with 4 KiB.
func TestHandlerDoesNotAllocateFromContentLength(t *testing.T) {
	t.Parallel()
	const conns = 200
	arrived := make(chan struct{}, conns)
	h := newHandler(t, HandlerConfig{})
	// Each request signals when the Handler first reads its body: by
	// then it has allocated whatever it allocates up front.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = &firstRead{ReadCloser: r.Body, signal: arrived}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for range conns {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		open = append(open, c)
		_, err = fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", DefaultMaxBodyBytes)
		require.NoError(t, err)
	}
	timeout := time.After(30 * time.Second)
	for range conns {
		select {
		case <-arrived:
		case <-timeout:
			t.Fatal("the requests did not reach the handler")
		}
	}
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("%d connections announcing 1 MiB: heap grew %.1f MiB", conns, float64(grown)/(1<<20))
	assert.Less(t, grown, int64(32<<20), "would be %d MiB if the declared length were allocated", conns)
}

// firstRead signals once, on the first Read.
type firstRead struct {
	io.ReadCloser
	signal chan<- struct{}
	once   sync.Once
}

func (f *firstRead) Read(p []byte) (int, error) {
	f.once.Do(func() { f.signal <- struct{}{} })
	return f.ReadCloser.Read(p)
}

// TestHandlerFloodCausesDuplicatesNotLosses: finding 8's flood. Forged
// records can still push genuine keys out of a bounded MemoryDedup, but
// the cost is a genuine re-push handled twice, never a record dropped.
func TestHandlerFloodCausesDuplicatesNotLosses(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	cfg := rec.config()
	cfg.Dedup = NewMemoryDedup(0, 100*DedupRecordBytes)
	h := newHandler(t, cfg)
	genuine := readNotification(t, "fee_seed.json")
	require.Equal(t, 200, serve(t, h, http.MethodPost, jsonContentType, genuine).Code)
	for i := range 6 { // 300 forged records: enough for every set of the 96-record table
		var b strings.Builder
		b.WriteString(`{"eventType":"fee","feeLst":[`)
		for j := range 50 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"sessionId":"forged-%d-%d"}`, i, j)
		}
		b.WriteString(`]}`)
		require.Equal(t, 200, serve(t, h, http.MethodPost, jsonContentType, []byte(b.String())).Code)
	}
	require.Equal(t, 200, serve(t, h, http.MethodPost, jsonContentType, genuine).Code)
	assert.Equal(t, 2, rec.fees[seedSessionID], "handled again after the flood: a duplicate, not a loss")
}
