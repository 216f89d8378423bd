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
	"hash"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voicecall-go/voicecall/internal/redact"
)

// Defaults of the notification [Handler].
const (
	// DefaultMaxBodyBytes bounds a notification body: a 50-record batch is
	// about 28 KB, and every field at its maximum length stays well below.
	DefaultMaxBodyBytes = 1 << 20

	// DefaultDedupTTL is how long [MemoryDedup] remembers a handled CDR.
	// The platform re-pushes a batch up to 6 times, an hour apart, so the
	// last push comes about 6 hours after the first.
	DefaultDedupTTL = 8 * time.Hour

	// DefaultDedupMaxEntries bounds [MemoryDedup]: about 20 MB at most.
	DefaultDedupMaxEntries = 100_000

	// DefaultClaimLease is how long a [MemoryDedup] claim blocks other
	// deliveries of the same record when its holder neither commits nor
	// releases it (a crash): shorter than the platform's hour between
	// re-pushes, so the next re-push handles the record.
	DefaultClaimLease = 10 * time.Minute

	// DefaultPushTolerance is how far the Created time of a signed push
	// may be from the receiver's clock, in either direction.
	DefaultPushTolerance = 5 * time.Minute

	// DefaultCorrelationTTL is how long a [CorrelationIndex] remembers a
	// call after its last notification.
	DefaultCorrelationTTL = 24 * time.Hour

	// DefaultCorrelationMaxEntries bounds a [CorrelationIndex].
	DefaultCorrelationMaxEntries = 100_000
)

// maxReplayEntries bounds the nonces remembered by push verification.
const maxReplayEntries = 1 << 16

// successBody is the answer the platform expects.
const successBody = `{"resultcode":"0","resultdesc":"Success"}`

// HandlerConfig configures a [Handler]. Every field is optional; a
// callback left nil means that kind of notification is acknowledged
// and dropped.
type HandlerConfig struct {
	// OnStatus is called once per call-status event. The platform never
	// pushes a status event again, whatever the answer; so when OnStatus
	// returns an error the Handler logs it (if Logger is set) and still
	// answers 200. Persist the event before returning, or accept to lose
	// it.
	OnStatus func(ctx context.Context, ev *StatusEvent) error

	// OnFee is called once per CDR of a batch, in body order, for every
	// record not handled before (see Dedup). When it returns an error (or
	// panics) for a record, the record is released, the remaining records
	// are still handled, and the Handler answers 5xx so that the platform
	// pushes the batch again (up to 6 times, an hour apart); the records
	// that succeeded are skipped on the re-push. Return nil only once the
	// record is stored.
	OnFee func(ctx context.Context, rec *FeeRecord) error

	// OnUnknown is called for a notification whose eventType the SDK does
	// not know. When it returns an error the Handler answers 503, in case
	// the platform re-pushes that kind of event.
	OnUnknown func(ctx context.Context, ev *UnknownEvent) error

	// Dedup remembers which CDRs were handled, by [FeeRecord.DedupKey].
	// nil means a [MemoryDedup] of this Handler alone with the default
	// TTL and bound. Give every receiver instance the same store (see
	// [DedupStore]) when several instances share the feeUrl.
	Dedup DedupStore

	// MaxBodyBytes bounds the request body; larger bodies are answered
	// 413. 0 means [DefaultMaxBodyBytes] (1 MiB).
	MaxBodyBytes int64

	// Logger receives one record per failed or refused request and per
	// failed callback; nil means no logging. Phone numbers are masked to
	// their last four digits; X-AKSK values are never logged.
	Logger *slog.Logger

	// Verification, when set, requires pushes to carry a valid X-AKSK
	// header; see [PushVerification]. nil (the default) accepts unsigned
	// pushes, because Huawei's documents disagree on whether pushes are
	// signed at all.
	Verification *PushVerification

	// Correlations, when set, is told about every status event and CDR
	// that carries a userData, so that the application can find a call
	// by the correlation token it sent; see [CorrelationIndex].
	Correlations *CorrelationIndex
}

