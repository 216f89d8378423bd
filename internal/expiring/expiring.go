// Package expiring is the one bounded, expiring map behind every
// in-memory cache of the receiver: the CDR de-duplication store, the
// correlation store, the status-event de-duplication and the push replay
// cache.
//
// A Map holds entries with an expiry time, in insertion order, and counts
// the bytes they cost: a fixed overhead per entry (the map slot and the
// queue item, see EntryOverhead) plus what the caller's size function
// says for the key and value (the bytes of strings they hold). It never
// holds more than its byte bound. When a new entry does not fit, it first
// drops expired entries from the front of its queue, then either drops
// the oldest entries (Evict) or refuses the new one (Refuse), as the
// caller chose.
//
// Times are kept as whole seconds (rounded up) after a base time a day
// before the first Put, so an entry costs a few bytes of time instead of a
// time.Time's 24. A Map is not safe for concurrent use; its callers hold
// a lock.
package expiring

import (
	"time"
	"unsafe"
)

// Policy says what Put does when an entry does not fit.
type Policy int

const (
	// Evict drops the oldest entries until the new one fits.
	Evict Policy = iota
	// Refuse keeps every entry and refuses the new one.
	Refuse
)

// Map is a bounded, expiring map from K to V.
type Map[K comparable, V any] struct {
	maxBytes int64
	size     func(K, V) int
	policy   Policy
	base     time.Time

	bytes int64
	seq   uint32
	m     map[K]entry[V]
	queue []item[K] // insertion order; may hold stale items
	head  int
}

type entry[V any] struct {
	v   V
	exp uint32 // seconds after base; the entry is gone at or after exp
	seq uint32 // the queue item that owns the entry
}

type item[K comparable] struct {
	key K
	seq uint32
}

// EntryOverhead returns the fixed bytes a Map counts per entry: twice a
// map slot (a Go map runs between half full and 7/8 full) plus one queue
// item. Queue items left behind by replaced or deleted entries are
// counted too, until they leave the queue.
func EntryOverhead[K comparable, V any]() int {
	return slotBytes[K, V]() + itemBytes[K]()
}

func slotBytes[K comparable, V any]() int {
	var k K
	var e entry[V]
	return int(2 * (unsafe.Sizeof(k) + unsafe.Sizeof(e)))
}

func itemBytes[K comparable]() int {
	var it item[K]
	return int(unsafe.Sizeof(it))
}

// New returns a Map that holds at most maxBytes, counting per entry
// EntryOverhead plus size(key, value) (size may be nil: nothing more).
func New[K comparable, V any](maxBytes int64, size func(K, V) int, policy Policy) *Map[K, V] {
	return &Map[K, V]{maxBytes: maxBytes, size: size, policy: policy, m: make(map[K]entry[V])}
}

// secs converts t to whole seconds after base, rounded up, clamped to
// the uint32 range.
func (m *Map[K, V]) secs(t time.Time) uint32 {
	d := t.Sub(m.base)
	if d <= 0 {
		return 0
	}
	s := (d + time.Second - 1) / time.Second
	if s > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(s)
}

// now converts t to the whole seconds after base that have fully
// passed: an entry that expires at second e is gone once now >= e.
func (m *Map[K, V]) now(t time.Time) uint32 {
	if m.base.IsZero() {
		return 0
	}
	d := t.Sub(m.base)
	if d <= 0 {
		return 0
	}
	s := d / time.Second
	if s > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(s)
}

// Get returns the value of key if it has not expired at now.
func (m *Map[K, V]) Get(key K, now time.Time) (V, bool) {
	e, ok := m.m[key]
	if !ok || m.now(now) >= e.exp {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put sets key to v until expires. A new key becomes the newest entry;
// an existing key keeps its place in the insertion order when its new
// size fits. It reports false, changing nothing, when the entry cannot
// fit: larger than the whole bound, or the map is full of unexpired
// entries and its policy is Refuse.
func (m *Map[K, V]) Put(key K, v V, expires, now time.Time) bool {
	if m.base.IsZero() {
		m.base = now.Add(-24 * time.Hour)
	}
	extra := m.extra(key, v)
	n := int64(slotBytes[K, V]()+itemBytes[K]()) + int64(extra)
	if n > m.maxBytes {
		return false
	}
	if e, ok := m.m[key]; ok {
		delta := int64(extra) - int64(m.extra(key, e.v))
		if m.bytes+delta <= m.maxBytes {
			e.v, e.exp = v, m.secs(expires)
			m.m[key] = e
			m.bytes += delta
			return true
		}
		if m.policy == Refuse {
			return false
		}
		m.Delete(key) // re-inserted below as the newest
	}
	if m.bytes+n > m.maxBytes {
		m.Purge(now)
		if m.bytes+n > m.maxBytes {
			if m.policy == Refuse {
				return false
			}
			for m.bytes+n > m.maxBytes && m.head < len(m.queue) {
				m.pop()
			}
		}
	}
	m.seq++
	m.m[key] = entry[V]{v: v, exp: m.secs(expires), seq: m.seq}
	m.queue = append(m.queue, item[K]{key: key, seq: m.seq})
	m.bytes += n
	return true
}

// extra returns the caller's variable size of an entry.
func (m *Map[K, V]) extra(key K, v V) int {
	if m.size == nil {
		return 0
	}
	return m.size(key, v)
}

// Delete drops key. Its queue item stays (and is counted) until it
// reaches the front of the queue.
func (m *Map[K, V]) Delete(key K) {
	if e, ok := m.m[key]; ok {
		m.bytes -= int64(slotBytes[K, V]()) + int64(m.extra(key, e.v))
		delete(m.m, key)
	}
}

// Len returns the number of entries held, expired ones not yet dropped
// included.
func (m *Map[K, V]) Len() int { return len(m.m) }

// Bytes returns the bytes counted for the entries and queue items held.
func (m *Map[K, V]) Bytes() int64 { return m.bytes }

// QueueLen returns the length of the insertion queue.
func (m *Map[K, V]) QueueLen() int { return len(m.queue) - m.head }

// pop drops the oldest queue item and the entry it owns, if any.
func (m *Map[K, V]) pop() {
	it := m.queue[m.head]
	var zero item[K]
	m.queue[m.head] = zero
	m.head++
	m.bytes -= int64(itemBytes[K]())
	if e, ok := m.m[it.key]; ok && e.seq == it.seq {
		m.bytes -= int64(slotBytes[K, V]()) + int64(m.extra(it.key, e.v))
		delete(m.m, it.key)
	}
	if m.head > 64 && m.head*2 >= len(m.queue) {
		n := copy(m.queue, m.queue[m.head:])
		clear(m.queue[n:])
		m.queue = m.queue[:n]
		m.head = 0
	}
}

// Purge drops expired entries and stale items from the front of the
// queue, stopping at the first unexpired entry.
func (m *Map[K, V]) Purge(now time.Time) {
	t := m.now(now)
	for m.head < len(m.queue) {
		it := m.queue[m.head]
		e, ok := m.m[it.key]
		if ok && e.seq == it.seq && t < e.exp {
			return
		}
		m.pop()
	}
}
