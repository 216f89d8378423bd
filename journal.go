package voicecall

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voicecall-go/voicecall/internal/redact"
)

// Defaults of a [Journal] (see [JournalConfig]).
const (
	// DefaultJournalMaxLen bounds a journal's length: with about 600
	// bytes per record, 1,000,000 entries are about 600 MB in Redis.
	DefaultJournalMaxLen = 1_000_000

	// DefaultJournalMaxAge is how long an entry every consumer group
	// has acknowledged stays in the journal for [Journal.Replay] and how
	// long a record's idempotency key keeps a second append of it out.
	DefaultJournalMaxAge = 7 * 24 * time.Hour

	// DefaultJournalLease is how long a consumer holds an entry it read
	// without acknowledging it; then another consumer of its group gets
	// it (Svix reclaims after 45 s).
	DefaultJournalLease = time.Minute

	// DefaultJournalMaxAttempts is how many deliveries an entry gets
	// before it goes to its group's dead letters.
	DefaultJournalMaxAttempts = 5

	// DefaultJournalMaxBytes bounds a [MemoryJournal]'s bodies.
	DefaultJournalMaxBytes = 64 << 20
)

// ErrJournalFull is returned by [Journal.Append] when the journal holds
// its maximum length (or bytes) even after trimming the entries every
// consumer group has acknowledged. The [Handler] answers 503, so that
// the platform pushes again (CDRs) and nothing is dropped silently.
var ErrJournalFull = errors.New("voicecall: journal full")

// JournalRecord (for store implementers) is one notification for a [Journal]: a status event, one
// CDR, or an event of a type the SDK does not know.
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
	// [ParseNotification], or [JournalEntry.Notification].
	Body []byte
}

// JournalEntry (for store implementers, and what consumers read) is a
// record as stored in a [Journal].
type JournalEntry struct {
	JournalRecord
	// ID is the entry's id in the journal: "<milliseconds>-<sequence>",
	// as in Redis Streams, increasing in append order.
	ID string
	// Time is when the entry was appended, to the millisecond, by the
	// journal's clock.
	Time time.Time
	// Attempts is how many times the entry was delivered to the group,
	// this delivery included (for a dead letter, how many deliveries it
	// had); 0 in [Journal.Replay].
	Attempts int
}

// Notification parses the entry's body.
func (e *JournalEntry) Notification() (Notification, error) { return ParseNotification(e.Body) }

// JournalConfig configures a journal (the in-memory one and the Redis
// one alike). Zero values take the defaults.
type JournalConfig struct {
	// MaxLen bounds the entries; 0 means [DefaultJournalMaxLen]. An
	// append that would go beyond first trims the entries every group has
	// acknowledged, then fails with [ErrJournalFull].
	MaxLen int64
	// MaxAge is how long entries every group has acknowledged stay (for
	// Replay), and how long an appended key keeps a copy of its record
	// out; 0 means [DefaultJournalMaxAge]. Entries not yet acknowledged
	// by every group are never trimmed.
	MaxAge time.Duration
	// Lease is how long a consumer holds an entry it read before another
	// consumer of its group may read it; 0 means [DefaultJournalLease].
	Lease time.Duration
	// MaxAttempts is how many deliveries an entry gets before it goes to
	// its group's dead letters; 0 means [DefaultJournalMaxAttempts].
	MaxAttempts int
	// MaxBytes bounds the bodies a [MemoryJournal] holds; 0 means
	// [DefaultJournalMaxBytes]. A Redis journal is bounded in bytes by
	// Redis's maxmemory (with the noeviction policy, an append beyond it
	// fails, and the Handler answers 503).
	MaxBytes int64
}

