package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/voicecall-go/voicecall"
)

// DedupStore is the Redis [voicecall.DedupStore]: one key per CDR
// ("busy" while claimed, "done" once handled), each batch operation one
// script, so one round trip per batch of up to 50 records. Get it from
// [Store.DedupStore].
type DedupStore struct {
	s          *Store
	ttl, lease time.Duration
}

var _ voicecall.DedupStore = (*DedupStore)(nil)

// DedupStore returns the [voicecall.DedupStore] on s: a handled record
// is remembered for ttl (<= 0 means [voicecall.DefaultDedupTTL], 8
// hours: keep it above the platform's 6 hours of re-pushes), and a claim
// neither committed nor released (its holder crashed) expires after
// lease (<= 0 means [voicecall.DefaultClaimLease], or ttl if shorter).
func (s *Store) DedupStore(ttl, lease time.Duration) *DedupStore {
	if ttl <= 0 {
		ttl = voicecall.DefaultDedupTTL
	}
	if lease <= 0 {
		lease = voicecall.DefaultClaimLease
	}
	return &DedupStore{s: s, ttl: ttl, lease: min(lease, ttl)}
}

var claimScript = redis.NewScript(`
local out = {}
for i, k in ipairs(KEYS) do
  if redis.call('SET', k, 'busy', 'NX', 'PX', ARGV[1]) then
    out[i] = 1
  elseif redis.call('GET', k) == 'done' then
    out[i] = 2
  else
    out[i] = 3
  end
end
return out`)

var commitScript = redis.NewScript(`
for _, k in ipairs(KEYS) do
  redis.call('SET', k, 'done', 'PX', ARGV[1])
end
return #KEYS`)

var releaseScript = redis.NewScript(`
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == 'busy' then redis.call('DEL', k) end
end
return #KEYS`)

func (d *DedupStore) keys(keys []voicecall.DedupKey) []string {
	out := make([]string, len(keys))
	p := d.s.prefix + "dedup:"
	for i, k := range keys {
		out[i] = p + k.String()
	}
	return out
}

// Claim implements [voicecall.DedupStore].
func (d *DedupStore) Claim(ctx context.Context, keys []voicecall.DedupKey) ([]voicecall.ClaimResult, error) {
	if len(keys) == 0 {
		return []voicecall.ClaimResult{}, nil
	}
	v, err := claimScript.Run(ctx, d.s.rdb, d.keys(keys), ms(d.lease)).Int64Slice()
	if err != nil {
		return nil, errf("dedup claim: %w", err)
	}
	if len(v) != len(keys) {
		return nil, errf("dedup claim: %d results for %d keys", len(v), len(keys))
	}
	out := make([]voicecall.ClaimResult, len(v))
	for i, r := range v {
		switch r {
		case 1:
			out[i] = voicecall.ClaimAcquired
		case 2:
			out[i] = voicecall.ClaimDone
		default:
			out[i] = voicecall.ClaimBusy
		}
	}
	return out, nil
}

// Commit implements [voicecall.DedupStore].
func (d *DedupStore) Commit(ctx context.Context, keys []voicecall.DedupKey) error {
	if len(keys) == 0 {
		return nil
	}
	if err := commitScript.Run(ctx, d.s.rdb, d.keys(keys), ms(d.ttl)).Err(); err != nil {
		return errf("dedup commit: %w", err)
	}
	return nil
}

// Release implements [voicecall.DedupStore].
func (d *DedupStore) Release(ctx context.Context, keys []voicecall.DedupKey) error {
	if len(keys) == 0 {
		return nil
	}
	if err := releaseScript.Run(ctx, d.s.rdb, d.keys(keys)).Err(); err != nil {
		return errf("dedup release: %w", err)
	}
	return nil
}
