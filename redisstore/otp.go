package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/voicecall-go/voicecall/otp"
)

// CodeStore is the Redis [otp.CodeStore]: one hash per number (the MAC
// and the count of checks) with the code's TTL. Get it from
// [Store.CodeStore].
type CodeStore struct{ s *Store }

// CodeStore returns the [otp.CodeStore] on s.
func (s *Store) CodeStore() *CodeStore { return &CodeStore{s: s} }

var _ otp.CodeStore = (*CodeStore)(nil)

var putCode = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'mac', ARGV[1], 'checks', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

// checkCode counts a check and compares the MACs byte by byte over the
// whole given MAC (no early exit), then removes a matched code.
var checkCode = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'mac', 'checks')
if not v[1] then return 1 end
if tonumber(v[2]) >= tonumber(ARGV[2]) then return 4 end
redis.call('HINCRBY', KEYS[1], 'checks', 1)
local a, b = v[1], ARGV[1]
local diff = 0
if #a ~= #b then diff = 1 end
for i = 1, #b do
  diff = bit.bor(diff, bit.bxor(string.byte(a, i) or 0, string.byte(b, i)))
end
if diff == 0 then
  redis.call('DEL', KEYS[1])
  return 2
end
return 3`)

func (c *CodeStore) key(number string) string { return c.s.prefix + "otp:code:" + number }

// Put implements [otp.CodeStore].
func (c *CodeStore) Put(ctx context.Context, number string, mac []byte, ttl time.Duration) error {
	if err := putCode.Run(ctx, c.s.rdb, []string{c.key(number)}, mac, ms(ttl)).Err(); err != nil {
		return errf("put code: %w", err)
	}
	return nil
}

// Check implements [otp.CodeStore].
func (c *CodeStore) Check(ctx context.Context, number string, mac []byte, maxChecks int) (otp.CheckResult, error) {
	n, err := checkCode.Run(ctx, c.s.rdb, []string{c.key(number)}, mac, maxChecks).Int()
	if err != nil {
		return 0, errf("check code: %w", err)
	}
	return otp.CheckResult(n), nil
}

// GuardStore is the Redis [otp.GuardStore]: a key per hold, cooldown,
// token and counter, each with its own TTL. Get it from
// [Store.GuardStore].
type GuardStore struct{ s *Store }

// GuardStore returns the [otp.GuardStore] on s.
func (s *Store) GuardStore() *GuardStore { return &GuardStore{s: s} }

var _ otp.GuardStore = (*GuardStore)(nil)

// reserve: KEYS = hold, cooldown, token, counters...; ARGV = token,
// number, cooldown ms, hold ms, token ms, then limit and window ms per
// counter. Returns {0, 0} when reserved, else {which, pttl}: 1 the hold,
// 2 the cooldown, 2+i the i-th counter.
var reserve = redis.NewScript(`
local t = redis.call('PTTL', KEYS[1])
if t > 0 then
  local c = redis.call('PTTL', KEYS[2])
  if c > 0 and c < t then t = c end
  return {1, t}
end
t = redis.call('PTTL', KEYS[2])
if t > 0 then return {2, t} end
local n = #KEYS - 3
for i = 1, n do
  local c = tonumber(redis.call('GET', KEYS[3 + i]) or '0')
  if c >= tonumber(ARGV[4 + 2 * i]) then
    local ttl = redis.call('PTTL', KEYS[3 + i])
    if ttl < 1 then ttl = 1 end
    return {2 + i, ttl}
  end
end
for i = 1, n do
  if redis.call('INCR', KEYS[3 + i]) == 1 then
    redis.call('PEXPIRE', KEYS[3 + i], ARGV[5 + 2 * i])
  end
end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
else
  redis.call('DEL', KEYS[2])
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[5])
return {0, 0}`)

// settle: KEYS = token; ARGV = prefix, token, "1" to lift the cooldown.
var settle = redis.NewScript(`
local num = redis.call('GET', KEYS[1])
if not num then return 0 end
local hold = ARGV[1] .. 'otp:hold:' .. num
if redis.call('GET', hold) == ARGV[2] then redis.call('DEL', hold) end
if ARGV[3] == '1' then
  local cool = ARGV[1] .. 'otp:cool:' .. num
  if redis.call('GET', cool) == ARGV[2] then redis.call('DEL', cool) end
end
return 1`)

// Reserve implements [otp.GuardStore].
func (g *GuardStore) Reserve(ctx context.Context, r otp.Reservation) (otp.Refusal, error) {
	p := g.s.prefix + "otp:"
	keys := make([]string, 0, 3+len(r.Counters))
	keys = append(keys, p+"hold:"+r.Number, p+"cool:"+r.Number, p+"tok:"+r.Token)
	args := make([]any, 0, 5+2*len(r.Counters))
	var coolMs int64
	if r.Cooldown > 0 {
		coolMs = ms(r.Cooldown)
	}
	args = append(args, r.Token, r.Number, coolMs, ms(r.Hold), ms(max(r.Hold, r.Cooldown)))
	for _, c := range r.Counters {
		keys = append(keys, p+"cnt:"+c.Key)
		args = append(args, c.Limit, ms(c.Window))
	}
	v, err := reserve.Run(ctx, g.s.rdb, keys, args...).Int64Slice()
	if err != nil {
		return otp.Refusal{}, errf("reserve: %w", err)
	}
	if len(v) != 2 {
		return otp.Refusal{}, errf("reserve: unexpected reply of %d values", len(v))
	}
	wait := time.Duration(v[1]) * time.Millisecond
	switch w := int(v[0]); {
	case w == 0:
		return otp.Refusal{}, nil
	case w == 1:
		return otp.Refusal{Reason: otp.ReasonPending, RetryAfter: wait}, nil
	case w == 2:
		return otp.Refusal{Reason: otp.ReasonCooldown, RetryAfter: wait}, nil
	case w-3 < len(r.Counters):
		return otp.Refusal{Reason: r.Counters[w-3].Reason, RetryAfter: wait}, nil
	default:
		return otp.Refusal{}, errf("reserve: unexpected reply %d", w)
	}
}

// Settle implements [otp.GuardStore].
func (g *GuardStore) Settle(ctx context.Context, token string, st otp.Settlement) error {
	failed := "0"
	if st == otp.SettleFailed {
		failed = "1"
	}
	if err := settle.Run(ctx, g.s.rdb, []string{g.s.prefix + "otp:tok:" + token}, g.s.prefix, token, failed).Err(); err != nil {
		return errf("settle: %w", err)
	}
	return nil
}
