package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/voicecall-go/voicecall/otp"
)

// OTPStore is the Redis [otp.Store]. Get it from [Store.OTPStore].
//
// Each operation is one Lua script, so one round trip, and safe to
// repeat: go-redis re-sends a command whose reply was lost or late, and
// a repeated script finds the record of its first run (the reservation's
// token, the check's operation id) and returns its first answer.
//
// Keys, after the Store's prefix and "otp:":
//
//	t:{TOKEN}        hash: a reservation (number id, verification id, its answer, released)
//	v:{ID}           hash: a verification (MAC, checks, limit, used, expiry, labels, answers by operation id)
//	{n:NUMBER}:hold  the token of the call whose outcome is unknown
//	{n:NUMBER}:cool  the token of the send in cooldown
//	{n:NUMBER}:cur   the number's current verification id
//	cnt:KEY          a counter of sends (INCR, expires with its window)
//	conv:KEY         hash: sends and verified sends of a window
//	chk:KEY          hash: the operation ids of one client's checks in a window
type OTPStore struct{ s *Store }

// OTPStore returns the [otp.Store] on s.
func (s *Store) OTPStore() *OTPStore { return &OTPStore{s: s} }

var _ otp.Store = (*OTPStore)(nil)

func (o *OTPStore) p() string                    { return o.s.prefix + "otp:" }
func (o *OTPStore) tokenKey(token string) string { return o.p() + "t:{" + token + "}" }
func (o *OTPStore) verKey(id string) string      { return o.p() + "v:{" + id + "}" }
func (o *OTPStore) numKey(num, kind string) string {
	return o.p() + "{n:" + num + "}:" + kind
}

// reserve: KEYS = token, verification, hold, cooldown, current, counters
// (nc), conversions (nv). ARGV = token, number, id, mac, max checks, ttl
// ms, cooldown ms, country, range, record-only, nc, nv, keep ms, the
// verification keys' prefix, then limit and window ms per counter, then
// base, factor and window ms per conversion. Returns {which, ms,
// reserved}: which 0 none, 1 the hold, 2 the cooldown, 2+i the i-th
// counter, 2+nc+j the j-th conversion, -1 released.
var reserveScript = redis.NewScript(`
local tok = redis.call('HMGET', KEYS[1], 'rel', 'a', 'w', 'r')
if tok[1] then
  if tok[1] == '1' then return {-1, 0, 0} end
  return {tonumber(tok[2]), tonumber(tok[3]), tonumber(tok[4])}
end
local t = redis.call('PTTL', KEYS[3])
if t > 0 then
  local c = redis.call('PTTL', KEYS[4])
  if c > 0 and c < t then t = c end
  return {1, t, 0}
end
local rec = ARGV[10] == '1'
local nc, nv = tonumber(ARGV[11]), tonumber(ARGV[12])
local a, w = 0, 0
local function refuse(i, ttl)
  if ttl < 1 then ttl = 1 end
  if a == 0 then a, w = i, ttl end
  return not rec
end
t = redis.call('PTTL', KEYS[4])
if t > 0 and refuse(2, t) then return {a, w, 0} end
for i = 1, nc do
  local k = KEYS[5 + i]
  if tonumber(redis.call('GET', k) or '0') >= tonumber(ARGV[13 + 2 * i]) and refuse(2 + i, redis.call('PTTL', k)) then
    return {a, w, 0}
  end
end
local cb = 14 + 2 * nc
for j = 1, nv do
  local k = KEYS[5 + nc + j]
  local sv = redis.call('HMGET', k, 's', 'v')
  local s, v = tonumber(sv[1] or '0'), tonumber(sv[2] or '0')
  local o = cb + 3 * (j - 1)
  if s - v >= tonumber(ARGV[o + 1]) + tonumber(ARGV[o + 2]) * v and refuse(2 + nc + j, redis.call('PTTL', k)) then
    return {a, w, 0}
  end
end
for i = 1, nc do
  local k = KEYS[5 + i]
  if redis.call('INCR', k) == 1 then redis.call('PEXPIRE', k, ARGV[14 + 2 * i]) end
end
local convs = {}
for j = 1, nv do
  local k = KEYS[5 + nc + j]
  redis.call('HINCRBY', k, 's', 1)
  if redis.call('PTTL', k) < 0 then redis.call('PEXPIRE', k, ARGV[cb + 3 * j]) end
  convs[#convs + 1] = k
end
if tonumber(ARGV[7]) > 0 then
  redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[7])
else
  redis.call('DEL', KEYS[4])
end
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[6])
local old = redis.call('GET', KEYS[5])
if old then redis.call('DEL', ARGV[14] .. old .. '}') end
redis.call('SET', KEYS[5], ARGV[3], 'PX', ARGV[13])
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'mac', ARGV[4], 'n', 0, 'max', ARGV[5], 'used', 0, 'exp', now + tonumber(ARGV[6]),
  'cty', ARGV[8], 'rng', ARGV[9], 'cv', table.concat(convs, '\n'))
redis.call('PEXPIRE', KEYS[2], 2 * tonumber(ARGV[6]))
redis.call('HSET', KEYS[1], 'num', ARGV[2], 'vid', ARGV[3], 'rel', 0, 'a', a, 'w', w, 'r', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[13])
return {a, w, 1}`)