// WithDefaults returns c with every zero field set to its default. It
// fails, naming the field, when a field is negative.
func (c JournalConfig) WithDefaults() (JournalConfig, error) {
	switch {
	case c.MaxLen < 0:
		return c, errf("journal: invalid MaxLen: must not be negative")
	case c.MaxAge < 0:
		return c, errf("journal: invalid MaxAge: must not be negative")
	case c.Lease < 0:
		return c, errf("journal: invalid Lease: must not be negative")
	case c.MaxAttempts < 0:
		return c, errf("journal: invalid MaxAttempts: must not be negative")
	case c.MaxBytes < 0:
		return c, errf("journal: invalid MaxBytes: must not be negative")
	}
	if c.MaxLen == 0 {
		c.MaxLen = DefaultJournalMaxLen
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultJournalMaxAge
	}
	if c.Lease == 0 {
		c.Lease = DefaultJournalLease
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultJournalMaxAttempts
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultJournalMaxBytes
	}
	return c, nil
}

// Journal (for store implementers; consumers call Read, Ack and
// Replay) is a durable, bounded log of notifications that a [Handler]
// appends to (see [HandlerConfig].Journal) and that consumer groups read
// at their own pace, with at-least-once delivery and explicit
// acknowledgement, like Redis Streams' consumer groups. Implementations
// must be safe for concurrent use by several processes (the Redis one
// is in the redisstore module) and pass storetest.RunJournalTests.
//
// A consumer loop:
//
//	for {
//		entries, err := j.Read(ctx, "billing", "worker-1", 50)
//		// handle err, wait when entries is empty
//		for _, e := range entries {
//			// apply e once, keyed by e.Key (say, INSERT ... ON CONFLICT DO NOTHING)
//		}
//		err = j.Ack(ctx, "billing", ids(entries))
//	}
//
// Each group gets every entry; within a group, each entry goes to one
// consumer at a time. An entry read and not acknowledged within the
// lease goes to the next Read of any consumer of the group (its consumer
// died or is stuck); after MaxAttempts deliveries it goes to the group's
// dead letters instead, which [Journal.DeadLetters] lists and
// [Journal.Redrive] appends again. Delivery is at least once: apply an
// entry idempotently, by its Key.
type Journal interface {
	// Append stores recs, all or none, before returning nil. A record
	// whose key is already in the journal (appended within MaxAge) is
	// not stored again, so that repeating an Append whose answer was
	// lost adds nothing. It fails with [ErrJournalFull] when the journal
	// is full.
	Append(ctx context.Context, recs []JournalRecord) error

	// Read returns up to n entries for consumer in group, first those
	// whose lease expired (their Attempts grown by one), then entries
	// the group has not seen, oldest first. It creates the group when
	// missing (at the start of the journal, so a new group, or a group
	// lost with a Redis restart, gets every entry still held). Entries
	// delivered MaxAttempts times whose lease expired go to the group's
	// dead letters instead.
	Read(ctx context.Context, group, consumer string, n int) ([]JournalEntry, error)

	// Ack marks the entries of group with ids as done; unknown ids, ids
	// acknowledged before and a missing group are ignored.
	Ack(ctx context.Context, group string, ids []string) error

	// DeadLetters returns up to n of group's dead letters, oldest first;
	// their ID is their id among the dead letters.
	DeadLetters(ctx context.Context, group string, n int) ([]JournalEntry, error)

	// Redrive appends group's dead letters with ids to the journal
	// again (with new ids; every group gets them, and applies them once
	// by their key) and removes them from the dead letters. Unknown ids
	// are ignored, so repeating a Redrive is safe.
	Redrive(ctx context.Context, group string, ids []string) error

	// Replay returns up to n entries appended between from and to
	// (inclusive, to the millisecond; a zero to means no end), after the
	// entry with id after when it is not empty, oldest first, whether
	// delivered or not. Page by passing the last ID returned as after.
	Replay(ctx context.Context, from, to time.Time, after string, n int) ([]JournalEntry, error)
}

