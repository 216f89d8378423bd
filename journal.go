package voicecall

import (
	"context"
	"log/slog"
	"net/http"
	"slices"

	"github.com/voicecall-go/voicecall/internal/redact"
)

// Journal is what a [Handler] needs of a journal (see
// [HandlerConfig].Journal): a durable, bounded log of notifications it
// appends each push to before answering 200. Consumers read it at their
// own pace: the consumer side (Read, Ack, dead letters, redrive, replay),
// the in-memory journal and the error of a full journal are in package
// [github.com/voicecall-go/voicecall/journal]; the redisstore module's
// Journal implements both interfaces.
type Journal interface {
	// Append stores recs, all or none, before returning nil. A record
	// whose key is already in the journal (appended within its MaxAge)
	// is not stored again, so that repeating an Append whose answer was
	// lost adds nothing. It fails with
	// [github.com/voicecall-go/voicecall/journal.ErrFull] when the
	// journal is full (the Handler answers 503 on any error).
	Append(ctx context.Context, recs []JournalRecord) error
}

// JournalRecord (for store implementers) is one notification for a
// [Journal]: a status event, one CDR, or an event of a type the SDK does
// not know.
type JournalRecord struct {
	// Key is the record's idempotency key: [FeeRecord.DedupKey] for a
	// CDR, a hash of the event's type and every field for a status
	// event, a hash of the body for an unknown event. The same
	// notification always gets the same key, so a consumer that
	// remembers the keys it applied gets an exactly-once effect.
	Key DedupKey
	// Kind is the notification's kind.
	Kind NotificationKind
	// Body is a push body holding just this notification (a CDR batch of
	// one record for a CDR), in the platform's wire format: parse it with
	// [ParseNotification].
	Body []byte
}

// JournalRecords (for store implementers and tests) returns the journal
// records of n: one for a status or unknown event, one per CDR of a fee
// batch (each a batch of one record, carrying the envelope's extra
// members), keyed as [JournalRecord].Key says. body is the push's body,
// kept as it is for a status or unknown event.
func (n *Notification) JournalRecords(body []byte) ([]JournalRecord, error) {
	switch n.Kind {
	case NotificationStatus:
		if n.Status == nil {
			return nil, errf("journal records: invalid notification: no status event")
		}
		return []JournalRecord{{Key: statusKey(n.Status), Kind: NotificationStatus, Body: slices.Clone(body)}}, nil
	case NotificationFee:
		out := make([]JournalRecord, len(n.Fees))
		for i := range n.Fees {
			// MarshalJSON directly: json.Marshal would check and compact
			// its output again, as much work as writing it.
			b, err := Notification{Kind: NotificationFee, Fees: n.Fees[i : i+1], Extra: n.Extra}.MarshalJSON()
			if err != nil {
				return nil, err
			}
			out[i] = JournalRecord{Key: n.Fees[i].DedupKey(), Kind: NotificationFee, Body: b}
		}
		return out, nil
	case NotificationUnknown:
		d := digest{buf: make([]byte, 0, len(body)+32)}
		d.str("voicecall unknown v1")
		d.str(string(body))
		return []JournalRecord{{Key: d.key(), Kind: NotificationUnknown, Body: slices.Clone(body)}}, nil
	}
	return nil, errf("journal records: invalid notification kind %d", int(n.Kind))
}

// dispatchJournal appends n's records to the Handler's journal and
// returns 200 once they are stored, 503 when the append failed.
func (h *Handler) dispatchJournal(ctx context.Context, n *Notification, body []byte, o *outcome) int {
	recs, err := n.JournalRecords(body)
	if err == nil && len(recs) > 0 {
		err = h.timedErr(o, func() error { return h.journal.Append(ctx, recs) })
	}
	if err != nil {
		o.end.Err = err
		h.logAttrs(ctx, slog.LevelError, "voicecall: journal append failed; answering 503 so that nothing unstored is acknowledged",
			slog.String("event", redact.Text(string(n.Type()), 64)), slog.Int("records", len(recs)),
			slog.String("error", redact.Text(err.Error(), 512)))
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// timedErr runs f, adding its duration to the callback time.
func (h *Handler) timedErr(o *outcome, f func() error) error {
	_, err := h.timed(o, func() (bool, error) { return false, f() })
	return err
}
