package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/voicecall-go/voicecall"
)

// DefaultDedupMaxRecords bounds a [DedupStore]: 8,257 hashes of
// [DedupShardRecords] records (1,048,639 records), about 23 MB of Redis
// memory when full (see [DedupRecordBytes]).
const DefaultDedupMaxRecords = 1 << 20

// DedupShardRecords is how many records one hash of a [DedupStore]
// holds at most: with the hash's one bookkeeping field, Redis's default
// hash-max-listpack-entries (128), so that every hash keeps its compact
// listpack encoding.
const DedupShardRecords = 127

// DedupRecordBytes is the documented bound on the Redis memory a
// [DedupStore] uses per record held, hashes and key overhead included,
// once it holds a tenth of its bound or more (100,000 records for the
// default bound; an emptier store shares each hash's fixed cost among
// fewer records). Measured: 34.7 B a record
// at 100,000 records, 21.6 B when full; docs/REDIS.md gives the method.
const DedupRecordBytes = 64

// DedupStore is the Redis [voicecall.DedupStore]. Records live in a
// fixed number of small hashes ("shards", each at most
// [DedupShardRecords] records, so Redis keeps them as listpacks of about
// 20 bytes a record). A record's shard and field (8 bytes) come from a
// hash of its [voicecall.DedupKey] keyed with a random salt kept in
// Redis, so nobody outside can aim records at one shard; the value is
// its expiry in Unix milliseconds ("done") or its expiry and the
// claimant's operation ID ("busy"). A hash expires a TTL after its last
// write; expired records are removed when their shard is full and one
// of them may have expired. Instances sharing a prefix must use the same
// TTL, lease and bound.
//
// The store holds at most maxRecords records (rounded up to a multiple
// of [DedupShardRecords]; see [WithMaxRecords]). When a record's shard
// is full of unexpired records, Claim answers [voicecall.ClaimFull] for
// it, and the [voicecall.Handler] answers 503 so that the platform pushes
// the batch again: nothing is acknowledged that was not handled. With
// random keys the first shard fills when the store holds about three
// quarters of its bound (measured: 98,201 records of 131,191).
//
// Each batch operation is one script, so one round trip per batch of up
// to 50 records, and safe to repeat: a claim records an operation ID, so
// that a claim re-sent by go-redis after a lost reply finds its own
// "busy" marks and answers as the first run did; a commit writes the
// same "done" again; a release deletes only the marks of the claim it
// releases. If Claim fails, it removes its own marks before returning
// the error. Get a DedupStore from [Store.DedupStore].
type DedupStore struct {
	s          *Store
	ttl, lease time.Duration
	shards     int
	saltKey    string
	shardKey   string // the shards' keys are shardKey + their number

	mu   sync.Mutex
	salt []byte                       // nil until loaded from Redis
	held map[voicecall.DedupKey]claim // until Commit or Release
}

// claim is a claim a [DedupStore] acquired: its operation ID and when.
type claim struct {
	op string
	at time.Time
}

// maxHeld is how many claims a [DedupStore] remembers before it drops
// those older than the lease (which Redis has dropped too).
const maxHeld = 4096

var _ voicecall.DedupStore = (*DedupStore)(nil)

// DedupOption configures a [DedupStore].
type DedupOption func(*DedupStore)

// WithMaxRecords bounds the records a [DedupStore] holds (n <= 0 means
// [DefaultDedupMaxRecords]); it is rounded up to a multiple of
// [DedupShardRecords]. Every instance sharing the store's prefix must use
// the same bound: the bound is part of the keys, so instances with
// different bounds do not see each other's records.
func WithMaxRecords(n int) DedupOption {
	return func(d *DedupStore) {
		if n <= 0 {
			n = DefaultDedupMaxRecords
		}
		d.shards = (n + DedupShardRecords - 1) / DedupShardRecords
	}
}

