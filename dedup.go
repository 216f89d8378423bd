package voicecall

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DedupKey (for store implementers) identifies one CDR for de-duplication: a 128-bit hash of the
// record, see [FeeRecord.DedupKey]. It holds no pointers, so a store of
// keys costs the garbage collector nothing to scan.
type DedupKey [16]byte

// String returns the key as 32 lowercase hex digits (a shared store's
// key suffix, for example).
func (k DedupKey) String() string { return hex.EncodeToString(k[:]) }

// DedupKey returns the key under which the [Handler] remembers that the
// record was handled: the first 16 bytes of the SHA-256 of the record's
// sessionId, its icid and then every field of the record (the modelled
// ones in a fixed order, times as sent, integers as their value, then
// [FeeRecord.Extra] in name order), each prefixed with its length.
//
// The content is part of the key on purpose. The platform re-pushes a
// batch unchanged, so its records keep their keys and are skipped. But
// a record forged with a genuine record's sessionId and icid and
// pushed first (pushes are unsigned unless [PushVerification] is on)
// gets a key of its own: it cannot make the Handler skip the genuine
// record, which reaches OnFee too. The price: the application may see
// two records for one (sessionId, icid), and must then decide which is
// genuine (verify pushes and serve them on an unguessable path to make
// forgeries rare; a unique index on (sessionId, icid) in the
// application's storage surfaces the conflict instead of hiding it).
func (r *FeeRecord) DedupKey() DedupKey {
	var buf [1024]byte
	d := digest{buf: buf[:0]}
	d.str("voicecall cdr v1")
	d.str(r.SessionID)
	d.str(r.ICID)
	d.num(int64(r.Direction))
	d.str(r.SPID)
	d.str(r.AppKey)
	d.str(r.BindNum)
	d.str(r.CallerNum)
	d.str(r.CalleeNum)
	d.num(int64(r.FwdUnaswRsn))
	d.num(int64(r.ULFailReason))
	d.num(int64(r.SIPStatusCode))
	d.num(int64(r.CallOutUnaswRsn))
	d.str(r.DynIVRPath)
	d.num(int64(r.RecordFlag))
	d.num(int64(r.TTSPlayTimes))
	d.num(int64(r.TTSTransDuration))
	d.str(string(r.ServiceType))
	d.str(r.HostName)
	d.str(r.UserData)
	d.str(r.OrigCalleeNum)
	d.str(r.FwdDisplayNum)
	d.str(r.FwdDstNum)
	d.str(r.RecordObjectName)
	d.str(r.RecordBucketName)
	d.str(r.RecordDomain)
	d.str(r.RecordFileDownloadURL)
	d.str(r.RecordPushURL)
	d.str(r.MptyID)
	d.str(r.EndToEndID)
	t := &r.RawTimes
	for _, s := range [...]string{
		formatPlatformTime(t.CallEndTime, r.CallEndTime), formatPlatformTime(t.FailTime, r.FailTime),
		formatPlatformTime(t.CallOutStartTime, r.CallOutStartTime), formatPlatformTime(t.CallOutAlertingTime, r.CallOutAlertingTime),
		formatPlatformTime(t.CallOutAnswerTime, r.CallOutAnswerTime), formatPlatformTime(t.DynIVRStartTime, r.DynIVRStartTime),
		formatPlatformTime(t.CallInTime, r.CallInTime), formatPlatformTime(t.FwdStartTime, r.FwdStartTime),
		formatPlatformTime(t.FwdAlertingTime, r.FwdAlertingTime), formatPlatformTime(t.FwdAnswerTime, r.FwdAnswerTime),
		formatPlatformTime(t.RecordStartTime, r.RecordStartTime), formatPlatformTime(t.CreateMptyTime, r.CreateMptyTime),
		formatPlatformTime(t.JoinMptyTime, r.JoinMptyTime),
	} {
		d.str(s)
	}
	if len(r.Extra) > 0 {
		names := make([]string, 0, len(r.Extra))
		for k := range r.Extra {
			names = append(names, k)
		}
		slices.Sort(names)
		d.num(int64(len(names)))
		for _, k := range names {
			d.str(k)
			d.str(string(r.Extra[k]))
		}
	}
	return d.key()
}

