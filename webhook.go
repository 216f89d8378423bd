package voicecall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/internal/expiring"
	"github.com/voicecall-go/voicecall/internal/redact"
)

// Defaults of the notification [Handler], and the size of its stores'
// records.
const (
	// DefaultMaxBodyBytes bounds a notification body: a 50-record batch is
	// about 28 KB, and every field at its maximum length stays well below.
	DefaultMaxBodyBytes = 1 << 20

	// DefaultDedupTTL is how long [MemoryDedup] remembers a handled CDR.
	// The platform re-pushes a batch up to 6 times, an hour apart, so the
	// last push comes about 6 hours after the first.
	DefaultDedupTTL = 8 * time.Hour

	// DedupRecordBytes is what [MemoryDedup] holds per record of its
	// table: a 16-byte key, its expiry, its insertion number and its
	// state. Size NewMemoryDedup's maxBytes with it.
	DedupRecordBytes = 28

	// DefaultDedupMaxBytes bounds [MemoryDedup]: 5.6 MB, 200,000 records
	// of [DedupRecordBytes] each, which remember the last 100,000 CDRs
	// with probability 99 % each (see MemoryDedup).
	DefaultDedupMaxBytes = 200_000 * DedupRecordBytes

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

	// DefaultCorrelationMaxBytes bounds a [CorrelationIndex]: about
	// 70,000 calls with 34-byte tokens and 70-byte sessionIds.
	DefaultCorrelationMaxBytes = 32 << 20

	// DefaultStatusDedupTTL is how long a Handler with
	// [HandlerConfig].DedupStatus remembers a status event.
	DefaultStatusDedupTTL = time.Hour

	// DefaultStatusDedupMaxEntries bounds the status events remembered
	// for DedupStatus (68 bytes each, 4.5 MB).
	DefaultStatusDedupMaxEntries = 1 << 16
)

// firstReadBytes caps what the Handler allocates for a body before any
// of it has arrived, whatever the Content-Length says; growToDeclared
// caps the one growth to the declared length once that much has
// arrived. Beyond, the buffer doubles as bytes arrive.
const (
	firstReadBytes = 4 << 10
	growToDeclared = 64 << 10
)

// successBody is the answer the platform expects.
const successBody = `{"resultcode":"0","resultdesc":"Success"}`

// DeadLetter is a status event whose OnStatus callback failed (returned
// an error or panicked), handed to [HandlerConfig].OnDeadLetter.
type DeadLetter struct {
	// Event is the parsed event.
	Event *StatusEvent
	// Body is a copy of the request body, exactly as pushed: keep it to
	// replay the event through [ParseNotification] later.
	Body []byte
	// Err is the callback's error (a panic becomes an error).
	Err error
}