// Handler receives the platform's notifications: call-status events and
// CDR (fee) batches, on the same or different URLs. It implements
// [http.Handler] and is safe for concurrent use. Build it with
// [NewHandler].
//
// For each request it:
//
//   - answers 405 (with "Allow: POST") to any method but POST;
//   - when verification is configured, answers 401 to a push without a
//     valid X-AKSK header (see [PushVerification]);
//   - answers 415 unless the Content-Type is application/json, with or
//     without parameters (a charset, if present, must be UTF-8): the
//     platform sends "application/json;charset=UTF-8";
//   - answers 413 to a body over MaxBodyBytes;
//   - answers 400, calling nothing, to a body [ParseNotification]
//     rejects;
//   - calls the callback for the notification and answers 200 with
//     {"resultcode":"0","resultdesc":"Success"}, or 5xx as documented on
//     [HandlerConfig]'s callbacks. A panicking callback is recovered and
//     answered 500.
//
// Error answers carry {"resultcode":"<http status>","resultdesc":"..."}.
//
// The Handler does not bound how long callbacks run: serve it from an
// [http.Server] with ReadHeaderTimeout, ReadTimeout, WriteTimeout and
// MaxHeaderBytes set (see examples/webhook), and keep callbacks short.
// Callbacks get the request's context.
type Handler struct {
	onStatus  func(context.Context, *StatusEvent) error
	onFee     func(context.Context, *FeeRecord) error
	onUnknown func(context.Context, *UnknownEvent) error
	dedup     DedupStore
	limit     int64
	log       *slog.Logger
	verifier  *pushVerifier
	corr      *CorrelationIndex
	now       func() time.Time // test seam for push verification
	bufs      sync.Pool        // of *bytes.Buffer
}

// NewHandler returns a Handler for cfg. It fails when MaxBodyBytes is
// negative or the verification settings are incomplete.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	h := &Handler{
		onStatus:  cfg.OnStatus,
		onFee:     cfg.OnFee,
		onUnknown: cfg.OnUnknown,
		dedup:     cfg.Dedup,
		limit:     cfg.MaxBodyBytes,
		log:       cfg.Logger,
		corr:      cfg.Correlations,
		now:       time.Now,
	}
	switch {
	case h.limit < 0:
		return nil, errf("new handler: invalid MaxBodyBytes: must not be negative")
	case h.limit == 0:
		h.limit = DefaultMaxBodyBytes
	}
	if h.dedup == nil {
		h.dedup = NewMemoryDedup(0, 0)
	}
	if cfg.Verification != nil {
		v, err := newPushVerifier(cfg.Verification)
		if err != nil {
			return nil, err
		}
		h.verifier = v
	}
	return h, nil
}

// ServeHTTP handles one push; see [Handler].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, "method not allowed: use POST")
		return
	}
	if h.verifier != nil {
		if err := h.verifier.verify(r.Header.Values(HeaderXAKSK), h.now()); err != nil {
			h.refuse(w, r, http.StatusUnauthorized, err.Error())
			return
		}
	}
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		h.refuse(w, r, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	if r.ContentLength > h.limit {
		h.refuse(w, r, http.StatusRequestEntityTooLarge, "body larger than "+strconv.FormatInt(h.limit, 10)+" bytes")
		return
	}
	buf := h.bufs.Get()
	b, _ := buf.(*bytes.Buffer)
	if b == nil {
		b = new(bytes.Buffer)
	}
	b.Reset()
	if r.ContentLength > 0 {
		b.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	_, err := b.ReadFrom(http.MaxBytesReader(w, r.Body, h.limit))
	if err != nil {
		h.putBuffer(b)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.refuse(w, r, http.StatusRequestEntityTooLarge, "body larger than "+strconv.FormatInt(h.limit, 10)+" bytes")
			return
		}
		h.refuse(w, r, http.StatusBadRequest, "reading the body failed")
		return
	}
	n, err := ParseNotification(b.Bytes())
	h.putBuffer(b) // the notification does not refer to the buffer
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if h.corr != nil {
		h.corr.Observe(&n)
	}
	status := h.dispatch(r.Context(), &n)
	if status == http.StatusOK {
		writeAnswer(w, http.StatusOK, successBody)
		return
	}
	writeAnswer(w, status, errorBody(status, http.StatusText(status)))
}

