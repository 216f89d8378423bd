package voicecall

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logSink collects slog output; safe for concurrent use.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *logSink) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

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
	resp, err := client.Post(url, ContentType, bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestHandlerDoneWhen covers the issue's "Done when" over loopback HTTP.
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
	big.Header.Set("Content-Type", ContentType)
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
		w := serve(t, h, m, ContentType, callout)
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, m)
		assert.Equal(t, "POST", w.Header().Get("Allow"), m)
	}
	for _, ct := range []string{"application/json", "application/json;charset=UTF-8", "application/json; charset=utf-8", "Application/JSON"} {
		w := serve(t, h, http.MethodPost, ct, callout)
		assert.Equal(t, http.StatusOK, w.Code, ct)
		assert.Equal(t, ContentType, w.Header().Get("Content-Type"))
	}
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/json;charset=GBK", "application/json; charset=", "application/jsonx"} {
		w := serve(t, h, http.MethodPost, ct, callout)
		assert.Equal(t, http.StatusUnsupportedMediaType, w.Code, ct)
	}
	calls := rec.calls()
	for _, f := range []string{
		"bad_truncated.json", "bad_empty.json", "bad_invalid_utf8.json", "bad_deep_nested.json", "bad_not_object.json",
		"bad_dup_eventtype.json", "bad_dup_eventtype_case.json", "bad_dup_eventtype_escaped.json", "bad_dup_feelst.json",
		"bad_missing_eventtype.json", "bad_eventtype_number.json", "bad_fee_51.json", "bad_fee_empty.json",
		"bad_fee_missing_feelst.json", "bad_fee_no_session.json", "bad_fee_wrong_type.json",
		"bad_status_no_statusinfo.json", "bad_status_no_session.json", "bad_status_statecode_type.json",
	} {
		w := serve(t, h, http.MethodPost, ContentType, readNotification(t, f))
		assert.Equal(t, http.StatusBadRequest, w.Code, f)
		var ans struct{ ResultCode, ResultDesc string }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &ans), f)
		assert.Equal(t, "400", ans.ResultCode, f)
		assert.True(t, strings.HasPrefix(ans.ResultDesc, "voicecall: parse notification: "), ans.ResultDesc)
	}
	assert.Equal(t, calls, rec.calls(), "a malformed body dispatches nothing")
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
	req.Header.Set("Content-Type", ContentType)
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

	w := serve(t, h, http.MethodPost, ContentType, batch)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Len(t, handled, 48)
	assert.Contains(t, logs.String(), "CDR callback failed")
	assert.Contains(t, logs.String(), "database unavailable")
	assert.NotContains(t, logs.String(), "+8613500023757", "callee numbers are masked")
	assert.Contains(t, logs.String(), `"calleeNum":"**********3757"`)

	mu.Lock()
	failing = map[string]bool{}
	mu.Unlock()
	w = serve(t, h, http.MethodPost, ContentType, batch)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Len(t, handled, 50)
	for _, id := range ids {
		assert.Equal(t, 1, handled[id], id)
	}
	w = serve(t, h, http.MethodPost, ContentType, batch)
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
	assert.Equal(t, http.StatusInternalServerError, serve(t, h, http.MethodPost, ContentType, readNotification(t, "status_callout_seed.json")).Code)
	assert.Equal(t, http.StatusInternalServerError, serve(t, h, http.MethodPost, ContentType, readNotification(t, "unknown_event.json")).Code)
	batch := readNotification(t, "fee_batch50.json")
	assert.Equal(t, http.StatusInternalServerError, serve(t, h, http.MethodPost, ContentType, batch).Code)
	assert.Len(t, count, 49, "the other records are still handled")
	assert.Equal(t, http.StatusOK, serve(t, h, http.MethodPost, ContentType, batch).Code)
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
	w := serve(t, h, http.MethodPost, ContentType, readNotification(t, "status_disconnect.json"))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"resultcode":"0","resultdesc":"Success"}`, w.Body.String())
	out := logs.String()
	assert.Contains(t, out, "status callback failed")
	assert.Contains(t, out, "queue full")
	assert.Contains(t, out, `"level":"ERROR"`)
	assert.NotContains(t, out, "+8613500000001")
	assert.Contains(t, out, "**********0001")

	w = serve(t, h, http.MethodPost, ContentType, readNotification(t, "unknown_event.json"))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)

	// No callbacks at all: everything is acknowledged, nothing logged as an error.
	quiet := newHandler(t, HandlerConfig{})
	for _, f := range []string{"status_disconnect.json", "fee_batch50.json", "unknown_event.json"} {
		assert.Equal(t, http.StatusOK, serve(t, quiet, http.MethodPost, ContentType, readNotification(t, f)).Code, f)
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
			resp, err := srv.Client().Post(srv.URL, ContentType, bytes.NewReader(batch))
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
}

func (s *flakyStore) Claim(ctx context.Context, key string) (ClaimResult, error) {
	if s.claimErr != nil || s.result != 0 {
		return s.result, s.claimErr
	}
	return s.MemoryDedup.Claim(ctx, key)
}

func (s *flakyStore) Commit(ctx context.Context, key string) error {
	if s.commitErr != nil {
		return s.commitErr
	}
	return s.MemoryDedup.Commit(ctx, key)
}

func (s *flakyStore) Release(ctx context.Context, key string) error {
	if s.releaseErr != nil {
		return s.releaseErr
	}
	return s.MemoryDedup.Release(ctx, key)
}

func TestHandlerDedupStoreFailures(t *testing.T) {
	t.Parallel()
	body := readNotification(t, "fee_seed.json")
	calls := 0
	onFee := func(context.Context, *FeeRecord) error { calls++; return nil }

	var logs logSink
	store := &flakyStore{MemoryDedup: NewMemoryDedup(0, 0), claimErr: errors.New("redis down")}
	h := newHandler(t, HandlerConfig{Dedup: store, OnFee: onFee, Logger: logs.logger()})
	assert.Equal(t, http.StatusServiceUnavailable, serve(t, h, http.MethodPost, ContentType, body).Code)
	assert.Zero(t, calls, "nothing is handled without a claim")
	assert.Contains(t, logs.String(), "redis down")

	store.claimErr, store.result = nil, ClaimResult(42)
	assert.Equal(t, http.StatusServiceUnavailable, serve(t, h, http.MethodPost, ContentType, body).Code)
	assert.Zero(t, calls)

	store.result, store.commitErr = 0, errors.New("commit lost")
	assert.Equal(t, http.StatusOK, serve(t, h, http.MethodPost, ContentType, body).Code, "the record was handled")
	assert.Equal(t, 1, calls)
	assert.Contains(t, logs.String(), "commit lost")

	store2 := &flakyStore{MemoryDedup: NewMemoryDedup(0, 0), releaseErr: errors.New("release lost")}
	h2 := newHandler(t, HandlerConfig{Dedup: store2, Logger: logs.logger(), OnFee: func(context.Context, *FeeRecord) error { return errors.New("nope") }})
	assert.Equal(t, http.StatusServiceUnavailable, serve(t, h2, http.MethodPost, ContentType, body).Code)
	assert.Contains(t, logs.String(), "release lost")
	// The claim was not released: a re-push inside the lease finds it busy.
	assert.Equal(t, http.StatusServiceUnavailable, serve(t, h2, http.MethodPost, ContentType, body).Code)
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestMemoryDedup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	d := NewMemoryDedup(0, 0)
	d.now = clock.now
	assert.Equal(t, DefaultDedupTTL, d.ttl)

	claim := func(key string) ClaimResult {
		r, err := d.Claim(ctx, key)
		require.NoError(t, err)
		return r
	}
	assert.Equal(t, ClaimAcquired, claim("a"))
	assert.Equal(t, ClaimBusy, claim("a"))
	require.NoError(t, d.Release(ctx, "a"))
	assert.Equal(t, ClaimAcquired, claim("a"))
	require.NoError(t, d.Commit(ctx, "a"))
	assert.Equal(t, ClaimDone, claim("a"))
	require.NoError(t, d.Release(ctx, "a"))
	assert.Equal(t, ClaimDone, claim("a"), "release does not undo a commit")

	// A claim never committed nor released expires after the lease.
	assert.Equal(t, ClaimAcquired, claim("b"))
	clock.add(DefaultClaimLease - time.Second)
	assert.Equal(t, ClaimBusy, claim("b"))
	clock.add(2 * time.Second)
	assert.Equal(t, ClaimAcquired, claim("b"))

	// Done keys are remembered for the TTL: all 7 deliveries over 6 hours.
	for range 6 {
		clock.add(time.Hour)
		assert.Equal(t, ClaimDone, claim("a"))
	}
	clock.add(2 * time.Hour)
	assert.Equal(t, ClaimAcquired, claim("a"), "forgotten after 8 hours")

	assert.Equal(t, "acquired", ClaimAcquired.String())
	assert.Equal(t, "done", ClaimDone.String())
	assert.Equal(t, "busy", ClaimBusy.String())
	assert.Equal(t, "ClaimResult(0)", ClaimResult(0).String())
}

func TestMemoryDedupBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewMemoryDedup(time.Hour, 3)
	for i := range 1000 {
		key := fmt.Sprint(i)
		r, err := d.Claim(ctx, key)
		require.NoError(t, err)
		require.Equal(t, ClaimAcquired, r)
		if i%2 == 0 {
			require.NoError(t, d.Commit(ctx, key))
		} else {
			require.NoError(t, d.Release(ctx, key))
		}
		assert.LessOrEqual(t, d.Len(), 3)
		assert.LessOrEqual(t, len(d.set.queue), 3+65, "the queue is compacted")
	}
	r, _ := d.Claim(ctx, "998")
	assert.Equal(t, ClaimDone, r, "recent keys are kept")
	r, _ = d.Claim(ctx, "0")
	assert.Equal(t, ClaimAcquired, r, "the oldest keys are dropped at the bound")
}

// Push signature vectors of voicecall-api.md §5.2.
const (
	pushSecret  = "myAppSecret"
	pushNonce   = "66C92B11FF8A425FB8D4CCFE0ED9ED1F"
	pushCreated = "2018-02-12T15:30:20Z"
	pushURL     = "https://www.huawei.com:9330/fee"
)

func TestSignPushVectors(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "a8GQi36zPRy+sXysQJnoN+eLkwoFIzpS34jil3d0ZvQ=", SignPush("k", pushSecret, pushURL, pushNonce, pushCreated, PushLayoutNewline).PasswordDigest)
	assert.Equal(t, "RTbVvFrV4Ou9k4XJOkUnTdp43hklwbbcONn4Jbpz5FY=", SignPush("k", pushSecret, pushURL, pushNonce, pushCreated, PushLayoutConcat).PasswordDigest)
	assert.Equal(t, SignPush("k", pushSecret, pushURL, pushNonce, pushCreated, PushLayoutNewline), SignPush("k", pushSecret, pushURL, pushNonce, pushCreated, 0))
}

func TestPushVerification(t *testing.T) {
	t.Parallel()
	created, err := time.Parse(CreatedLayout, pushCreated)
	require.NoError(t, err)
	signed := func(url, created string, layout PushLayout) string {
		return SignPush("myAppKey", pushSecret, url, pushNonce, created, layout).HeaderValue()
	}
	tests := []struct {
		name    string
		cfg     PushVerification
		headers []string
		now     time.Time
		want    int
	}{
		{name: "newline layout", headers: []string{signed(pushURL, pushCreated, PushLayoutNewline)}, want: 200},
		{name: "concat layout", headers: []string{signed(pushURL, pushCreated, PushLayoutConcat)}, want: 200},
		{name: "created 4 min ahead", headers: []string{signed(pushURL, pushCreated, PushLayoutNewline)}, now: created.Add(-4 * time.Minute), want: 200},
		{name: "created 4 min behind", headers: []string{signed(pushURL, pushCreated, PushLayoutNewline)}, now: created.Add(4 * time.Minute), want: 200},
		{name: "created 6 min behind", headers: []string{signed(pushURL, pushCreated, PushLayoutNewline)}, now: created.Add(6 * time.Minute), want: 401},
		{name: "created 6 min ahead", headers: []string{signed(pushURL, pushCreated, PushLayoutNewline)}, now: created.Add(-6 * time.Minute), want: 401},
		{name: "beijing created with offset", cfg: PushVerification{CreatedOffset: 8 * time.Hour},
			headers: []string{signed(pushURL, "2018-02-12T23:30:20Z", PushLayoutNewline)}, want: 200},
		{name: "beijing created without offset", headers: []string{signed(pushURL, "2018-02-12T23:30:20Z", PushLayoutNewline)}, want: 401},
		{name: "no header", want: 401},
		{name: "no header allowed", cfg: PushVerification{AllowUnsigned: true}, want: 200},
		{name: "bad header with AllowUnsigned", cfg: PushVerification{AllowUnsigned: true}, headers: []string{"garbage"}, want: 401},
		{name: "garbage", headers: []string{"garbage"}, want: 401},
		{name: "two headers", headers: []string{signed(pushURL, pushCreated, PushLayoutNewline), signed(pushURL, pushCreated, PushLayoutNewline)}, want: 401},
		{name: "another url", headers: []string{signed("https://www.huawei.com:9330/status", pushCreated, PushLayoutNewline)}, want: 401},
		{name: "second configured url", cfg: PushVerification{URLs: []string{"https://a.example/status", pushURL}}, headers: []string{signed(pushURL, pushCreated, PushLayoutNewline)}, want: 200},
		{name: "default port added", cfg: PushVerification{URLs: []string{"https://hooks.example.com/fee"}}, headers: []string{signed("https://hooks.example.com:443/fee", pushCreated, PushLayoutNewline)}, want: 200},
		{name: "default port removed", cfg: PushVerification{URLs: []string{"http://hooks.example.com:80/fee"}}, headers: []string{signed("http://hooks.example.com/fee", pushCreated, PushLayoutConcat)}, want: 200},
		{name: "wrong secret", headers: []string{SignPush("myAppKey", "other", pushURL, pushNonce, pushCreated, PushLayoutNewline).HeaderValue()}, want: 401},
		{name: "app key checked", cfg: PushVerification{AppKey: "otherKey"}, headers: []string{signed(pushURL, pushCreated, PushLayoutNewline)}, want: 401},
		{name: "app key matches", cfg: PushVerification{AppKey: "myAppKey"}, headers: []string{signed(pushURL, pushCreated, PushLayoutNewline)}, want: 200},
		{name: "31-byte digest", headers: []string{Token{Username: "k", PasswordDigest: base64.StdEncoding.EncodeToString(make([]byte, 31)), Nonce: pushNonce, Created: pushCreated}.HeaderValue()}, want: 401},
		{name: "unpadded digest", headers: []string{strings.Replace(signed(pushURL, pushCreated, PushLayoutNewline), `=",Nonce`, `",Nonce`, 1)}, want: 401},
		{name: "created with zone", headers: []string{signed(pushURL, "2018-02-12T15:30:20+00:00", PushLayoutNewline)}, want: 401},
	}
	body := readNotification(t, "status_callout_seed.json")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.AppSecret = pushSecret
			if cfg.URLs == nil {
				cfg.URLs = []string{pushURL}
			}
			calls := 0
			h := newHandler(t, HandlerConfig{Verification: &cfg, OnStatus: func(context.Context, *StatusEvent) error { calls++; return nil }})
			now := tt.now
			if now.IsZero() {
				now = created
			}
			h.now = func() time.Time { return now }
			req := httptest.NewRequest(http.MethodPost, "http://proxy.internal/rewritten", bytes.NewReader(body))
			req.Header.Set("Content-Type", ContentType)
			for _, v := range tt.headers {
				req.Header.Add(HeaderXAKSK, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			assert.Equal(t, tt.want, w.Code, w.Body.String())
			if tt.want == 401 {
				assert.Zero(t, calls)
				assert.Contains(t, w.Body.String(), "push verification")
			}
		})
	}
}

func TestPushVerificationReplay(t *testing.T) {
	t.Parallel()
	created, _ := time.Parse(CreatedLayout, pushCreated)
	var logs logSink
	h := newHandler(t, HandlerConfig{Logger: logs.logger(), Verification: &PushVerification{AppSecret: pushSecret, URLs: []string{pushURL}}})
	now := created
	h.now = func() time.Time { return now }
	header := SignPush("k", pushSecret, pushURL, pushNonce, pushCreated, PushLayoutNewline).HeaderValue()
	push := func(header string) int {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(readNotification(t, "status_callout_seed.json")))
		req.Header.Set("Content-Type", ContentType)
		req.Header.Set(HeaderXAKSK, header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	assert.Equal(t, 200, push(header))
	now = now.Add(time.Minute)
	assert.Equal(t, 401, push(header), "replayed inside the window")
	assert.Contains(t, logs.String(), "Nonce was already used")
	other := SignPush("k", pushSecret, pushURL, "AAAA"+pushNonce[4:], pushCreated, PushLayoutNewline).HeaderValue()
	assert.Equal(t, 200, push(other), "a fresh nonce passes")
	assert.NotContains(t, logs.String(), pushNonce, "X-AKSK values are never logged")
	assert.NotContains(t, logs.String(), "a8GQi36zPRy")
}

func TestNewHandlerVerificationErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cfg  PushVerification
		want string
	}{
		{PushVerification{URLs: []string{pushURL}}, "AppSecret: missing"},
		{PushVerification{AppSecret: "s"}, "URLs: missing"},
		{PushVerification{AppSecret: "s", URLs: []string{"/fee"}}, "URLs[0]: must be an absolute http or https URL"},
		{PushVerification{AppSecret: "s", URLs: []string{pushURL, "ftp://x/y"}}, "URLs[1]"},
		{PushVerification{AppSecret: "s", URLs: []string{pushURL}, Tolerance: -1}, "Tolerance"},
	} {
		_, err := NewHandler(HandlerConfig{Verification: &c.cfg})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "voicecall: new handler: invalid Verification."+c.want)
		assert.NotContains(t, err.Error(), "s\"")
	}
	vs, err := urlVariants("https://[::1]/fee")
	require.NoError(t, err)
	assert.Equal(t, []string{"https://[::1]/fee", "https://[::1]:443/fee"}, vs)
	vs, err = urlVariants("https://[::1]:443/fee")
	require.NoError(t, err)
	assert.Equal(t, []string{"https://[::1]:443/fee", "https://[::1]/fee"}, vs)
	vs, err = urlVariants("https://h:8443/fee?a=1")
	require.NoError(t, err)
	assert.Equal(t, []string{"https://h:8443/fee?a=1"}, vs)
}

// FuzzVerifyPush: verification never accepts a header unless its digest
// is the HMAC of a configured URL variant in a documented layout, as an
// independent oracle computes it, and Created is inside the window.
func FuzzVerifyPush(f *testing.F) {
	f.Add("", pushNonce, pushCreated, "", true, false)
	f.Add("", pushNonce, pushCreated, "", true, true)
	f.Add("", pushNonce, "2018-02-12T15:36:20Z", "", true, false)
	f.Add("", "n", pushCreated, "a8GQi36zPRy+sXysQJnoN+eLkwoFIzpS34jil3d0ZvQ=", false, false)
	f.Add(`UsernameToken Username="k",PasswordDigest="a8GQi36zPRy+sXysQJnoN+eLkwoFIzpS34jil3d0ZvQ=",Nonce="66C92B11FF8A425FB8D4CCFE0ED9ED1F",Created="2018-02-12T15:30:20Z"`, "", "", "", false, false)
	f.Add(`UsernameToken Username="k", PasswordDigest="RTbVvFrV4Ou9k4XJOkUnTdp43hklwbbcONn4Jbpz5FY=", Nonce="66C92B11FF8A425FB8D4CCFE0ED9ED1F", Created="2018-02-12T15:30:20Z"`, "", "", "", false, false)
	f.Add("", pushNonce, pushCreated, "AAAA", false, false)
	now, _ := time.Parse(CreatedLayout, pushCreated)
	urls := []string{pushURL, "https://www.huawei.com:9330/status"}
	// The oracle's accepted messages: every URL variant, both layouts.
	oracle := func(nonce, created string, mac []byte) bool {
		for _, u := range []string{pushURL, "https://www.huawei.com:9330/status"} {
			for _, msg := range []string{u + nonce + created, u + "\n" + nonce + "\n" + created} {
				m := hmac.New(sha256.New, []byte(pushSecret))
				m.Write([]byte(msg))
				if bytes.Equal(m.Sum(nil), mac) {
					return true
				}
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, raw, nonce, created, digest string, sign, concat bool) {
		header := raw
		if header == "" {
			if sign {
				layout := PushLayoutNewline
				if concat {
					layout = PushLayoutConcat
				}
				digest = SignPush("k", pushSecret, pushURL, nonce, created, layout).PasswordDigest
			}
			header = Token{Username: "k", PasswordDigest: digest, Nonce: nonce, Created: created}.HeaderValue()
		}
		v, err := newPushVerifier(&PushVerification{AppSecret: pushSecret, URLs: urls})
		if err != nil {
			t.Fatal(err)
		}
		if v.verify([]string{header}, now) != nil {
			return
		}
		tok, err := ParseToken(header)
		if err != nil {
			t.Fatalf("accepted an unparsable header %q", header)
		}
		mac, err := base64.StdEncoding.DecodeString(tok.PasswordDigest)
		if err != nil || !oracle(tok.Nonce, tok.Created, mac) {
			t.Fatalf("accepted a header whose digest the oracle rejects: %q", header)
		}
		c, err := time.Parse(CreatedLayout, tok.Created)
		if err != nil || c.Sub(now) > DefaultPushTolerance || now.Sub(c) > DefaultPushTolerance {
			t.Fatalf("accepted a stale Created: %q", header)
		}
		if v.verify([]string{header}, now) == nil {
			t.Fatalf("accepted a replay of %q", header)
		}
	})
}

func TestCorrelationIndex(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	idx := NewCorrelationIndex(0, 0)
	idx.now = clock.now
	assert.Equal(t, DefaultCorrelationTTL, idx.ttl)
	h := newHandler(t, HandlerConfig{Correlations: idx})

	const token = "vc0123456789abcdef0123456789abcdef"
	const session = "1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com"
	_, ok := idx.Lookup(token)
	assert.False(t, ok)

	// The disconnect arrives before the answer (out of order).
	assert.Equal(t, 200, serve(t, h, http.MethodPost, ContentType, readNotification(t, "status_disconnect.json")).Code)
	answer := fmt.Sprintf(`{"eventType":"answer","statusInfo":{"sessionId":%q,"userData":%q}}`, session, token)
	clock.add(time.Second)
	assert.Equal(t, 200, serve(t, h, http.MethodPost, ContentType, []byte(answer)).Code)
	s, ok := idx.Lookup(token)
	require.True(t, ok)
	assert.Equal(t, CallSighting{
		UserData: token, SessionID: session, LastEvent: EventDisconnect, Answered: true,
		StateCode: StateCalleeNoAnswer, HasStateCode: true,
		FirstSeen: clock.now().Add(-time.Second), LastSeen: clock.now(),
	}, s)

	n, err := ParseNotification(readNotification(t, "fee_batch50.json"))
	require.NoError(t, err)
	idx.Observe(&n)
	s, ok = idx.Lookup(fmt.Sprintf("vc%032x", 0xabc000+1))
	require.True(t, ok)
	assert.Equal(t, EventFee, s.LastEvent)
	assert.True(t, s.HasCDR)
	assert.True(t, s.Answered)
	s, _ = idx.Lookup(fmt.Sprintf("vc%032x", 0xabc000+5))
	assert.False(t, s.Answered)

	// Empty userData is not indexed.
	n2, err := ParseNotification(readNotification(t, "status_callout_seed.json"))
	require.NoError(t, err)
	idx.Observe(&n2)
	_, ok = idx.Lookup("")
	assert.False(t, ok)

	clock.add(DefaultCorrelationTTL + time.Second)
	_, ok = idx.Lookup(token)
	assert.False(t, ok, "forgotten after the TTL")
}

func ExampleNewHandler() {
	h, err := NewHandler(HandlerConfig{
		OnStatus: func(_ context.Context, ev *StatusEvent) error {
			fmt.Println("status:", ev.Type, ev.SessionID)
			return nil
		},
		OnFee: func(_ context.Context, rec *FeeRecord) error {
			// Store the record before returning nil: a record whose
			// callback succeeded is not handed over again.
			fmt.Println("cdr:", rec.SessionID, "answered:", rec.Answered())
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// In production: http.Handle("/voicecall/notify", h), served by an
	// http.Server with timeouts. Here, a recorded request.
	body := `{"eventType":"fee","feeLst":[{"sessionId":"1201_612_4294967295_20190124030424@callenabler245.huaweicaas.com",` +
		`"icid":"CAE-20190124110424-12019775","callOutAnswerTime":"2019-01-24 03:04:31","callEndTime":"2019-01-24 03:04:49"}]}`
	for range 2 { // the platform pushes the batch again: handled once
		req := httptest.NewRequest(http.MethodPost, "/voicecall/notify", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// cdr: 1201_612_4294967295_20190124030424@callenabler245.huaweicaas.com answered: true
	// 200 {"resultcode":"0","resultdesc":"Success"}
	// 200 {"resultcode":"0","resultdesc":"Success"}
}

func ExampleCorrelationIndex() {
	idx := NewCorrelationIndex(0, 0)
	h, _ := NewHandler(HandlerConfig{Correlations: idx})
	// userData is the token CallVerify generated (resp.UserData, or
	// UserDataOf(err) when the outcome was unknown).
	token := "vc0123456789abcdef0123456789abcdef"
	body := `{"eventType":"callout","statusInfo":{"sessionId":"1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com","userData":"` + token + `"}}`
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(httptest.NewRecorder(), req)

	if s, ok := idx.Lookup(token); ok {
		fmt.Println("placed:", s.SessionID, s.LastEvent)
	}
	// Output:
	// placed: 1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com callout
}