// DedupStore returns the [voicecall.DedupStore] on s: a handled record
// is remembered for ttl (<= 0 means [voicecall.DefaultDedupTTL], 8
// hours: keep it above the platform's 6 hours of re-pushes), and a claim
// neither committed nor released (its holder crashed) expires after
// lease (<= 0 means [voicecall.DefaultClaimLease], or ttl if shorter).
// It holds at most [DefaultDedupMaxRecords] records unless
// [WithMaxRecords] says otherwise.
//
// Its keys share one Redis Cluster hash slot ("{" + prefix + "dedup}"),
// so that each batch is one script.
func (s *Store) DedupStore(ttl, lease time.Duration, opts ...DedupOption) *DedupStore {
	if ttl <= 0 {
		ttl = voicecall.DefaultDedupTTL
	}
	if lease <= 0 {
		lease = voicecall.DefaultClaimLease
	}
	d := &DedupStore{s: s, ttl: ttl, lease: min(lease, ttl), held: make(map[voicecall.DedupKey]claim)}
	WithMaxRecords(0)(d)
	for _, o := range opts {
		o(d)
	}
	tag := "{" + s.prefix + "dedup}:"
	d.saltKey = tag + "salt"
	d.shardKey = tag + strconv.Itoa(d.shards) + ":"
	return d
}

// MaxRecords returns the bound on the records the store holds.
func (d *DedupStore) MaxRecords() int { return d.shards * DedupShardRecords }

// The scripts share their start: KEYS[1] is the salt's key, then each
// record's shard; ARGV[1] is the salt the keys were computed with (a
// script refuses to run with another one, and changes nothing), ARGV[2]
// and ARGV[3] the ttl and the lease in milliseconds; now is Redis's clock
// in milliseconds. A value is "<expiry ms>" (done) or "<expiry
// ms>:<operation ID>" (busy); an expired value counts as absent.
//
// A shard expires ttl after its last write, so after each of its
// records. Its field "", when present, is a lower bound of its records'
// expiries, so that a full shard is scanned for expired records only
// when one may have expired: a scan sets it to the earliest expiry it
// leaves, or now + lease if that is earlier, and a record written later
// expires no earlier than that (a claim's lease is its shortest life), so
// writes need not update it.
var dedupPrelude = `
redis.replicate_commands() -- Redis 5 and 6: write after TIME (Redis 7 always does)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('VCSALT dedup salt changed') end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
local cap = ` + strconv.Itoa(DedupShardRecords) + `
local function expiry(v)
  local c = string.find(v, ':', 1, true)
  return tonumber(c and string.sub(v, 1, c - 1) or v) or 0, c
end
local function parse(v)
  if not v then return nil end
  local exp, c = expiry(v)
  if exp <= now then return nil end
  if c then return 'busy', string.sub(v, c + 1) end
  return 'done'
end
local function put(k, f, v)
  redis.call('HSET', k, f, v)
  redis.call('PEXPIRE', k, ttl)
end
-- room reports whether shard k can take one more record, removing the
-- expired ones when it is full and one may have expired.
local function room(k)
  local n = redis.call('HLEN', k)
  if n < cap or n - redis.call('HEXISTS', k, '') < cap then return true end
  local low = tonumber(redis.call('HGET', k, '') or '')
  if low and low > now then return false end
  local all, min = redis.call('HGETALL', k), now + lease
  for i = 1, #all, 2 do
    if all[i] ~= '' then
      local exp = expiry(all[i + 1])
      if exp <= now then
        redis.call('HDEL', k, all[i])
      elseif exp < min then
        min = exp
      end
    end
  end
  redis.call('HSET', k, '', min)
  return redis.call('HLEN', k) - 1 < cap
end
`

