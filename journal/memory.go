package journal

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voicecall-go/voicecall"
)

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

// Memory is the in-memory [Journal] of one process: it keeps
// nothing across a restart, so it serves tests and a single receiver
// whose consumers run in the same process (the Handler then answers
// 200 only once the record is in memory). It remembers the keys of at
// most 2 x MaxLen appended records (for MaxAge each) to keep copies out.
// Build it with [NewMemory].
type Memory struct {
	cfg Config
	now func() time.Time // test seam

	mu      sync.Mutex
	entries []Entry // in id order
	bytes   int64
	last    journalID
	seen    map[voicecall.DedupKey]time.Time // key -> when it stops keeping copies out
	seenQ   []seenKey                        // seen keys in append order
	groups  map[string]*memGroup
}

type seenKey struct {
	key voicecall.DedupKey
	exp time.Time
}

type memGroup struct {
	last    journalID
	pending map[journalID]*memPending
	dead    []Entry
	deadSeq int64
}

type memPending struct {
	consumer string
	at       time.Time
	count    int
}

var _ Journal = (*Memory)(nil)

// NewMemory returns an empty Memory for cfg (see
// [Config.WithDefaults]).
func NewMemory(cfg Config) (*Memory, error) {
	c, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	return &Memory{cfg: c, now: time.Now, seen: map[voicecall.DedupKey]time.Time{}, groups: map[string]*memGroup{}}, nil
}

// nextID returns the next id at time now (ms), always above the last.
func (j *Memory) nextID(now time.Time) journalID {
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
func (j *Memory) floor() (journalID, bool) {
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
func (j *Memory) trimBelow(limit journalID) {
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
func (j *Memory) Append(ctx context.Context, recs []voicecall.JournalRecord) error {
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
	fresh := make([]voicecall.JournalRecord, 0, len(recs))
	inBatch := make(map[voicecall.DedupKey]bool, len(recs))
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
		return ErrFull
	}
	exp := now.Add(j.cfg.MaxAge)
	for _, r := range fresh {
		id := j.nextID(now)
		r.Body = slices.Clone(r.Body)
		j.entries = append(j.entries, Entry{JournalRecord: r, ID: id.String(), Time: time.UnixMilli(id.ms)})
		j.bytes += int64(len(r.Body))
		j.seen[r.Key] = exp
		j.seenQ = append(j.seenQ, seenKey{r.Key, exp})
	}
	return nil
}

// find returns the index of the entry with id, or -1.
func (j *Memory) find(id journalID) int {
	i, ok := slices.BinarySearchFunc(j.entries, id, func(e Entry, id journalID) int {
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
		return errf("%s: invalid group: empty", op)
	case consumer == "":
		return errf("%s: invalid consumer: empty", op)
	case n <= 0:
		return errf("%s: invalid n: must be positive", op)
	}
	return nil
}

func (e Entry) clone() Entry {
	e.Body = slices.Clone(e.Body)
	return e
}

// Read implements [Journal].
func (j *Memory) Read(ctx context.Context, group, consumer string, n int) ([]Entry, error) {
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
	var out []Entry
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
	start, _ := slices.BinarySearchFunc(j.entries, g.last, func(e Entry, id journalID) int {
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
func (j *Memory) Ack(ctx context.Context, group string, ids []string) error {
	if group == "" {
		return errf("ack: invalid group: empty")
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
func (j *Memory) DeadLetters(ctx context.Context, group string, n int) ([]Entry, error) {
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
	out := make([]Entry, 0, min(n, len(g.dead)))
	for _, e := range g.dead[:min(n, len(g.dead))] {
		out = append(out, e.clone())
	}
	return out, nil
}

// Redrive implements [Journal].
func (j *Memory) Redrive(ctx context.Context, group string, ids []string) error {
	if group == "" {
		return errf("redrive: invalid group: empty")
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
	var moved []voicecall.JournalRecord
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
		return ErrFull
	}
	clear(g.dead[len(kept):])
	g.dead = kept
	for _, r := range moved {
		id := j.nextID(now)
		j.entries = append(j.entries, Entry{JournalRecord: r, ID: id.String(), Time: time.UnixMilli(id.ms)})
		j.bytes += int64(len(r.Body))
	}
	return nil
}

// Replay implements [Journal].
func (j *Memory) Replay(ctx context.Context, from, to time.Time, after string, n int) ([]Entry, error) {
	if n <= 0 {
		return nil, errf("replay: invalid n: must be positive")
	}
	var a journalID
	if after != "" {
		var ok bool
		if a, ok = parseJournalID(after); !ok {
			return nil, errf("replay: invalid after: not a journal id")
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Entry
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