// HandlerConfig configures a [Handler]. Every field is optional; a
// callback left nil means that kind of notification is acknowledged
// and dropped.
type HandlerConfig struct {
	// OnStatus is called once per call-status event. The platform never
	// pushes a status event again, whatever the answer; so when OnStatus
	// returns an error (or panics) the Handler logs it (if Logger is set),
	// hands the event to OnDeadLetter (if set), and answers 200 (500 for
	// a panic). Persist the event before returning, or accept to lose it.
	OnStatus func(ctx context.Context, ev *StatusEvent) error

	// OnDeadLetter receives every status event whose OnStatus failed,
	// with its raw body, so that the application can keep it (a file, a
	// queue, another database) and replay it once OnStatus works again
	// (POST the body to the Handler, or pass it to [ParseNotification]):
	// the platform will not send it again. When OnDeadLetter returns an
	// error too, the Handler logs it and answers 503 (in case the
	// platform does re-push); keep OnDeadLetter simpler than OnStatus (an
	// append to a local file, say) so that it does not fail with it.
	OnDeadLetter func(ctx context.Context, dl *DeadLetter) error

	// DedupStatus, when true, calls OnStatus only once for identical
	// status events (same event type and the same content, compared by a
	// 128-bit hash) seen within [DefaultStatusDedupTTL], remembering at
	// most [DefaultStatusDedupMaxEntries] (the oldest are forgotten first).
	// The platform pushes each event once; a proxy or a test tool may not.
	// An event whose OnStatus failed is forgotten, so a copy is handled.
	DedupStatus bool

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

	// Logger receives one record per failed request and per failed
	// callback, and one per refused request up to 10 a second (the next
	// one logged says how many were held back: "suppressed"); nil means
	// no logging. Phone numbers are masked to their last four digits;
	// X-AKSK values and body bytes are never logged.
	Logger *slog.Logger

	// Verification, when set, requires pushes to carry a valid X-AKSK
	// header; see [PushVerification]. nil (the default) accepts unsigned
	// pushes, because Huawei's documents disagree on whether pushes are
	// signed at all. Without it, anyone who knows the receiver's URL can
	// push forged notifications: serve the Handler on an unguessable path
	// (a random token in the URL given to the platform) and check in the
	// application that a sessionId or userData belongs to a call it
	// placed.
	Verification *PushVerification

	// Correlations, when set, is told about every status event and CDR
	// that carries a userData, so that the application can find a call
	// by the correlation token it sent; see [CorrelationStore] and
	// [CorrelationIndex]. A failing store is logged; the notification is
	// handled anyway.
	Correlations CorrelationStore

	// Hooks, when set, are called for every push, refusals included; see
	// [HandlerHooks].
	Hooks *HandlerHooks

	// Journal, when set, makes the Handler append every notification it
	// accepts (each status event, each CDR, each unknown event; see
	// [Notification.JournalRecords]) to the journal in one call per
	// push, and answer 200 only once the append succeeded, 503 otherwise
	// (a full journal included), so that nothing is acknowledged that is
	// not stored. The application then consumes from the journal (package
	// [github.com/voicecall-go/voicecall/journal]) instead of inside the
	// request: set none of OnStatus, OnDeadLetter, OnFee and OnUnknown
	// with it. Dedup and DedupStatus are not used: the
	// journal keeps a second copy of a record out by its key.
	Journal Journal
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
//     valid X-AKSK header, or 503 when its replay cache is full (see
//     [PushVerification]);
//   - answers 413 to a body over MaxBodyBytes; it never allocates from
//     the declared Content-Length (4 KiB until that much of the body has
//     arrived, then at most 64 KiB, then twice what has arrived), so
//     connections that announce large bodies and send nothing cost
//     little;
//   - accepts any Content-Type: the platform's pages describe the body
//     as a byte stream of JSON, and a refusal would lose the push;
//   - answers 400, calling nothing, to a body [ParseNotification]
//     rejects (not JSON, not UTF-8, no eventType...), with a short reason
//     that quotes nothing of the body;
//   - calls the callback for the notification and answers 200 with
//     {"resultcode":"0","resultdesc":"Success"}, or 5xx as documented on
//     [HandlerConfig]'s callbacks. A panicking callback is recovered and
//     answered 500.
//
// Error answers carry {"resultcode":"<http status>","resultdesc":"..."}.
//
// The Handler does not bound how long callbacks run: serve it through
// package [github.com/voicecall-go/voicecall/server] (header and body
// timeouts, caps on connections, a budget of body bytes; see
// examples/webhook), or from an [http.Server] with ReadHeaderTimeout,
// ReadTimeout, WriteTimeout and MaxHeaderBytes set and a cap on
// connections, and keep callbacks short. Callbacks get the request's
// context.
type Handler struct {
	onStatus     func(context.Context, *StatusEvent) error
	onDeadLetter func(context.Context, *DeadLetter) error
	onFee        func(context.Context, *FeeRecord) error
	onUnknown    func(context.Context, *UnknownEvent) error
	dedup        DedupStore
	limit        int64
	log          *slog.Logger
	verifier     *pushVerifier
	journal      Journal
	corr         CorrelationStore
	hooks        HandlerHooks
	now          func() time.Time // test seam for push verification

	statusMu   sync.Mutex
	statusSeen *expiring.Map[DedupKey, struct{}] // nil unless DedupStatus

	refusals logLimiter
}

// NewHandler returns a Handler for cfg. It fails when MaxBodyBytes is
// negative or the verification settings are incomplete.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	h := &Handler{
		onStatus:     cfg.OnStatus,
		onDeadLetter: cfg.OnDeadLetter,
		onFee:        cfg.OnFee,
		onUnknown:    cfg.OnUnknown,
		dedup:        cfg.Dedup,
		limit:        cfg.MaxBodyBytes,
		log:          cfg.Logger,
		corr:         cfg.Correlations,
		journal:      cfg.Journal,
		now:          time.Now,
	}
	if h.journal != nil && (h.onStatus != nil || h.onDeadLetter != nil || h.onFee != nil || h.onUnknown != nil) {
		return nil, errf("new handler: invalid Journal: set either Journal or the callbacks (OnStatus, OnDeadLetter, OnFee, OnUnknown), not both")
	}
	if cfg.Hooks != nil {
		h.hooks = *cfg.Hooks
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
	if cfg.DedupStatus {
		h.statusSeen = expiring.New[DedupKey, struct{}](int64(DefaultStatusDedupMaxEntries)*int64(expiring.EntryOverhead[DedupKey, struct{}]()), nil, expiring.Evict)
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

// outcome is what handling one push came to, for the hooks.
type outcome struct {
	end NotificationInfo
}

// ServeHTTP handles one push; see [Handler].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var o outcome
	o.end.Path = redact.Text(r.URL.Path, 256)
	ctx = hookContext(ctx, h.hooks.NotificationStart, o.end)
	o.end.Status = h.serve(ctx, w, r, &o)
	hookEnd(ctx, h.hooks.NotificationEnd, o.end)
}

// serve handles the push and returns the status it answered.
func (h *Handler) serve(ctx context.Context, w http.ResponseWriter, r *http.Request, o *outcome) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return h.refuse(ctx, w, r, o, http.StatusMethodNotAllowed, "method not allowed: use POST")
	}
	if h.verifier != nil {
		if err := h.verifier.verify(r.Header.Values(aksk.Header), h.now()); err != nil {
			o.end.Verification = "failed"
			if errors.Is(err, errReplayFull) {
				return h.refuse(ctx, w, r, o, http.StatusServiceUnavailable, err.Error())
			}
			return h.refuse(ctx, w, r, o, http.StatusUnauthorized, err.Error())
		}
		o.end.Verification = "ok"
	}
	tooBig := "body larger than " + strconv.FormatInt(h.limit, 10) + " bytes"
	if r.ContentLength > h.limit {
		return h.refuse(ctx, w, r, o, http.StatusRequestEntityTooLarge, tooBig)
	}
	body, err := readBody(w, r, h.limit)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return h.refuse(ctx, w, r, o, http.StatusRequestEntityTooLarge, tooBig)
		}
		return h.refuse(ctx, w, r, o, http.StatusBadRequest, "reading the body failed")
	}
	n, err := ParseNotification(body)
	if err != nil {
		return h.refuse(ctx, w, r, o, http.StatusBadRequest, err.Error())
	}
	o.end.Kind = n.Kind
	if n.Kind != NotificationUnknown {
		o.end.EventType = n.Type()
	}
	if n.Kind == NotificationFee {
		o.end.Records = len(n.Fees)
	}
	if h.corr != nil {
		for _, s := range sightings(&n, h.now()) {
			if _, err := h.corr.Observe(ctx, s); err != nil {
				h.logAttrs(ctx, slog.LevelError, "voicecall: correlation store failed", slog.String("error", redact.Text(err.Error(), 512)))
			}
		}
	}
	status := h.dispatch(ctx, &n, body, o)
	if status == http.StatusOK {
		writeAnswer(w, http.StatusOK, successBody)
		return status
	}
	writeAnswer(w, status, errorBody(status, http.StatusText(status)))
	return status
}