// claimScript: ARGV[4] = the operation ID, then each record's field.
// Results: 1 acquired, 2 done, 3 busy, 4 full. A field held busy by this
// operation ID (the same claim, re-sent) is acquired again; a field
// repeated in the batch is busy the second time.
var claimScript = redis.NewScript(dedupPrelude + `
local op = ARGV[4]
local mark = tostring(now + lease) .. ':' .. op
local out, seen = {}, {}
for i = 2, #KEYS do
  local k, f = KEYS[i], ARGV[i + 3]
  local id = k .. '\n' .. f
  local v = redis.call('HGET', k, f)
  local st, owner = parse(v)
  if seen[id] then
    out[i - 1] = 3
  elseif st == 'done' then
    out[i - 1] = 2
  elseif st == 'busy' and owner ~= op then
    out[i - 1] = 3
  elseif st == 'busy' or v or room(k) then
    if st ~= 'busy' then put(k, f, mark) end
    out[i - 1] = 1
  else
    out[i - 1] = 4
  end
  seen[id] = true
end
return out`)

// commitScript: ARGV[4...] = each record's field. It returns how many
// records found no room (their shard full of others).
var commitScript = redis.NewScript(dedupPrelude + `
local done = tostring(now + ttl)
local lost = 0
for i = 2, #KEYS do
  local k, f = KEYS[i], ARGV[i + 2]
  if redis.call('HEXISTS', k, f) == 1 or room(k) then
    put(k, f, done)
  else
    lost = lost + 1
  end
end
return lost`)

// releaseScript: ARGV[4...] = each record's field and the operation ID
// of its claim. Only a busy mark of that operation is deleted.
var releaseScript = redis.NewScript(dedupPrelude + `
for i = 2, #KEYS do
  local k, f, op = KEYS[i], ARGV[2 * i], ARGV[2 * i + 1]
  local st, owner = parse(redis.call('HGET', k, f))
  if st == 'busy' and owner == op then redis.call('HDEL', k, f) end
end
return 0`)