// settle: KEYS = token; ARGV = token, settlement (1 placed, 2 failed, 3
// released), the number keys' prefix, the verification keys' prefix.
// The number's and the verification's keys are derived from the
// token's record.
var settleScript = redis.NewScript(`
local t = redis.call('HMGET', KEYS[1], 'num', 'vid')
if not t[1] then return 0 end
local np = ARGV[3] .. '{n:' .. t[1] .. '}:'
local m = tonumber(ARGV[2])
if redis.call('GET', np .. 'hold') == ARGV[1] then redis.call('DEL', np .. 'hold') end
if m >= 2 and redis.call('GET', np .. 'cool') == ARGV[1] then redis.call('DEL', np .. 'cool') end
if m == 3 then
  redis.call('HSET', KEYS[1], 'rel', 1)
  redis.call('DEL', ARGV[4] .. t[2] .. '}')
  if redis.call('GET', np .. 'cur') == t[2] then redis.call('DEL', np .. 'cur') end
end
return 1`)

// check: KEYS = verification[, client counter]; ARGV = mac, op, client
// limit, client window ms. Returns {status, attempts left, retry ms,
// country, range}. The MACs are compared byte by byte over the whole
// given MAC (no early exit). The conversion counters credited are read
// from the verification.
var checkScript = redis.NewScript(`
local ex = redis.call('EXISTS', KEYS[1]) == 1
if ex then
  local prev = redis.call('HGET', KEYS[1], 'op:' .. ARGV[2])
  if prev then
    local l = redis.call('HMGET', KEYS[1], 'cty', 'rng')
    local s, n = string.match(prev, '(%d+),(%d+)')
    return {tonumber(s), tonumber(n), 0, l[1], l[2]}
  end
end
if #KEYS > 1 then
  local k = KEYS[2]
  if redis.call('HEXISTS', k, ARGV[2]) == 0 then
    if redis.call('HLEN', k) >= tonumber(ARGV[3]) then
      local ttl = redis.call('PTTL', k)
      if ttl < 1 then ttl = 1 end
      return {7, 0, ttl, '', ''}
    end
    redis.call('HSET', k, ARGV[2], 1)
    if redis.call('PTTL', k) < 0 then redis.call('PEXPIRE', k, ARGV[4]) end
  end
end
if not ex then return {1, 0, 0, '', ''} end
local v = redis.call('HMGET', KEYS[1], 'mac', 'n', 'max', 'used', 'exp', 'cty', 'rng', 'cv')
if v[4] == '1' then return {6, 0, 0, v[6], v[7]} end
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
if now >= tonumber(v[5]) then return {5, 0, 0, v[6], v[7]} end
local n, mx = tonumber(v[2]), tonumber(v[3])
if n >= mx then return {4, 0, 0, v[6], v[7]} end
n = n + 1
local a, b = v[1], ARGV[1]
local diff = 0
if #a ~= #b then diff = 1 end
for i = 1, #b do
  diff = bit.bor(diff, bit.bxor(string.byte(a, i) or 0, string.byte(b, i)))
end
local st = 3
if diff == 0 then
  st = 2
  redis.call('HSET', KEYS[1], 'used', 1)
  for k in string.gmatch(v[8] or '', '[^\n]+') do
    if redis.call('EXISTS', k) == 1 then redis.call('HINCRBY', k, 'v', 1) end
  end
end
redis.call('HSET', KEYS[1], 'n', n, 'op:' .. ARGV[2], st .. ',' .. (mx - n))
return {st, mx - n, 0, v[6], v[7]}`)