// readBody reads the whole body, up to limit bytes. It allocates
// firstReadBytes before any byte arrives; once those are filled, it
// grows to the declared length (at most growToDeclared), then doubles
// as bytes keep arriving, so memory follows what was received, never
// what was announced.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	cl := r.ContentLength
	first := int64(firstReadBytes)
	if cl >= 0 && cl < first {
		first = cl + 1 // room to see EOF without growing
	}
	buf := make([]byte, 0, first)
	body := http.MaxBytesReader(w, r.Body, limit)
	for {
		if len(buf) == cap(buf) {
			next := 2 * cap(buf)
			if cl >= int64(cap(buf)) {
				next = max(next, int(min(cl+1, growToDeclared)))
			}
			buf = slices.Grow(buf, next-len(buf))
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return buf, err
		}
	}
}

// dispatch calls the callbacks for n and returns the HTTP status to
// answer.
func (h *Handler) dispatch(ctx context.Context, n *Notification, body []byte, o *outcome) int {
	if h.journal != nil {
		return h.dispatchJournal(ctx, n, body, o)
	}
	switch n.Kind {
	case NotificationStatus:
		return h.dispatchStatus(ctx, n.Status, body, o)
	case NotificationFee:
		return h.dispatchFees(ctx, n.Fees, o)
	default:
		ev := n.Unknown
		if h.onUnknown == nil {
			h.logAttrs(ctx, slog.LevelInfo, "voicecall: notification of an unknown event type acknowledged and dropped",
				slog.String("event", redact.Text(string(ev.Type), 64)))
			return http.StatusOK
		}
		panicked, err := h.timed(o, func() (bool, error) { return safeCall(ctx, h.onUnknown, ev) })
		if err == nil {
			return http.StatusOK
		}
		o.end.Err = err
		h.logAttrs(ctx, slog.LevelError, "voicecall: unknown-event callback failed",
			slog.String("event", redact.Text(string(ev.Type), 64)), slog.Bool("panic", panicked), slog.String("error", redact.Text(err.Error(), 512)))
		if panicked {
			return http.StatusInternalServerError
		}
		return http.StatusServiceUnavailable
	}
}