// JournalRecords (for store implementers and tests) returns the journal
// records of a notification: one for
// a status or unknown event, one per CDR of a fee batch (each a batch of
// one record, carrying the envelope's extra members), keyed as
// [JournalRecord].Key says. body is the push's body, kept as it is for a
// status or unknown event.
func JournalRecords(n *Notification, body []byte) ([]JournalRecord, error) {
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

// journalID is a Redis Streams id.
type journalID struct{ ms, seq int64 }

func (id journalID) String() string {
	return strconv.FormatInt(id.ms, 10) + "-" + strconv.FormatInt(id.seq, 10)
}

func (id journalID) less(o journalID) bool {
	return id.ms < o.ms || id.ms == o.ms && id.seq < o.seq
}

// parseJournalID parses "<ms>-<seq>" (or "<ms>", sequence 0).
func parseJournalID(s string) (journalID, bool) {
	ms, seq, found := strings.Cut(s, "-")
	a, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || a < 0 {
		return journalID{}, false
	}
	var b int64
	if found {
		if b, err = strconv.ParseInt(seq, 10, 64); err != nil || b < 0 {
			return journalID{}, false
		}
	}
	return journalID{a, b}, true
}

// MemoryJournal is the in-memory [Journal] of one process: it keeps
// nothing across a restart, so it serves tests and a single receiver
// whose consumers run in the same process (the Handler then answers
// 200 only once the record is in memory). It remembers the keys of at
// most 2 x MaxLen appended records (for MaxAge each) to keep copies out.
// Build it with [NewMemoryJournal].
type MemoryJournal struct {
	cfg JournalConfig
	now func() time.Time // test seam

	mu      sync.Mutex
	entries []JournalEntry // in id order
	bytes   int64
	last    journalID
	seen    map[DedupKey]time.Time // key -> when it stops keeping copies out
	seenQ   []seenKey              // seen keys in append order
	groups  map[string]*memGroup
}

type seenKey struct {
	key DedupKey
	exp time.Time
}

type memGroup struct {
	last    journalID
	pending map[journalID]*memPending
	dead    []JournalEntry
	deadSeq int64
}

type memPending struct {
	consumer string
	at       time.Time
	count    int
}

var _ Journal = (*MemoryJournal)(nil)

// NewMemoryJournal returns an empty MemoryJournal for cfg (see
// [JournalConfig.WithDefaults]).
func NewMemoryJournal(cfg JournalConfig) (*MemoryJournal, error) {
	c, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	return &MemoryJournal{cfg: c, now: time.Now, seen: map[DedupKey]time.Time{}, groups: map[string]*memGroup{}}, nil
}

// nextID returns the next id at time now (ms), always above the last.
func (j *MemoryJournal) nextID(now time.Time) journalID {
	ms := now.UnixMilli()
	if ms > j.last.ms {
		j.last = journalID{ms, 0}
	} else {
		j.last.seq++
	}
	return j.last
}

// floor returns the lowest id some group has not acknowledged, and false
// when there is no group (then nothing counts as acknowledged).
func (j *MemoryJournal) floor() (journalID, bool) {
	if len(j.groups) == 0 {
		return journalID{}, false
	}
	f := journalID{ms: 1<<63 - 1}
	for _, g := range j.groups {
		next := journalID{g.last.ms, g.last.seq + 1}
		if next.less(f) {
			f = next
		}
		for id := range g.pending {
			if id.less(f) {
				f = id
			}
		}
	}
	return f, true
}

// trimBelow drops the entries whose id is below limit.
func (j *MemoryJournal) trimBelow(limit journalID) {
	i := 0
	for i < len(j.entries) {
		id, _ := parseJournalID(j.entries[i].ID)
		if !id.less(limit) {
			break
		}
		j.bytes -= int64(len(j.entries[i].Body))
		i++
	}
	if i > 0 {
		j.entries = slices.Delete(j.entries, 0, i)
	}
}

// Append implements [Journal].
func (j *MemoryJournal) Append(ctx context.Context, recs []JournalRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	for len(j.seenQ) > 0 && (!now.Before(j.seenQ[0].exp) || int64(len(j.seenQ)) > 2*j.cfg.MaxLen) {
		if exp, ok := j.seen[j.seenQ[0].key]; ok && exp.Equal(j.seenQ[0].exp) {
			delete(j.seen, j.seenQ[0].key)
		}
		j.seenQ = j.seenQ[1:]
	}
	fresh := make([]JournalRecord, 0, len(recs))
	inBatch := make(map[DedupKey]bool, len(recs))
	var size int64
	for _, r := range recs {
		if _, ok := j.seen[r.Key]; ok || inBatch[r.Key] {
			continue
		}
		inBatch[r.Key] = true
		fresh = append(fresh, r)
		size += int64(len(r.Body))
	}
	if len(fresh) == 0 {
		return nil
	}
	full := func() bool { return int64(len(j.entries)+len(fresh)) > j.cfg.MaxLen || j.bytes+size > j.cfg.MaxBytes }
	cut := journalID{ms: now.Add(-j.cfg.MaxAge).UnixMilli()}
	old := len(j.entries) > 0 && j.entries[0].Time.UnixMilli() < cut.ms
	if old || full() { // only then is the floor worth computing
		if floor, ok := j.floor(); ok {
			if old {
				limit := cut
				if floor.less(cut) {
					limit = floor
				}
				j.trimBelow(limit)
			}
			if full() {
				j.trimBelow(floor)
			}
		}
	}
	if full() {
		return ErrJournalFull
	}
	exp := now.Add(j.cfg.MaxAge)
	for _, r := range fresh {
		id := j.nextID(now)
		r.Body = slices.Clone(r.Body)
		j.entries = append(j.entries, JournalEntry{JournalRecord: r, ID: id.String(), Time: time.UnixMilli(id.ms)})
		j.bytes += int64(len(r.Body))
		j.seen[r.Key] = exp
		j.seenQ = append(j.seenQ, seenKey{r.Key, exp})
	}
	return nil
}

// find returns the index of the entry with id, or -1.
func (j *MemoryJournal) find(id journalID) int {
	i, ok := slices.BinarySearchFunc(j.entries, id, func(e JournalEntry, id journalID) int {
		eid, _ := parseJournalID(e.ID)
		switch {
		case eid.less(id):
			return -1
		case id.less(eid):
			return 1
		}
		return 0
	})
	if !ok {
		return -1
	}
	return i
}

func checkGroup(op, group, consumer string, n int) error {
	switch {
	case group == "":
		return errf("journal %s: invalid group: empty", op)
	case consumer == "":
		return errf("journal %s: invalid consumer: empty", op)
	case n <= 0:
		return errf("journal %s: invalid n: must be positive", op)
	}
	return nil
}

func (e JournalEntry) clone() JournalEntry {
	e.Body = slices.Clone(e.Body)
	return e
}

// Read implements [Journal].
func (j *MemoryJournal) Read(ctx context.Context, group, consumer string, n int) ([]JournalEntry, error) {
	if err := checkGroup("read", group, consumer, n); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	g := j.groups[group]
	if g == nil {
		g = &memGroup{pending: map[journalID]*memPending{}}
		j.groups[group] = g
	}
	var expired []journalID
	for id, p := range g.pending {
		if now.Sub(p.at) >= j.cfg.Lease {
			expired = append(expired, id)
		}
	}
	slices.SortFunc(expired, func(a, b journalID) int {
		if a.less(b) {
			return -1
		}
		return 1
	})
	if len(expired) > n {
		expired = expired[:n]
	}
	var out []JournalEntry
	for _, id := range expired {
		p := g.pending[id]
		i := j.find(id)
		if i < 0 { // trimmed
			delete(g.pending, id)
			continue
		}
		if p.count >= j.cfg.MaxAttempts {
			delete(g.pending, id)
			e := j.entries[i].clone()
			e.Attempts = p.count
			g.deadSeq++
			e.ID = journalID{now.UnixMilli(), g.deadSeq}.String()
			g.dead = append(g.dead, e)
			if int64(len(g.dead)) > j.cfg.MaxLen {
				g.dead = g.dead[1:]
			}
			continue
		}
		p.consumer, p.at = consumer, now
		p.count++
		e := j.entries[i].clone()
		e.Attempts = p.count
		out = append(out, e)
	}
	start, _ := slices.BinarySearchFunc(j.entries, g.last, func(e JournalEntry, id journalID) int {
		eid, _ := parseJournalID(e.ID)
		if id.less(eid) {
			return 1
		}
		return -1
	})
	for i := start; i < len(j.entries) && len(out) < n; i++ {
		id, _ := parseJournalID(j.entries[i].ID)
		g.last = id
		g.pending[id] = &memPending{consumer: consumer, at: now, count: 1}
		e := j.entries[i].clone()
		e.Attempts = 1
		out = append(out, e)
	}
	return out, nil
}

// Ack implements [Journal].
func (j *MemoryJournal) Ack(ctx context.Context, group string, ids []string) error {
	if group == "" {
		return errf("journal ack: invalid group: empty")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	g := j.groups[group]
	if g == nil {
		return nil
	}
	for _, s := range ids {
		if id, ok := parseJournalID(s); ok {
			delete(g.pending, id)
		}
	}
	return nil
}

// DeadLetters implements [Journal].
func (j *MemoryJournal) DeadLetters(ctx context.Context, group string, n int) ([]JournalEntry, error) {
	if err := checkGroup("dead letters", group, "-", n); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	g := j.groups[group]
	if g == nil {
		return nil, nil
	}
	out := make([]JournalEntry, 0, min(n, len(g.dead)))
	for _, e := range g.dead[:min(n, len(g.dead))] {
		out = append(out, e.clone())
	}
	return out, nil
}

// Redrive implements [Journal].
func (j *MemoryJournal) Redrive(ctx context.Context, group string, ids []string) error {
	if group == "" {
		return errf("journal redrive: invalid group: empty")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	g := j.groups[group]
	if g == nil {
		return nil
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var moved []JournalRecord
	kept := g.dead[:0]
	for _, e := range g.dead {
		if want[e.ID] {
			moved = append(moved, e.JournalRecord)
			continue
		}
		kept = append(kept, e)
	}
	var size int64
	for _, r := range moved {
		size += int64(len(r.Body))
	}
	if len(moved) > 0 && (int64(len(j.entries)+len(moved)) > j.cfg.MaxLen || j.bytes+size > j.cfg.MaxBytes) {
		return ErrJournalFull
	}
	clear(g.dead[len(kept):])
	g.dead = kept
	for _, r := range moved {
		id := j.nextID(now)
		j.entries = append(j.entries, JournalEntry{JournalRecord: r, ID: id.String(), Time: time.UnixMilli(id.ms)})
		j.bytes += int64(len(r.Body))
	}
	return nil
}

// Replay implements [Journal].
func (j *MemoryJournal) Replay(ctx context.Context, from, to time.Time, after string, n int) ([]JournalEntry, error) {
	if n <= 0 {
		return nil, errf("journal replay: invalid n: must be positive")
	}
	var a journalID
	if after != "" {
		var ok bool
		if a, ok = parseJournalID(after); !ok {
			return nil, errf("journal replay: invalid after: not a journal id")
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []JournalEntry
	for _, e := range j.entries {
		id, _ := parseJournalID(e.ID)
		switch {
		case id.ms < from.UnixMilli(), after != "" && !a.less(id):
			continue
		case !to.IsZero() && id.ms > to.UnixMilli():
			return out, nil
		}
		out = append(out, e.clone())
		if len(out) == n {
			break
		}
	}
	return out, nil
}

// dispatchJournal appends n's records to the Handler's journal and
// returns 200 once they are stored, 503 when the append failed.
func (h *Handler) dispatchJournal(ctx context.Context, n *Notification, body []byte, o *outcome) int {
	recs, err := JournalRecords(n, body)
	if err == nil && len(recs) > 0 {
		err = h.timedErr(o, func() error { return h.journal.Append(ctx, recs) })
	}
	if err != nil {
		o.end.Err = err
		h.logAttrs(ctx, slog.LevelError, "voicecall: journal append failed; answering 503 so that nothing unstored is acknowledged",
			slog.String("event", redact.Text(string(n.Type()), 64)), slog.Int("records", len(recs)),
			slog.Bool("full", errors.Is(err, ErrJournalFull)), slog.String("error", redact.Text(err.Error(), 512)))
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// timedErr runs f, adding its duration to the callback time.
func (h *Handler) timedErr(o *outcome, f func() error) error {
	_, err := h.timed(o, func() (bool, error) { return false, f() })
	return err
}