// Reserve implements [otp.Store].
func (o *OTPStore) Reserve(ctx context.Context, r otp.Reservation) (otp.Refusal, error) {
	p := o.p()
	keys := make([]string, 0, 5+len(r.Counters)+len(r.Conversions))
	keys = append(keys, o.tokenKey(r.Token), o.verKey(r.ID), o.numKey(r.Number, "hold"), o.numKey(r.Number, "cool"), o.numKey(r.Number, "cur"))
	var coolMs int64
	if r.Cooldown > 0 {
		coolMs = ms(r.Cooldown)
	}
	rec := "0"
	if r.RecordOnly {
		rec = "1"
	}
	ttl := ms(r.TTL)
	keep := max(2*ttl, coolMs)
	args := make([]any, 0, 14+2*len(r.Counters)+3*len(r.Conversions))
	args = append(args, r.Token, r.Number, r.ID, r.MAC, r.MaxChecks, ttl, coolMs, r.Country, r.Range, rec,
		len(r.Counters), len(r.Conversions), keep, p+"v:{")
	for _, c := range r.Counters {
		keys = append(keys, p+"cnt:"+c.Key)
		args = append(args, c.Limit, ms(c.Window))
	}
	for _, c := range r.Conversions {
		keys = append(keys, p+"conv:"+c.Key)
		args = append(args, c.Base, c.Factor, ms(c.Window))
	}
	v, err := reserveScript.Run(ctx, o.s.rdb, keys, args...).Int64Slice()
	if err != nil {
		return otp.Refusal{}, errf("reserve: %w", err)
	}
	if len(v) != 3 {
		return otp.Refusal{}, errf("reserve: unexpected reply of %d values", len(v))
	}
	ref := otp.Refusal{RetryAfter: time.Duration(v[1]) * time.Millisecond, Reserved: v[2] == 1}
	nc := len(r.Counters)
	switch w := int(v[0]); {
	case w == -1:
		return otp.Refusal{}, otp.ErrReleased
	case w == 0:
		ref.RetryAfter = 0
	case w == 1:
		ref.Reason = otp.ReasonPending
	case w == 2:
		ref.Reason = otp.ReasonCooldown
	case w-3 < nc:
		ref.Reason = r.Counters[w-3].Reason
	case w-3-nc < len(r.Conversions):
		ref.Reason = r.Conversions[w-3-nc].Reason
	default:
		return otp.Refusal{}, errf("reserve: unexpected reply %d", w)
	}
	return ref, nil
}

// Settle implements [otp.Store].
func (o *OTPStore) Settle(ctx context.Context, token string, st otp.Settlement) error {
	if st < otp.SettlePlaced || st > otp.SettleReleased {
		return errf("settle: invalid settlement %d", st)
	}
	if err := settleScript.Run(ctx, o.s.rdb, []string{o.tokenKey(token)}, token, int(st), o.p(), o.p()+"v:{").Err(); err != nil {
		return errf("settle: %w", err)
	}
	return nil
}

// Check implements [otp.Store].
func (o *OTPStore) Check(ctx context.Context, c otp.CheckRequest) (otp.CheckResult, error) {
	keys := []string{o.verKey(c.ID)}
	args := []any{c.MAC, c.Op, 0, 0}
	if c.Client.Limit > 0 {
		keys = append(keys, o.p()+"chk:"+c.Client.Key)
		args[2], args[3] = c.Client.Limit, ms(c.Client.Window)
	}
	v, err := checkScript.Run(ctx, o.s.rdb, keys, args...).Slice()
	if err != nil {
		return otp.CheckResult{}, errf("check: %w", err)
	}
	if len(v) != 5 {
		return otp.CheckResult{}, errf("check: unexpected reply of %d values", len(v))
	}
	var n [3]int64
	for i := range n {
		x, ok := v[i].(int64)
		if !ok {
			return otp.CheckResult{}, errf("check: unexpected reply")
		}
		n[i] = x
	}
	st := otp.CheckStatus(n[0])
	if st < otp.CheckUnknown || st > otp.CheckRateLimited {
		return otp.CheckResult{}, errf("check: unexpected status %d", n[0])
	}
	res := otp.CheckResult{Status: st, AttemptsLeft: int(n[1]), RetryAfter: time.Duration(n[2]) * time.Millisecond}
	res.Country, _ = v[3].(string)
	res.Range, _ = v[4].(string)
	return res, nil
}