func (h *Handler) putBuffer(b *bytes.Buffer) {
	if b.Cap() <= 2<<20 {
		h.bufs.Put(b)
	}
}

// dispatch calls the callbacks for n and returns the HTTP status to
// answer.
func (h *Handler) dispatch(ctx context.Context, n *Notification) int {
	switch n.Kind {
	case NotificationStatus:
		ev := n.Status
		if h.onStatus == nil {
			return http.StatusOK
		}
		panicked, err := safeCall(ctx, h.onStatus, ev)
		if err != nil {
			h.logAttrs(ctx, slog.LevelError, "voicecall: status callback failed; the platform does not re-push status events, the event is lost unless the callback stored it",
				slog.String("event", string(ev.Type)), slog.String("sessionId", redact.Text(ev.SessionID, 256)),
				slog.String("called", redact.Phone(ev.Called)), slog.Bool("panic", panicked), slog.String("error", redact.Text(err.Error(), 512)))
		}
		if panicked {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	case NotificationFee:
		return h.dispatchFees(ctx, n.Fees)
	default:
		ev := n.Unknown
		if h.onUnknown == nil {
			h.logAttrs(ctx, slog.LevelInfo, "voicecall: notification of an unknown event type acknowledged and dropped",
				slog.String("event", redact.Text(string(ev.Type), 64)))
			return http.StatusOK
		}
		panicked, err := safeCall(ctx, h.onUnknown, ev)
		if err == nil {
			return http.StatusOK
		}
		h.logAttrs(ctx, slog.LevelError, "voicecall: unknown-event callback failed",
			slog.String("event", redact.Text(string(ev.Type), 64)), slog.Bool("panic", panicked), slog.String("error", redact.Text(err.Error(), 512)))
		if panicked {
			return http.StatusInternalServerError
		}
		return http.StatusServiceUnavailable
	}
}

// dispatchFees hands each record not handled before to OnFee. It claims
// a record before the callback, commits it after success and releases
// it after failure, so that a re-push retries exactly the records that
// failed.
func (h *Handler) dispatchFees(ctx context.Context, recs []FeeRecord) int {
	if h.onFee == nil {
		return http.StatusOK
	}
	status := http.StatusOK
	fail := func(s int) {
		if s > status {
			status = s
		}
	}
	detached := context.WithoutCancel(ctx)
	handled, skipped := 0, 0
	for i := range recs {
		rec := &recs[i]
		key := rec.DedupKey()
		claim, err := h.dedup.Claim(ctx, key)
		if err != nil {
			h.logRecord(ctx, slog.LevelError, "voicecall: dedup store failed; answering 503 so that the platform re-pushes the batch", rec, err)
			fail(http.StatusServiceUnavailable)
			continue
		}
		switch claim {
		case ClaimAcquired:
		case ClaimDone:
			skipped++
			continue
		case ClaimBusy:
			h.logRecord(ctx, slog.LevelWarn, "voicecall: CDR is being handled by another delivery; answering 503 so that the platform re-pushes the batch", rec, nil)
			fail(http.StatusServiceUnavailable)
			continue
		default:
			h.logRecord(ctx, slog.LevelError, "voicecall: dedup store returned an invalid claim result", rec, nil)
			fail(http.StatusServiceUnavailable)
			continue
		}
		panicked, err := safeCall(ctx, h.onFee, rec)
		if err != nil {
			if relErr := h.dedup.Release(detached, key); relErr != nil {
				h.logRecord(ctx, slog.LevelError, "voicecall: releasing a CDR claim failed; the record is retried when the claim expires", rec, relErr)
			}
			h.logRecord(ctx, slog.LevelError, "voicecall: CDR callback failed; answering 5xx so that the platform re-pushes the batch", rec, err)
			if panicked {
				fail(http.StatusInternalServerError)
			} else {
				fail(http.StatusServiceUnavailable)
			}
			continue
		}
		handled++
		if err := h.dedup.Commit(detached, key); err != nil {
			// The record was handled; the platform will not re-push a batch
			// answered 200, so only a later manual push could repeat it.
			h.logRecord(ctx, slog.LevelError, "voicecall: recording a handled CDR in the dedup store failed", rec, err)
		}
	}
	h.logAttrs(ctx, slog.LevelDebug, "voicecall: CDR batch received",
		slog.Int("records", len(recs)), slog.Int("handled", handled), slog.Int("duplicates", skipped), slog.Int("status", status))
	return status
}

// safeCall calls f, turning a panic into an error.
func safeCall[T any](ctx context.Context, f func(context.Context, T) error, v T) (panicked bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = true
			err = fmt.Errorf("voicecall: callback panicked: %v", p)
		}
	}()
	return false, f(ctx, v)
}