// saltScript: KEYS = salt; ARGV = a new random salt, stored unless one
// is there. It returns the stored salt, so that a re-sent run returns
// the same.
var saltScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])`)

// loadSalt returns the salt, reading it from Redis (or storing a new
// one) the first time.
func (d *DedupStore) loadSalt(ctx context.Context) ([]byte, error) {
	d.mu.Lock()
	salt := d.salt
	d.mu.Unlock()
	if salt != nil {
		return salt, nil
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	v, err := saltScript.Run(ctx, d.s.rdb, []string{d.saltKey}, hex.EncodeToString(b[:])).Text()
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.salt = []byte(v)
	d.mu.Unlock()
	return []byte(v), nil
}

// forgetSalt drops the cached salt after a script refused it (Redis lost
// it, or another instance replaced a lost one).
func (d *DedupStore) forgetSalt() {
	d.mu.Lock()
	d.salt = nil
	d.mu.Unlock()
}

// run runs script on keys' shards with ARGV = salt, ttl, lease,
// head..., then per-key values: the key's field, then each(i) (if each
// is not nil). A refused salt
// is reloaded and the script run once more.
func (d *DedupStore) run(ctx context.Context, script *redis.Script, keys []voicecall.DedupKey, head []any, each func(i int) []any) *redis.Cmd {
	var cmd *redis.Cmd
	for try := 0; try < 2; try++ {
		salt, err := d.loadSalt(ctx)
		if err != nil {
			cmd = redis.NewCmd(ctx)
			cmd.SetErr(err)
			return cmd
		}
		rkeys := make([]string, 1, 1+len(keys))
		rkeys[0] = d.saltKey
		args := make([]any, 0, 3+len(head)+2*len(keys))
		args = append(append(args, string(salt), ms(d.ttl), ms(d.lease)), head...)
		for i, k := range keys {
			shard, field := d.place(salt, k)
			rkeys = append(rkeys, d.shardKey+strconv.Itoa(shard))
			args = append(args, field)
			if each != nil {
				args = append(args, each(i)...)
			}
		}
		cmd = script.Run(ctx, d.s.rdb, rkeys, args...)
		if err := cmd.Err(); err == nil || !strings.HasPrefix(err.Error(), "VCSALT") {
			return cmd
		}
		d.forgetSalt()
	}
	return cmd
}

// place returns k's shard and field: the first and second 8 bytes of
// the SHA-256 of the salt and k.
func (d *DedupStore) place(salt []byte, k voicecall.DedupKey) (shard int, field string) {
	h := sha256.New()
	h.Write(salt)
	h.Write(k[:])
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return int(binary.BigEndian.Uint64(sum[:8]) % uint64(d.shards)), string(sum[8:16])
}

// Claim implements [voicecall.DedupStore]. A record whose shard is full
// is answered [voicecall.ClaimFull].
func (d *DedupStore) Claim(ctx context.Context, keys []voicecall.DedupKey) ([]voicecall.ClaimResult, error) {
	if len(keys) == 0 {
		return []voicecall.ClaimResult{}, nil
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, errf("dedup claim: %w", err)
	}
	op := hex.EncodeToString(b[:])
	v, err := d.run(ctx, claimScript, keys, []any{op}, nil).Int64Slice()
	if err == nil && len(v) != len(keys) {
		err = errors.New("unexpected reply of " + strconv.Itoa(len(v)) + " results for " + strconv.Itoa(len(keys)) + " keys")
	}
	if err != nil {
		// The script may have run (a reply lost after go-redis's
		// retries): remove this claim's marks, so that the state is as if
		// it had not.
		_ = d.release(context.WithoutCancel(ctx), keys, func(int) string { return op })
		return nil, errf("dedup claim: %w", err)
	}
	out := make([]voicecall.ClaimResult, len(v))
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.held) >= maxHeld {
		for k, c := range d.held {
			if now.Sub(c.at) > d.lease {
				delete(d.held, k)
			}
		}
	}
	for i, r := range v {
		switch r {
		case 1:
			out[i] = voicecall.ClaimAcquired
			d.held[keys[i]] = claim{op: op, at: now}
		case 2:
			out[i] = voicecall.ClaimDone
		case 4:
			out[i] = voicecall.ClaimFull
		default:
			out[i] = voicecall.ClaimBusy
		}
	}
	return out, nil
}

// Commit implements [voicecall.DedupStore]. When a record's shard is
// full of other records it is not remembered, and Commit returns an
// error saying how many (the records were handled: a re-push would be
// handled again).
func (d *DedupStore) Commit(ctx context.Context, keys []voicecall.DedupKey) error {
	if len(keys) == 0 {
		return nil
	}
	lost, err := d.run(ctx, commitScript, keys, nil, nil).Int64()
	if err != nil {
		return errf("dedup commit: %w", err)
	}
	d.forget(keys)
	if lost > 0 {
		return errf("dedup commit: store full: %d of %d handled records not remembered", lost, len(keys))
	}
	return nil
}

// Release implements [voicecall.DedupStore]. It drops the claims that
// this DedupStore's Claim acquired; a key it did not claim is left as it
// is.
func (d *DedupStore) Release(ctx context.Context, keys []voicecall.DedupKey) error {
	d.mu.Lock()
	mine := make([]voicecall.DedupKey, 0, len(keys))
	ops := make([]string, 0, len(keys))
	for _, k := range keys {
		if c, ok := d.held[k]; ok {
			mine = append(mine, k)
			ops = append(ops, c.op)
		}
	}
	d.mu.Unlock()
	if len(mine) == 0 {
		return nil
	}
	if err := d.release(ctx, mine, func(i int) string { return ops[i] }); err != nil {
		return errf("dedup release: %w", err)
	}
	d.forget(mine)
	return nil
}

func (d *DedupStore) release(ctx context.Context, keys []voicecall.DedupKey, op func(i int) string) error {
	return d.run(ctx, releaseScript, keys, nil, func(i int) []any { return []any{op(i)} }).Err()
}

// forget drops keys from the claims held.
func (d *DedupStore) forget(keys []voicecall.DedupKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		delete(d.held, k)
	}
}