// timed runs f, adding its duration to the callback time.
func (h *Handler) timed(o *outcome, f func() (bool, error)) (bool, error) {
	t := time.Now()
	p, err := f()
	o.end.CallbackDuration += time.Since(t)
	return p, err
}

func (h *Handler) dispatchStatus(ctx context.Context, ev *StatusEvent, body []byte, o *outcome) int {
	if h.onStatus == nil {
		return http.StatusOK
	}
	var key DedupKey
	if h.statusSeen != nil {
		key = statusKey(ev)
		now := h.now()
		h.statusMu.Lock()
		_, seen := h.statusSeen.Get(key, now)
		if !seen {
			h.statusSeen.Put(key, struct{}{}, now.Add(DefaultStatusDedupTTL), now)
		}
		h.statusMu.Unlock()
		if seen {
			o.end.Duplicates = 1
			return http.StatusOK
		}
	}
	panicked, err := h.timed(o, func() (bool, error) { return safeCall(ctx, h.onStatus, ev) })
	if err == nil {
		return http.StatusOK
	}
	o.end.Err = err
	if h.statusSeen != nil {
		h.statusMu.Lock()
		h.statusSeen.Delete(key)
		h.statusMu.Unlock()
	}
	status := http.StatusOK
	if panicked {
		status = http.StatusInternalServerError
	}
	if h.onDeadLetter == nil {
		h.logAttrs(ctx, slog.LevelError, "voicecall: status callback failed; the platform does not re-push status events, the event is lost unless the callback stored it (set OnDeadLetter)",
			h.statusAttrs(ev, panicked, err)...)
		return status
	}
	h.logAttrs(ctx, slog.LevelError, "voicecall: status callback failed; the event goes to OnDeadLetter", h.statusAttrs(ev, panicked, err)...)
	dl := &DeadLetter{Event: ev, Body: slices.Clone(body), Err: err}
	_, dlErr := h.timed(o, func() (bool, error) { return safeCall(ctx, h.onDeadLetter, dl) })
	if dlErr != nil {
		h.logAttrs(ctx, slog.LevelError, "voicecall: dead-letter callback failed too; the event is lost unless the platform re-pushes it",
			h.statusAttrs(ev, false, dlErr)...)
		return max(status, http.StatusServiceUnavailable)
	}
	return status
}