func (h *Handler) logRecord(ctx context.Context, level slog.Level, msg string, rec *FeeRecord, err error) {
	if h.log == nil || !h.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("sessionId", redact.Text(rec.SessionID, 256)),
		slog.String("icid", redact.Text(rec.ICID, 64)),
		slog.String("calleeNum", redact.Phone(rec.CalleeNum)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", redact.Text(err.Error(), 512)))
	}
	h.log.LogAttrs(ctx, level, msg, attrs...)
}

func (h *Handler) logAttrs(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if h.log != nil {
		h.log.LogAttrs(ctx, level, msg, attrs...)
	}
}

// refuse answers a request the Handler will not process, and logs why.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	h.logAttrs(r.Context(), slog.LevelWarn, "voicecall: notification refused",
		slog.Int("status", status), slog.String("method", redact.Text(r.Method, 16)),
		slog.String("remote", redact.Text(r.RemoteAddr, 64)), slog.String("reason", redact.Text(reason, 512)))
	writeAnswer(w, status, errorBody(status, reason))
}

func errorBody(status int, desc string) string {
	b, _ := json.Marshal(struct {
		ResultCode string `json:"resultcode"`
		ResultDesc string `json:"resultdesc"`
	}{strconv.Itoa(status), desc})
	return string(b)
}