// digest collects length-prefixed values and hashes them into a key.
type digest struct {
	buf []byte
}

func (d *digest) num(v int64) { d.buf = binary.AppendVarint(d.buf, v) }

func (d *digest) str(s string) {
	d.num(int64(len(s)))
	d.buf = append(d.buf, s...)
}

// key returns the first 16 bytes of the SHA-256 of what was collected.
func (d *digest) key() DedupKey {
	sum := sha256.Sum256(d.buf)
	return DedupKey(sum[:16])
}

// ClaimResult (for store implementers) is what [DedupStore.Claim] found for one key.
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
	// ClaimFull: the store holds as many records as its bound allows and
	// could not claim this one. Nothing is held for it; the Handler
	// answers 503 so that the platform pushes the batch again later,
	// when the store has room.
	ClaimFull
)

// String returns "acquired", "done", "busy" or "full".
func (c ClaimResult) String() string {
	switch c {
	case ClaimAcquired:
		return "acquired"
	case ClaimDone:
		return "done"
	case ClaimBusy:
		return "busy"
	case ClaimFull:
		return "full"
	}
	return "ClaimResult(" + strconv.Itoa(int(c)) + ")"
}

// DedupStore (for store implementers; applications pass a [MemoryDedup]
// or the redisstore module's store) remembers which CDRs were handled,
// so that a re-pushed batch calls OnFee only for the records that were
// not. Keys come from
// [FeeRecord.DedupKey]. Every operation takes a whole batch's keys, so
// that a shared store needs one round trip per batch; results[i] is for
// keys[i]. Implementations must be safe for concurrent use, and each
// key's claim must be atomic: of two concurrent Claims of one key, at
// most one gets ClaimAcquired.
//
// The [Handler] calls Claim once per batch with its distinct keys,
// calls OnFee for the acquired ones, then Commit once with the handled
// keys and Release once with the failed ones.
//
// A store with a bound may answer ClaimFull for a key it has no room
// for (the redisstore module's does); the Handler then answers 503, so
// that nothing is acknowledged that was not handled.
//
// [MemoryDedup] serves one process. When several receiver instances
// share the feeUrl (behind a load balancer, or after a restart), give
// them one shared store (the redisstore module has one), or a re-push
// that reaches another instance handles records again. A shared store's
// operations must be safe to repeat, because a client library re-sends
// a command whose reply was lost: a claim that marks a key "busy" must
// record an operation ID in the mark, so that its re-sent run finds its
// own mark and answers ClaimAcquired again instead of ClaimBusy (the
// redisstore module's store does; its docs/REDIS.md explains how).
//
// The lease must be shorter than the platform's hour between re-pushes,
// so that a claim left by a crashed instance has expired when the batch
// comes again. If the application stores CDRs in its own database, a
// unique index in the same transaction as the insert is the strongest
// de-duplication of all.
type DedupStore interface {
	// Claim marks each key as being handled, unless it is done or
	// claimed, and returns what it found for each.
	Claim(ctx context.Context, keys []DedupKey) ([]ClaimResult, error)
	// Commit marks keys as handled, for the store's TTL (at least 8
	// hours).
	Commit(ctx context.Context, keys []DedupKey) error
	// Release drops the claims of keys whose records were not handled; a
	// key that is done stays done.
	Release(ctx context.Context, keys []DedupKey) error
}

// dedupState is what MemoryDedup keeps per key.
type dedupState uint8

const (
	dedupBusy dedupState = iota + 1
	dedupDone
)

// dedupWays is how many keys share a set of [MemoryDedup]'s table.
const dedupWays = 16

// dedupFirstSets is the size of [MemoryDedup]'s table, in sets, when the
// first key arrives.
const dedupFirstSets = 64

// dedupSlot is one record's place in [MemoryDedup]'s table.
type dedupSlot struct {
	key DedupKey
	exp uint32 // whole seconds after the table's base, rounded up; 0: the slot is empty
	seq uint32 // insertion number, for the age of the key
	st  dedupState
}

