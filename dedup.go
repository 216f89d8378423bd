package voicecall

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/voicecall-go/voicecall/internal/expiring"
)

// DedupKey identifies one CDR for de-duplication: a 128-bit hash of the
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

// ClaimResult is what [DedupStore.Claim] found for one key.
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
// [MemoryDedup] serves one process. When several receiver instances
// share the feeUrl (behind a load balancer, or after a restart), give
// them one shared store (the redisstore module has one), or a re-push
// that reaches another instance handles records again. Over Redis, for
// example, per key in one pipeline or script:
//
//	Claim:   SET <key> busy NX PX <lease>  -> OK: ClaimAcquired
//	         else GET <key>                -> "done": ClaimDone, else ClaimBusy
//	Commit:  SET <key> done PX <ttl>       (ttl >= 8h)
//	Release: DEL <key> if its value is still "busy" (a small Lua script)
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

// DedupRecordBytes is what [MemoryDedup] counts per record held: a
// 16-byte key, 9 bytes of state and expiry, a queue item, and room for
// the map to be half empty. Measured, a full store uses less (see
// docs/PERFORMANCE.md).
const DedupRecordBytes = 76

// MemoryDedup is the in-process [DedupStore]. It remembers handled CDR
// keys for a TTL (default 8 hours) and holds at most maxEntries keys
// (default [DefaultDedupMaxEntries]): its memory is bounded by
// maxEntries × [DedupRecordBytes] (76 bytes, about 7.6 MB for the
// default; keys are fixed-size hashes, so no record can make it larger).
// At the bound it forgets the oldest keys first, even before their TTL:
// a re-push of a forgotten record would be handled again (a duplicate,
// never a loss), so size the bound above the number of CDRs received in
// 7 hours. A claim that is neither committed nor released expires after
// [DefaultClaimLease] (or the TTL, if shorter). It is safe for
// concurrent use; its memory is lost on exit (see [DedupStore] for a
// shared store).
type MemoryDedup struct {
	ttl   time.Duration
	lease time.Duration
	now   func() time.Time

	mu  sync.Mutex
	set *expiring.Map[DedupKey, dedupState]
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
	return &MemoryDedup{
		ttl: ttl, lease: min(DefaultClaimLease, ttl), now: time.Now,
		set: expiring.New[DedupKey, dedupState](int64(maxEntries)*int64(DedupRecordBytes), nil, expiring.Evict),
	}
}

// Claim implements [DedupStore].
func (d *MemoryDedup) Claim(_ context.Context, keys []DedupKey) ([]ClaimResult, error) {
	out := make([]ClaimResult, len(keys))
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.set.Purge(now)
	for i, k := range keys {
		switch st, ok := d.set.Get(k, now); {
		case ok && st == dedupDone:
			out[i] = ClaimDone
		case ok:
			out[i] = ClaimBusy
		default:
			d.set.Put(k, dedupBusy, now.Add(d.lease), now)
			out[i] = ClaimAcquired
		}
	}
	return out, nil
}

// Commit implements [DedupStore].
func (d *MemoryDedup) Commit(_ context.Context, keys []DedupKey) error {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		d.set.Put(k, dedupDone, now.Add(d.ttl), now)
	}
	return nil
}

// Release implements [DedupStore].
func (d *MemoryDedup) Release(_ context.Context, keys []DedupKey) error {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		if st, ok := d.set.Get(k, now); ok && st == dedupBusy {
			d.set.Delete(k)
		}
	}
	return nil
}

// Len returns the number of keys held, expired ones not yet dropped
// included.
func (d *MemoryDedup) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.set.Len()
}