func writeAnswer(w http.ResponseWriter, status int, body string) {
	hd := w.Header()
	hd.Set("Content-Type", ContentType)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// isJSONContentType reports whether v is application/json, with any
// parameters, a charset parameter (if any) being UTF-8.
func isJSONContentType(v string) bool {
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8")
}

// ClaimResult is what [DedupStore.Claim] found.
type ClaimResult int

// Claim results.
const (
	// ClaimAcquired: the record was neither handled nor being handled;
	// the caller now holds the claim and must Commit or Release it.
	ClaimAcquired ClaimResult = iota + 1
	// ClaimDone: the record was handled before; skip it.
	ClaimDone
	// ClaimBusy: another delivery holds an unexpired claim on the record.
	// The Handler answers 503 so that the platform pushes the batch again
	// later, when the record is done or its claim has been released.
	ClaimBusy
)

// String returns "acquired", "done" or "busy".
func (c ClaimResult) String() string {
	switch c {
	case ClaimAcquired:
		return "acquired"
	case ClaimDone:
		return "done"
	case ClaimBusy:
		return "busy"
	}
	return "ClaimResult(" + strconv.Itoa(int(c)) + ")"
}

// DedupStore remembers which CDRs were handled, so that a re-pushed
// batch calls OnFee only for the records that were not. Keys come from
// [FeeRecord.DedupKey]. Implementations must be safe for concurrent use,
// and Claim must be atomic: of two concurrent Claims of one key, at most
// one gets ClaimAcquired.
//
// [MemoryDedup] serves one process. When several receiver instances
// share the feeUrl (behind a load balancer, or after a restart), give
// them one shared store, or a re-push that reaches another instance
// handles records again. Over Redis, for example:
//
//	Claim:   SET <key> busy NX PX <lease>  -> OK: ClaimAcquired
//	         else GET <key>                -> "done": ClaimDone, else ClaimBusy
//	Commit:  SET <key> done PX <ttl>       (ttl >= 8h)
//	Release: DEL <key> if its value is still "busy" (a small Lua script)
//
// Over SQL, a table (key PRIMARY KEY, state, expires_at): Claim inserts
// (key, 'busy', now+lease) with ON CONFLICT DO UPDATE ... WHERE the row
// has expired, and reads the state back when nothing was written; Commit
// sets state 'done' and expires_at now+ttl; Release deletes the row if
// it is still 'busy'. The lease must be shorter than the platform's hour
// between re-pushes, so that a claim left by a crashed instance has
// expired when the batch comes again. If the application stores CDRs in
// its own database, a unique index on (sessionId, icid) in the same
// transaction as the insert is the strongest de-duplication of all.
type DedupStore interface {
	// Claim marks key as being handled, unless it is done or claimed.
	Claim(ctx context.Context, key string) (ClaimResult, error)
	// Commit marks key as handled, for at least 8 hours.
	Commit(ctx context.Context, key string) error
	// Release forgets a claim whose record was not handled.
	Release(ctx context.Context, key string) error
}

// MemoryDedup is the in-process [DedupStore]: it remembers handled CDR
// keys for a TTL (default 8 hours) and holds at most maxEntries keys
// (default 100,000, about 20 MB in the worst case). At the bound it
// forgets the oldest keys first, even before their TTL: a re-push of a
// forgotten record would be handled again, so size the bound above the
// number of CDRs received in 7 hours. A claim that is neither committed
// nor released expires after [DefaultClaimLease] (or the TTL, if
// shorter). It is safe for concurrent use; its memory is lost on exit
// (see [DedupStore] for a shared store).
type MemoryDedup struct {
	ttl   time.Duration
	lease time.Duration
	now   func() time.Time

	mu  sync.Mutex
	set fifoMap[bool] // true: done; false: claimed
}

// NewMemoryDedup returns a MemoryDedup; ttl <= 0 means
// [DefaultDedupTTL] and maxEntries <= 0 means [DefaultDedupMaxEntries].
func NewMemoryDedup(ttl time.Duration, maxEntries int) *MemoryDedup {
	if ttl <= 0 {
		ttl = DefaultDedupTTL
	}
	if maxEntries <= 0 {
		maxEntries = DefaultDedupMaxEntries
	}
	return &MemoryDedup{ttl: ttl, lease: min(DefaultClaimLease, ttl), now: time.Now, set: newFIFOMap[bool](maxEntries)}
}

// Claim implements [DedupStore].
func (d *MemoryDedup) Claim(_ context.Context, key string) (ClaimResult, error) {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.set.purge(now)
	if done, ok := d.set.get(key, now); ok {
		if done {
			return ClaimDone, nil
		}
		return ClaimBusy, nil
	}
	d.set.put(key, false, now.Add(d.lease))
	return ClaimAcquired, nil
}

// Commit implements [DedupStore].
func (d *MemoryDedup) Commit(_ context.Context, key string) error {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.set.put(key, true, now.Add(d.ttl))
	return nil
}

// Release implements [DedupStore].
func (d *MemoryDedup) Release(_ context.Context, key string) error {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if done, ok := d.set.get(key, now); ok && !done {
		d.set.remove(key)
	}
	return nil
}

// Len returns the number of keys held, expired ones not yet dropped
// included.
func (d *MemoryDedup) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.set.m)
}