func (h *Handler) statusAttrs(ev *StatusEvent, panicked bool, err error) []slog.Attr {
	return []slog.Attr{
		slog.String("event", string(ev.Type)), slog.String("sessionId", redact.Text(ev.SessionID, 256)),
		slog.String("called", redact.Phone(ev.Called)), slog.Bool("panic", panicked), slog.String("error", redact.Text(err.Error(), 512)),
	}
}

// statusKey is the de-duplication key of a status event: a hash of its
// type and every field, as for a CDR.
func statusKey(ev *StatusEvent) DedupKey {
	var buf [512]byte
	d := digest{buf: buf[:0]}
	d.str("voicecall status v1")
	for _, s := range [...]string{string(ev.Type), ev.SessionID, ev.RawTimestamp, ev.UserData, ev.Caller, ev.Called, ev.StateDesc, string(ev.PartyType), ev.DigitInfo, ev.DisplayCallerNum} {
		d.str(s)
	}
	if ev.HasStateCode {
		d.num(1)
		d.num(int64(ev.StateCode))
	} else {
		d.num(0)
	}
	names := make([]string, 0, len(ev.Extra))
	for k := range ev.Extra {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		d.str(k)
		d.str(string(ev.Extra[k]))
	}
	return d.key()
}

// dispatchFees hands each record not handled before to OnFee. It claims
// the batch's distinct keys in one call, calls OnFee for the acquired
// ones, then commits the handled and releases the failed, so that a
// re-push retries exactly the records that failed. A second copy of a
// record inside one batch is counted as a duplicate.
func (h *Handler) dispatchFees(ctx context.Context, recs []FeeRecord, o *outcome) int {
	if h.onFee == nil || len(recs) == 0 {
		return http.StatusOK
	}
	status := http.StatusOK
	fail := func(s int) { status = max(status, s) }
	keys := make([]DedupKey, len(recs))
	first := make(map[DedupKey]int, len(recs)) // key -> index in uniq
	uniq := make([]DedupKey, 0, len(recs))
	for i := range recs {
		keys[i] = recs[i].DedupKey()
		if _, ok := first[keys[i]]; !ok {
			first[keys[i]] = len(uniq)
			uniq = append(uniq, keys[i])
		}
	}
	claims, err := h.dedup.Claim(ctx, uniq)
	if err == nil && len(claims) != len(uniq) {
		err = errors.New("voicecall: dedup store returned " + strconv.Itoa(len(claims)) + " results for " + strconv.Itoa(len(uniq)) + " keys")
	}
	if err != nil {
		h.logAttrs(ctx, slog.LevelError, "voicecall: dedup store failed; answering 503 so that the platform re-pushes the batch",
			slog.Int("records", len(recs)), slog.String("error", redact.Text(err.Error(), 512)))
		o.end.Err = err
		return http.StatusServiceUnavailable
	}
	detached := context.WithoutCancel(ctx)
	seen := make([]bool, len(uniq))
	var handled, failed []DedupKey
	skipped := 0
	for i := range recs {
		rec := &recs[i]
		u := first[keys[i]]
		if seen[u] {
			skipped++ // a second copy inside this batch
			continue
		}
		seen[u] = true
		switch claims[u] {
		case ClaimAcquired:
		case ClaimDone:
			skipped++
			continue
		case ClaimBusy:
			h.logRecord(ctx, slog.LevelWarn, "voicecall: CDR is being handled by another delivery; answering 503 so that the platform re-pushes the batch", rec, nil)
			fail(http.StatusServiceUnavailable)
			continue
		case ClaimFull:
			h.logRecord(ctx, slog.LevelError, "voicecall: dedup store full; answering 503 so that the platform re-pushes the batch", rec, nil)
			fail(http.StatusServiceUnavailable)
			continue
		default:
			h.logRecord(ctx, slog.LevelError, "voicecall: dedup store returned an invalid claim result", rec, nil)
			fail(http.StatusServiceUnavailable)
			continue
		}
		panicked, err := h.timed(o, func() (bool, error) { return safeCall(ctx, h.onFee, rec) })
		if err != nil {
			failed = append(failed, keys[i])
			o.end.Err = err
			h.logRecord(ctx, slog.LevelError, "voicecall: CDR callback failed; answering 5xx so that the platform re-pushes the batch", rec, err)
			if panicked {
				fail(http.StatusInternalServerError)
			} else {
				fail(http.StatusServiceUnavailable)
			}
			continue
		}
		handled = append(handled, keys[i])
	}
	if len(handled) > 0 {
		if err := h.dedup.Commit(detached, handled); err != nil {
			// The records were handled; the platform will not re-push a
			// batch answered 200, so only a later manual push could repeat
			// them.
			h.logAttrs(ctx, slog.LevelError, "voicecall: recording handled CDRs in the dedup store failed",
				slog.Int("records", len(handled)), slog.String("error", redact.Text(err.Error(), 512)))
		}
	}
	if len(failed) > 0 {
		if err := h.dedup.Release(detached, failed); err != nil {
			h.logAttrs(ctx, slog.LevelError, "voicecall: releasing CDR claims failed; the records are retried when the claims expire",
				slog.Int("records", len(failed)), slog.String("error", redact.Text(err.Error(), 512)))
		}
	}
	o.end.Duplicates = skipped
	h.logAttrs(ctx, slog.LevelDebug, "voicecall: CDR batch received",
		slog.Int("records", len(recs)), slog.Int("handled", len(handled)), slog.Int("duplicates", skipped), slog.Int("status", status))
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

// refuse answers a request the Handler will not process, logs why, and
// returns the status.
func (h *Handler) refuse(ctx context.Context, w http.ResponseWriter, r *http.Request, o *outcome, status int, reason string) int {
	if h.log != nil && h.log.Enabled(ctx, slog.LevelWarn) {
		if ok, suppressed := h.refusals.allow(h.now()); ok {
			attrs := []slog.Attr{slog.Int("status", status), slog.String("method", redact.Text(r.Method, 16)),
				slog.String("remote", redact.Text(r.RemoteAddr, 64)), slog.String("reason", redact.Text(reason, 512))}
			if suppressed > 0 {
				attrs = append(attrs, slog.Int("suppressed", suppressed))
			}
			h.log.LogAttrs(ctx, slog.LevelWarn, "voicecall: notification refused", attrs...)
		}
	}
	o.end.Err = errors.New(redact.Text(reason, 512))
	writeAnswer(w, status, errorBody(status, reason))
	return status
}

// refusalLogRate is how many refused pushes a Handler logs a second. The
// others are counted, and the count rides on the next refusal logged
// ("suppressed"), so that a flood of forged or malformed pushes cannot
// flood the logs; [HandlerHooks] still see every refusal.
const refusalLogRate = 10

// logLimiter lets refusalLogRate records through in each second of the
// Handler's clock.
type logLimiter struct {
	mu         sync.Mutex
	second     int64 // the current second, in Unix time
	logged     int   // records let through in it
	suppressed int   // records held back since the last one let through
}

// allow reports whether a record may be logged at now and, when it may,
// how many were held back before it.
func (l *logLimiter) allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := now.Unix(); s != l.second {
		l.second, l.logged = s, 0
	}
	if l.logged >= refusalLogRate {
		l.suppressed++
		return false, 0
	}
	l.logged++
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}

func errorBody(status int, desc string) string {
	b, _ := json.Marshal(struct {
		ResultCode string `json:"resultcode"`
		ResultDesc string `json:"resultdesc"`
	}{strconv.Itoa(status), redact.Text(desc, 512)})
	return string(b)
}

func writeAnswer(w http.ResponseWriter, status int, body string) {
	hd := w.Header()
	hd.Set("Content-Type", jsonContentType)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