// MemoryDedup is the in-process [DedupStore]. It remembers handled CDR
// keys for a TTL (default 8 hours) in a table of [DedupRecordBytes] (28
// bytes) per record that grows with the keys it holds, doubling from
// 1,024 records, up to maxBytes (default [DefaultDedupMaxBytes], 5.6 MB:
// 200,000 records), whatever the records; keys are fixed-size hashes.
// Below, maxEntries is maxBytes / DedupRecordBytes.
//
// The table is divided into sets of 16 records (maxEntries is rounded
// down to a multiple of 16; a smaller store is one set), and a key's set is
// chosen by a hash with a random seed, so nobody outside the process
// can aim keys at one set. A new key takes an empty place in its set, or
// the place of an expired key; when its set has neither, the table grows,
// and only at the bound does the new key take the place of the oldest key
// of its set, even before its TTL. So at the bound the store forgets old
// keys first, though not in strict order: as the arithmetic of random sets
// predicts and the package's tests measure, a key is still
// remembered after maxEntries/4 newer keys with probability 99.999 %,
// after maxEntries/2 with 99 %, and after maxEntries about half the
// time. A re-push of a forgotten record is handled again (a duplicate,
// never a loss), so size the bound at twice the number of CDRs received
// in the 7 hours of the platform's re-pushes (the default suits 100,000).
// A claim that is neither committed nor released expires after
// [DefaultClaimLease] (or the TTL, if shorter). It is safe for concurrent
// use; its memory is lost on exit (see [DedupStore] for a shared store).
type MemoryDedup struct {
	ttl   time.Duration
	lease time.Duration
	now   func() time.Time
	seed  maphash.Seed
	size  int // records in the table at its bound
	ways  int // records per set

	mu      sync.Mutex
	base    time.Time   // set with the table; times are seconds after it
	slots   []dedupSlot // nil until the first key, then 1,024 records or more
	seq     uint32
	held    int    // slots that are not empty
	touched uint32 // what Claim's early reads add up to, kept so that they are made
}

// NewMemoryDedup returns a MemoryDedup that holds at most maxBytes of
// records (at least one record); ttl <= 0 means [DefaultDedupTTL] and
// maxBytes <= 0 means [DefaultDedupMaxBytes].
func NewMemoryDedup(ttl time.Duration, maxBytes int64) *MemoryDedup {
	if ttl <= 0 {
		ttl = DefaultDedupTTL
	}
	if maxBytes <= 0 {
		maxBytes = DefaultDedupMaxBytes
	}
	maxEntries := int(max(maxBytes/DedupRecordBytes, 1))
	ways := min(dedupWays, maxEntries)
	return &MemoryDedup{
		ttl: ttl, lease: min(DefaultClaimLease, ttl), now: time.Now, seed: maphash.MakeSeed(),
		size: maxEntries / ways * ways, ways: ways,
	}
}

// Claim implements [DedupStore].
func (d *MemoryDedup) Claim(_ context.Context, keys []DedupKey) ([]ClaimResult, error) {
	out := make([]ClaimResult, len(keys))
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	t, exp := d.times(now, d.lease)
	// Read every key's set once before the work: the reads do not depend
	// on each other, so the processor fetches the sets from memory
	// together instead of one cache miss after another in the loop below.
	// On a full default store this makes a new batch about 2 % faster
	// (BenchmarkWebhookPaired, docs/PERFORMANCE.md).
	for _, k := range keys {
		set := d.set(k)
		for i := 0; i < len(set); i += 2 { // a slot in each cache line
			d.touched += set[i].exp
		}
	}
	for i, k := range keys {
		set := d.set(k)
		switch s := find(set, k, t); {
		case s == nil:
			d.put(set, k, dedupBusy, exp, t)
			out[i] = ClaimAcquired
		case s.st == dedupDone:
			out[i] = ClaimDone
		default:
			out[i] = ClaimBusy
		}
	}
	return out, nil
}