// fifoMap is a map with per-entry expiry and a bound on its size; at the
// bound it drops the entries inserted first. It is not safe for
// concurrent use.
type fifoMap[V any] struct {
	max   int
	m     map[string]fifoEntry[V]
	queue []fifoItem // insertion order; may hold stale items
	head  int
	seq   uint64
}

type fifoEntry[V any] struct {
	v       V
	expires time.Time
	seq     uint64
}

type fifoItem struct {
	key string
	seq uint64
}

func newFIFOMap[V any](limit int) fifoMap[V] {
	return fifoMap[V]{max: limit, m: make(map[string]fifoEntry[V])}
}

// get returns the unexpired value of key.
func (f *fifoMap[V]) get(key string, now time.Time) (V, bool) {
	e, ok := f.m[key]
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put sets key's value and expiry, dropping the oldest entry if the map
// is full.
func (f *fifoMap[V]) put(key string, v V, expires time.Time) {
	if e, ok := f.m[key]; ok {
		e.v, e.expires = v, expires
		f.m[key] = e
		return
	}
	for len(f.queue)-f.head >= f.max {
		f.pop()
	}
	f.seq++
	f.m[key] = fifoEntry[V]{v: v, expires: expires, seq: f.seq}
	f.queue = append(f.queue, fifoItem{key: key, seq: f.seq})
}

func (f *fifoMap[V]) remove(key string) { delete(f.m, key) }

// pop drops the oldest queue item and its entry, if the entry is still
// the one the item was queued for.
func (f *fifoMap[V]) pop() {
	it := f.queue[f.head]
	f.queue[f.head] = fifoItem{}
	f.head++
	if e, ok := f.m[it.key]; ok && e.seq == it.seq {
		delete(f.m, it.key)
	}
	if f.head > 64 && f.head*2 >= len(f.queue) {
		n := copy(f.queue, f.queue[f.head:])
		clear(f.queue[n:])
		f.queue = f.queue[:n]
		f.head = 0
	}
}

// purge drops expired and stale entries from the front of the queue.
func (f *fifoMap[V]) purge(now time.Time) {
	for f.head < len(f.queue) {
		it := f.queue[f.head]
		if e, ok := f.m[it.key]; ok && e.seq == it.seq && now.Before(e.expires) {
			return
		}
		f.pop()
	}
}

// PushLayout is the message layout of a signed push's PasswordDigest;
// Huawei's pages disagree (voicecall-api.md §5.2).
type PushLayout int

// Push signature layouts.
const (
	// PushLayoutNewline: HMAC over url + "\n" + nonce + "\n" + created
	// (2026 pages).
	PushLayoutNewline PushLayout = iota + 1
	// PushLayoutConcat: HMAC over url + nonce + created (2023 page).
	PushLayoutConcat
)

// SignPush returns the X-AKSK token of a push to url, as Huawei's
// notification pages describe it: PasswordDigest = Base64(HMAC-SHA256(
// appSecret, message)) with the message laid out as layout says (any
// value other than [PushLayoutConcat] means [PushLayoutNewline]). Test
// servers use it to sign the pushes a [Handler] verifies.
func SignPush(appKey, appSecret, url, nonce, created string, layout PushLayout) Token {
	m := hmac.New(sha256.New, []byte(appSecret))
	var sum [sha256.Size]byte
	return Token{
		Username:       appKey,
		PasswordDigest: base64.StdEncoding.EncodeToString(pushMAC(m, sum[:0], []byte(url), nonce, created, layout)),
		Nonce:          nonce,
		Created:        created,
	}
}

// pushMAC resets the keyed HMAC m and appends the MAC of the push
// message to dst.
func pushMAC(m hash.Hash, dst, url []byte, nonce, created string, layout PushLayout) []byte {
	m.Reset()
	_, _ = m.Write(url)
	if layout != PushLayoutConcat {
		_, _ = m.Write([]byte{'\n'})
	}
	_, _ = m.Write([]byte(nonce))
	if layout != PushLayoutConcat {
		_, _ = m.Write([]byte{'\n'})
	}
	_, _ = m.Write([]byte(created))
	return m.Sum(dst)
}

// PushVerification configures the optional check of signed pushes. Huawei's
// FAQ says pushes carry no authentication at all, while its 2023 and
// 2026 API pages describe an X-AKSK header on pushes with
// PasswordDigest = Base64(HMAC-SHA256(app secret, url + nonce + created)),
// with or without "\n" between the parts (voicecall-api.md §5.2). Turn it
// on only after checking that your pushes carry the header.
//
// A push passes when it carries exactly one X-AKSK header that
// [ParseToken] accepts, whose Username is AppKey (when set), whose
// Created (layout [CreatedLayout]) minus CreatedOffset is within
// Tolerance of the receiver's clock, in either direction, whose
// PasswordDigest decodes to the 32-byte HMAC-SHA256 of one of URLs in
// either layout (compared with [hmac.Equal]), and whose Nonce and Created
// were not seen in another passing push within the tolerance window
// (replay). Anything else is answered 401.
type PushVerification struct {
	// AppSecret is the HMAC key, the app's secret (required).
	AppSecret string

	// AppKey, when set, must equal the token's Username.
	AppKey string

	// URLs are the push URLs exactly as configured at the platform (the
	// statusUrl and feeUrl of the requests, or the console's addresses),
	// e.g. "https://hooks.example.com:9330/fee" (at least one). The
	// request URL is never used: proxies rewrite it. Each URL is also
	// tried with its default port added or removed (":443" for https,
	// ":80" for http), because senders differ on that.
	URLs []string

	// Tolerance is how far Created may be from the receiver's clock;
	// 0 means [DefaultPushTolerance] (5 minutes).
	Tolerance time.Duration

	// CreatedOffset is how far the sender's Created clock runs ahead of
	// UTC: 8*time.Hour if the platform writes Beijing time with a "Z", as
	// its 2026 pages say; 0 for UTC, as its 2023 pages say.
	CreatedOffset time.Duration

	// AllowUnsigned accepts pushes without an X-AKSK header (a header
	// that is present must still be valid). It protects nothing; use it
	// to find out from the logs whether the platform signs pushes.
	AllowUnsigned bool
}

// pushVerifier is a compiled PushVerification.
type pushVerifier struct {
	appKey        string
	urls          [][]byte
	tolerance     time.Duration
	offset        time.Duration
	allowUnsigned bool
	macs          sync.Pool // of hash.Hash keyed with the secret

	mu     sync.Mutex
	replay fifoMap[struct{}]
}

func newPushVerifier(c *PushVerification) (*pushVerifier, error) {
	const op = "new handler: invalid Verification."
	if c.AppSecret == "" {
		return nil, errf(op + "AppSecret: missing")
	}
	if len(c.URLs) == 0 {
		return nil, errf(op + "URLs: missing")
	}
	if c.Tolerance < 0 {
		return nil, errf(op + "Tolerance: must not be negative")
	}
	v := &pushVerifier{
		appKey:        c.AppKey,
		tolerance:     c.Tolerance,
		offset:        c.CreatedOffset,
		allowUnsigned: c.AllowUnsigned,
		replay:        newFIFOMap[struct{}](maxReplayEntries),
	}
	if v.tolerance == 0 {
		v.tolerance = DefaultPushTolerance
	}
	seen := map[string]bool{}
	for i, raw := range c.URLs {
		variants, err := urlVariants(raw)
		if err != nil {
			return nil, errf(op+"URLs[%d]: %s", i, err)
		}
		for _, u := range variants {
			if !seen[u] {
				seen[u] = true
				v.urls = append(v.urls, []byte(u))
			}
		}
	}
	key := []byte(c.AppSecret)
	v.macs.New = func() any { return hmac.New(sha256.New, key) }
	return v, nil
}

// urlVariants returns raw, and raw with its default port removed or
// added.
func urlVariants(raw string) ([]string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errors.New("must be an absolute http or https URL")
	}
	def := "443"
	if u.Scheme == "http" {
		def = "80"
	}
	out := []string{raw}
	host, port, err := net.SplitHostPort(u.Host)
	alt := *u
	switch {
	case err == nil && port == def:
		alt.Host = host
		if strings.Contains(host, ":") {
			alt.Host = "[" + host + "]"
		}
	case err != nil:
		alt.Host = net.JoinHostPort(strings.Trim(u.Host, "[]"), def)
	default:
		return out, nil
	}
	return append(out, alt.String()), nil
}

