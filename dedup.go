package voicecall

import (
	"context"
	"strconv"
	"sync"
	"time"
)

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
