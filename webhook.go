package voicecall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
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