// Reasons a push fails verification; logged, and sent in the 401 body.
var (
	errPushUnsigned = errors.New("push verification: no X-AKSK header")
	errPushHeaders  = errors.New("push verification: more than one X-AKSK header")
	errPushToken    = errors.New("push verification: X-AKSK cannot be parsed")
	errPushAppKey   = errors.New("push verification: X-AKSK Username is not the app key")
	errPushCreated  = errors.New("push verification: X-AKSK Created is not of the layout 2006-01-02T15:04:05Z")
	errPushStale    = errors.New("push verification: X-AKSK Created is outside the tolerance window")
	errPushDigest   = errors.New("push verification: X-AKSK PasswordDigest does not match")
	errPushReplay   = errors.New("push verification: X-AKSK Nonce was already used")
)

// verify checks the X-AKSK header values of a push at time now.
func (v *pushVerifier) verify(values []string, now time.Time) error {
	switch len(values) {
	case 0:
		if v.allowUnsigned {
			return nil
		}
		return errPushUnsigned
	case 1:
	default:
		return errPushHeaders
	}
	tok, err := ParseToken(values[0])
	if err != nil || len(tok.Nonce) > MaxNonceLen {
		return errPushToken
	}
	if v.appKey != "" && tok.Username != v.appKey {
		return errPushAppKey
	}
	created, err := time.Parse(CreatedLayout, tok.Created)
	if err != nil {
		return errPushCreated
	}
	if d := now.Sub(created.Add(-v.offset)); d > v.tolerance || d < -v.tolerance {
		return errPushStale
	}
	// 44 Base64 characters decode to up to 33 bytes (without padding):
	// Decode needs room for DecodedLen, then exactly 32 must come out.
	var got [sha256.Size + 1]byte
	if len(tok.PasswordDigest) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return errPushDigest
	}
	if n, err := base64.StdEncoding.Decode(got[:], []byte(tok.PasswordDigest)); err != nil || n != sha256.Size {
		return errPushDigest
	}
	m, _ := v.macs.Get().(hash.Hash)
	ok := false
	var want [sha256.Size]byte
	for _, u := range v.urls {
		for _, layout := range [...]PushLayout{PushLayoutNewline, PushLayoutConcat} {
			if hmac.Equal(got[:sha256.Size], pushMAC(m, want[:0], u, tok.Nonce, tok.Created, layout)) {
				ok = true
			}
		}
	}
	v.macs.Put(m)
	if !ok {
		return errPushDigest
	}
	key := tok.Nonce + "\x00" + tok.Created
	v.mu.Lock()
	defer v.mu.Unlock()
	v.replay.purge(now)
	if _, seen := v.replay.get(key, now); seen {
		return errPushReplay
	}
	v.replay.put(key, struct{}{}, now.Add(2*v.tolerance))
	return nil
}

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