// Commit implements [DedupStore].
func (d *MemoryDedup) Commit(_ context.Context, keys []DedupKey) error {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	t, exp := d.times(now, d.ttl)
	for _, k := range keys {
		set := d.set(k)
		if s := find(set, k, t); s != nil {
			s.st, s.exp = dedupDone, exp
		} else {
			// The claim expired or was displaced: remember the key anyway.
			d.put(set, k, dedupDone, exp, t)
		}
	}
	return nil
}

// Release implements [DedupStore].
func (d *MemoryDedup) Release(_ context.Context, keys []DedupKey) error {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.slots == nil {
		return nil
	}
	t, _ := d.times(now, 0)
	for _, k := range keys {
		if s := find(d.set(k), k, t); s != nil && s.st == dedupBusy {
			*s = dedupSlot{}
			d.held--
		}
	}
	return nil
}

// Len returns the number of keys held, expired ones not yet displaced
// included.
func (d *MemoryDedup) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.held
}

// times returns now and now+ttl as the table's seconds: now counts the
// seconds fully passed (a key whose exp is at or before it has
// expired), the expiry is rounded up and never 0. It allocates the table
// on first use, small: it grows as keys arrive (see put).
func (d *MemoryDedup) times(now time.Time, ttl time.Duration) (t, exp uint32) {
	if d.slots == nil {
		d.slots = make([]dedupSlot, min(d.size, dedupFirstSets*d.ways))
		d.base = now.Add(-24 * time.Hour) // a clock set back a little changes nothing
	}
	secs := func(x time.Duration) uint32 { return uint32(min(max(x, 0), (1<<32-1)*time.Second) / time.Second) }
	since := now.Sub(d.base)
	return secs(since), max(secs(since+ttl+time.Second-1), 1)
}

// set returns the records of k's set in the table as it is now.
func (d *MemoryDedup) set(k DedupKey) []dedupSlot {
	sets := uint64(len(d.slots) / d.ways)
	i, _ := bits.Mul64(maphash.Bytes(d.seed, k[:]), sets)
	return d.slots[int(i)*d.ways : int(i+1)*d.ways]
}

// find returns k's unexpired record in set, or nil.
func find(set []dedupSlot, k DedupKey, now uint32) *dedupSlot {
	for i := range set {
		if s := &set[i]; s.key == k && s.exp > now {
			return s
		}
	}
	return nil
}

// put stores k, which its set (set) holds unexpired nowhere. While the
// table is below its bound, a key that would displace an unexpired one
// makes it grow instead, so that nothing is forgotten before the bound.
func (d *MemoryDedup) put(set []dedupSlot, k DedupKey, st dedupState, exp, now uint32) {
	i, live := d.place(set, k, now)
	for live && len(d.slots) < d.size {
		d.grow(now)
		set = d.set(k)
		i, live = d.place(set, k, now)
	}
	if set[i].exp == 0 {
		d.held++
	}
	d.seq++
	set[i] = dedupSlot{key: k, exp: exp, seq: d.seq, st: st}
}

// place returns the best place for k in set: k's own expired record,
// else an empty one, else an expired one, else the oldest; live reports
// that the place holds another unexpired key.
func (d *MemoryDedup) place(set []dedupSlot, k DedupKey, now uint32) (best int, live bool) {
	rank := uint64(0)
	for i := range set {
		s := &set[i]
		var r uint64
		switch {
		case s.exp == 0:
			r = 1 << 33
		case s.key == k:
			r = 1 << 34 // never hold a key twice
		case s.exp <= now:
			r = 1 << 32
		default:
			r = uint64(d.seq - s.seq) // the age, also across the wrap of seq
		}
		if r > rank {
			best, rank = i, r
		}
	}
	return best, rank < 1<<32
}

// grow doubles the table (up to its bound) and moves the unexpired keys
// into it.
func (d *MemoryDedup) grow(now uint32) {
	old := d.slots
	d.slots = make([]dedupSlot, min(2*len(old), d.size))
	d.held = 0
	for _, s := range old {
		if s.exp <= now {
			continue // empty or expired
		}
		set := d.set(s.key)
		i, _ := d.place(set, s.key, now)
		if set[i].exp == 0 {
			d.held++
		}
		set[i] = s
	}
}
