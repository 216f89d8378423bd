package redisstore

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/voicecall-go/voicecall/otp"
)

// OTPStore is the Redis [otp.Store]. Get it from [Store.OTPStore]. It
// runs on a single Redis server and on Redis Cluster alike, with the
// same steps.
//
// Every key carries a hash tag, and every Lua script (a "step") touches
// the keys of one tag only, so one slot: the reservation's token, the
// verification, the number's state, and each counter are steps of their
// own. An operation sends its steps in one pipeline (one round trip; on
// a cluster, go-redis sends each node its part at once), and every step
// is safe to repeat: it records its first answer, keyed by the
// reservation's token or the check's operation id, and returns it when
// it runs again (go-redis re-sends a pipeline whose reply was lost).
//
// What one script cannot do across slots is done in steps:
//
//   - Reserve takes every step at once, optimistically. When a step
//     refuses (the number held or cooling down, a counter at its limit),
//     the steps that succeeded are given back in a second round trip
//     (each give-back a no-op if its step never ran). No limit is ever
//     exceeded, but two concurrent sends near a limit can refuse each
//     other while one of them holds a step it gives back a moment later.
//     When the number had an earlier verification, a last step removes
//     it (one more round trip, on a resend only).
//   - Check counts the client's check (its own slot) and checks the
//     code (the verification's slot) in one pipeline; when the client
//     is at its limit, the check is given back. A valid check then
//     credits the conversion counters (one more round trip, best
//     effort: a lost credit lowers an allowance, never raises it).
//   - Settle records the settlement in the token's record and lifts the
//     number's hold or cooldown (on release, also removes the
//     verification), in one pipeline when this OTPStore made the
//     reservation (it remembers the number and verification of up to
//     4,096 reservations until they are settled or expire); elsewhere
//     (a notification on another instance) it reads the token's record
//     first, in one more round trip.
//
// Keys, after the Store's prefix and "otp:":
//
//	t:{TOKEN}              hash: a reservation (number id, verification id, released)
//	v:{ID}                 hash: a verification (MAC, checks, limit, used, expiry, labels, conversion counters, answers by operation id)
//	{n:NUMBER}:hold        the token of the call whose outcome is unknown
//	{n:NUMBER}:cool        the token of the send in cooldown
//	{n:NUMBER}:cur         the number's current verification id
//	{n:NUMBER}:r:TOKEN     the number step's first answer for a reservation
//	cnt:{KEY}              hash: a counter of sends (s) and its window's id (w)
//	cnt:{KEY}:o:TOKEN      the counter step's first answer for a reservation
//	conv:{KEY}             hash: sends (s), verified sends (v), window id (w)
//	conv:{KEY}:o:TOKEN     the conversion step's first answer for a reservation
//	conv:{KEY}:c:ID        verification ID was credited
//	chk:{KEY}              hash: the operation ids of one client's checks in a window
type OTPStore struct {
	s *Store

	mu     sync.Mutex
	recent map[string]reserved // by token: the reservations made here, until settled here
}

// reserved is what a reservation made by this OTPStore reserved, so that
// its Settle (the Lifecycle settles right after the call) needs no read
// of the token's record: one round trip instead of two.
type reserved struct {
	num, vid string
	exp      time.Time
}

// maxRecent bounds the reservations an OTPStore remembers; past it (and
// for the reservations made by other instances) Settle reads the token's
// record first.
const maxRecent = 4096

// OTPStore returns the [otp.Store] on s.
func (s *Store) OTPStore() *OTPStore {
	return &OTPStore{s: s, recent: make(map[string]reserved)}
}

func (o *OTPStore) remember(token, num, vid string, ttl time.Duration) {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.recent) >= maxRecent {
		for k, r := range o.recent {
			if now.After(r.exp) {
				delete(o.recent, k)
			}
		}
		if len(o.recent) >= maxRecent {
			return
		}
	}
	o.recent[token] = reserved{num: num, vid: vid, exp: now.Add(ttl)}
}

func (o *OTPStore) recall(token string) (reserved, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.recent[token]
	delete(o.recent, token)
	return r, ok
}

var _ otp.Store = (*OTPStore)(nil)

func (o *OTPStore) p() string                    { return o.s.prefix + "otp:" }
func (o *OTPStore) tokenKey(token string) string { return o.p() + "t:{" + token + "}" }
func (o *OTPStore) verKey(id string) string      { return o.p() + "v:{" + id + "}" }

// numKeys returns the number's hold, cooldown, current verification and
// its record of the reservation token.
func (o *OTPStore) numKeys(num, token string) []string {
	b := o.p() + "{n:" + num + "}:"
	return []string{b + "hold", b + "cool", b + "cur", b + "r:" + token}
}
func (o *OTPStore) cntKey(key string) string  { return o.p() + "cnt:{" + key + "}" }
func (o *OTPStore) convKey(key string) string { return o.p() + "conv:{" + key + "}" }

// step is one script on the keys of one hash tag.
type step struct {
	script *redis.Script
	keys   []string
	args   []any
}

// run sends steps in one pipeline (EVALSHA; the steps whose script the
// server lacks are sent again with EVAL, in a second one) and returns
// each step's command.
func (o *OTPStore) run(ctx context.Context, steps []step) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(steps))
	if len(steps) == 0 {
		return cmds
	}
	pipe := o.s.rdb.Pipeline()
	for i, s := range steps {
		cmds[i] = s.script.EvalSha(ctx, pipe, s.keys, s.args...)
	}
	_, _ = pipe.Exec(ctx)
	var redo []int
	for i, c := range cmds {
		if err := c.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			redo = append(redo, i)
		}
	}
	if len(redo) > 0 {
		pipe = o.s.rdb.Pipeline()
		for _, i := range redo {
			cmds[i] = steps[i].script.Eval(ctx, pipe, steps[i].keys, steps[i].args...)
		}
		_, _ = pipe.Exec(ctx)
	}
	return cmds
}

// firstErr returns the first error of cmds.
func firstErr(cmds []*redis.Cmd) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return err
		}
	}
	return nil
}

// ---- Reserve's steps ----

// tokenTake: KEYS = token; ARGV = number, verification id, keep ms.
// Returns -1 released, 0 already recorded, 1 recorded now.
var tokenTake = redis.NewScript(`
local r = redis.call('HGET', KEYS[1], 'rel')
if r == '1' then return -1 end
if r then return 0 end
redis.call('HSET', KEYS[1], 'num', ARGV[1], 'vid', ARGV[2], 'rel', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`)

// tokenGive: KEYS = token. Forgets an unreleased reservation's record.
var tokenGive = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'rel') == '0' then redis.call('DEL', KEYS[1]) end
return 1`)

// numberTake: KEYS = hold, cooldown, current, record; ARGV = token,
// verification id, ttl ms, cooldown ms, record-only, keep ms. Returns
// {which, ms, taken, earlier verification}: which 0 none, 1 held, 2 in
// cooldown; taken 0 when it refused (nothing changed). The record keeps
// the answer and what the step replaced, for numberGive.
var numberTake = redis.NewScript(`
local r = redis.call('GET', KEYS[4])
if r then
  local d = cjson.decode(r)
  return {d[1], d[2], 1, d[3]}
end
local t = redis.call('PTTL', KEYS[1])
if t > 0 then
  local c = redis.call('PTTL', KEYS[2])
  if c > 0 and c < t then t = c end
  return {1, t, 0, ''}
end
local a, w = 0, 0
local oc, ocms = '', 0
t = redis.call('PTTL', KEYS[2])
if t > 0 then
  if ARGV[5] ~= '1' then return {2, t, 0, ''} end
  a, w = 2, t
  oc, ocms = redis.call('GET', KEYS[2]), t
end
if tonumber(ARGV[4]) > 0 then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[4])
else
  redis.call('DEL', KEYS[2])
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
local old = redis.call('GET', KEYS[3]) or ''
if old == ARGV[2] then old = '' end
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[6])
redis.call('SET', KEYS[4], cjson.encode({a, w, old, oc, ocms}), 'PX', ARGV[6])
return {a, w, 1, old}`)

// numberGive: KEYS = hold, cooldown, current, record; ARGV = token,
// verification id, keep ms. Undoes numberTake: lifts the hold and
// cooldown it set, and puts back the cooldown and current verification
// it replaced.
var numberGive = redis.NewScript(`
local r = redis.call('GET', KEYS[4])
if not r then return 0 end
local d = cjson.decode(r)
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then
  if d[4] ~= '' and d[5] > 0 then
    redis.call('SET', KEYS[2], d[4], 'PX', d[5])
  else
    redis.call('DEL', KEYS[2])
  end
end
if redis.call('GET', KEYS[3]) == ARGV[2] then
  if d[3] ~= '' then
    redis.call('SET', KEYS[3], d[3], 'PX', ARGV[3])
  else
    redis.call('DEL', KEYS[3])
  end
end
redis.call('DEL', KEYS[4])
return 1`)

// verTake: KEYS = verification; ARGV = token, mac, max checks, ttl ms,
// country, range, conversion counters (newline-separated). Stores the
// verification unless its key exists (a repeat, or released).
var verTake = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
redis.call('HSET', KEYS[1], 'mac', ARGV[2], 'n', 0, 'max', ARGV[3], 'used', 0, 'exp', now + tonumber(ARGV[4]),
  'cty', ARGV[5], 'rng', ARGV[6], 'cv', ARGV[7], 'tok', ARGV[1])
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[4]))
return 1`)

// verGive: KEYS = verification; ARGV = token. Removes the verification
// that token stored (not a release's tombstone).
var verGive = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'tok', 'rel')
if v[1] == ARGV[1] and v[2] ~= '1' then redis.call('DEL', KEYS[1]) end
return 1`)

// verDrop: KEYS = verification. Removes a verification replaced by a
// later send to its number.
var verDrop = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'rel') ~= '1' then redis.call('DEL', KEYS[1]) end
return 1`)

// convTake: KEYS = counter, record; ARGV = base, factor, window ms,
// record-only, keep ms. Returns {at the limit, ms, taken}. The counter
// (a hash: s sends, v verified sends, w the window's id) refuses when
// s - v >= base + factor × v: an allowance of unverified sends that rises
// with conversions, or, with factor 0 and nothing ever verified, a plain
// limit of base sends in the window (the guard's counters).
var convTake = redis.NewScript(`
local r = redis.call('GET', KEYS[2])
if r then
  local a, w = string.match(r, '^(%d+),(%d+),')
  return {tonumber(a), tonumber(w), 1}
end
local c = redis.call('HMGET', KEYS[1], 's', 'v', 'w')
local s, v = tonumber(c[1] or '0'), tonumber(c[2] or '0')
local a, w = 0, 0
if s - v >= tonumber(ARGV[1]) + tonumber(ARGV[2]) * v then
  w = redis.call('PTTL', KEYS[1])
  if w < 1 then w = 1 end
  if ARGV[4] ~= '1' then return {1, w, 0} end
  a = 1
end
local id = c[3]
if not id then
  local tm = redis.call('TIME')
  id = tm[1] .. '.' .. tm[2]
  redis.call('HSET', KEYS[1], 'w', id)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
redis.call('HINCRBY', KEYS[1], 's', 1)
redis.call('SET', KEYS[2], a .. ',' .. w .. ',' .. id, 'PX', ARGV[5])
return {a, w, 1}`)

// countGive: KEYS = counter, record; ARGV = the field counted. Takes
// back the count its step made, if that window is still the counter's.
var countGive = redis.NewScript(`
local r = redis.call('GET', KEYS[2])
if not r then return 0 end
redis.call('DEL', KEYS[2])
local id = string.match(r, '^%d+,%d+,(.*)$')
if redis.call('HGET', KEYS[1], 'w') == id and tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
end
return 1`)

// Reserve implements [otp.Store].
func (o *OTPStore) Reserve(ctx context.Context, r otp.Reservation) (otp.Refusal, error) {
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
	convs := make([]string, len(r.Conversions))
	for i, c := range r.Conversions {
		convs[i] = c.Key
	}
	nk := o.numKeys(r.Number, r.Token)
	take := make([]step, 0, 3+len(r.Counters)+len(r.Conversions))
	give := make([]step, 0, cap(take))
	take = append(take,
		step{tokenTake, []string{o.tokenKey(r.Token)}, []any{r.Number, r.ID, keep}},
		step{numberTake, nk, []any{r.Token, r.ID, ttl, coolMs, rec, keep}},
		step{verTake, []string{o.verKey(r.ID)}, []any{r.Token, r.MAC, r.MaxChecks, ttl, r.Country, r.Range, strings.Join(convs, "\n")}},
	)
	give = append(give,
		step{tokenGive, []string{o.tokenKey(r.Token)}, nil},
		step{numberGive, nk, []any{r.Token, r.ID, keep}},
		step{verGive, []string{o.verKey(r.ID)}, []any{r.Token}},
	)
	for _, c := range r.Counters {
		k := o.cntKey(c.Key)
		keys := []string{k, k + ":o:" + r.Token}
		take = append(take, step{convTake, keys, []any{c.Limit, 0, ms(c.Window), rec, keep}})
		give = append(give, step{countGive, keys, []any{"s"}})
	}
	for _, c := range r.Conversions {
		k := o.convKey(c.Key)
		keys := []string{k, k + ":o:" + r.Token}
		take = append(take, step{convTake, keys, []any{c.Base, c.Factor, ms(c.Window), rec, keep}})
		give = append(give, step{countGive, keys, []any{"s"}})
	}

	cmds := o.run(ctx, take)
	if err := firstErr(cmds); err != nil {
		// Some steps may have run: give every one back (each is a no-op
		// where its step did not run), so that the error leaves the
		// state as before, as far as Redis can be reached.
		o.run(context.WithoutCancel(ctx), give)
		return otp.Refusal{}, errf("reserve: %w", err)
	}
	tok, err := cmds[0].Int64()
	if err != nil {
		return otp.Refusal{}, errf("reserve: %w", err)
	}
	if tok == -1 {
		return otp.Refusal{}, otp.ErrReleased
	}
	// Every other step answers {limit reached, ms, taken[, earlier
	// verification]}.
	type answer struct {
		which, ms int64
		taken     bool
		old       string
	}
	ans := make([]answer, len(cmds))
	for i := 1; i < len(cmds); i++ {
		if i == 2 { // the verification: always stored
			ans[i].taken = true
			continue
		}
		v, err := cmds[i].Slice()
		n, ok := leadingInts(v, 3)
		if err != nil || !ok {
			return otp.Refusal{}, errf("reserve: unexpected reply")
		}
		ans[i] = answer{which: n[0], ms: n[1], taken: n[2] == 1}
		if len(v) > 3 {
			ans[i].old, _ = v[3].(string)
		}
	}
	// The first limit in order (the number's hold or cooldown, the
	// counters, the conversions) that refused, or that was reached in
	// record-only mode.
	reason := func(i int) otp.Reason {
		switch {
		case i == 1 && ans[i].which == 1:
			return otp.ReasonPending
		case i == 1:
			return otp.ReasonCooldown
		case i-3 < len(r.Counters):
			return r.Counters[i-3].Reason
		default:
			return r.Conversions[i-3-len(r.Counters)].Reason
		}
	}
	refused := false
	for i := 1; i < len(ans); i++ {
		if !ans[i].taken {
			refused = true
			break
		}
	}
	if refused {
		var back []step
		for i, a := range ans {
			if a.taken || i == 0 {
				back = append(back, give[i])
			}
		}
		if err := firstErr(o.run(context.WithoutCancel(ctx), back)); err != nil {
			return otp.Refusal{}, errf("reserve: give back: %w", err)
		}
		for i := 1; i < len(ans); i++ {
			if !ans[i].taken {
				return otp.Refusal{Reason: reason(i), RetryAfter: time.Duration(ans[i].ms) * time.Millisecond}, nil
			}
		}
	}
	ref := otp.Refusal{Reserved: true}
	for i := 1; i < len(ans); i++ {
		if i != 2 && ans[i].which != 0 {
			ref.Reason, ref.RetryAfter = reason(i), time.Duration(ans[i].ms)*time.Millisecond
			break
		}
	}
	if old := ans[1].old; old != "" {
		// The number's earlier verification stops working. Best effort:
		// should this fail, that code (sent to the same number) works
		// until its TTL.
		o.run(ctx, []step{{verDrop, []string{o.verKey(old)}, nil}})
	}
	o.remember(r.Token, r.Number, r.ID, r.TTL)
	return ref, nil
}

// ---- Settle's steps ----

// tokenSettle: KEYS = token; ARGV = settlement. Returns {number,
// verification id}, or nothing for an unknown token; a release is
// recorded.
var tokenSettle = redis.NewScript(`
local t = redis.call('HMGET', KEYS[1], 'num', 'vid')
if not t[1] then return {} end
if ARGV[1] == '3' then redis.call('HSET', KEYS[1], 'rel', 1) end
return {t[1], t[2]}`)

// numberSettle: KEYS = hold, cooldown, current; ARGV = token,
// settlement, verification id. Lifts what token set.
var numberSettle = redis.NewScript(`
local m = tonumber(ARGV[2])
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if m >= 2 and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if m == 3 and redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
return 1`)

// verRelease: KEYS = verification; ARGV = token, keep ms. Replaces the
// verification with a tombstone, so that a late repeat of its
// reservation's step does not store it again; the tombstone lives as
// long as the verification would have, at least keep ms.
var verRelease = redis.NewScript(`
local t = redis.call('PTTL', KEYS[1])
if t < tonumber(ARGV[2]) then t = ARGV[2] end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'rel', 1, 'tok', ARGV[1])
redis.call('PEXPIRE', KEYS[1], t)
return 1`)

// repeatKeep is how long a record kept only for repeats (a released
// verification's tombstone, a conversion's credit) lives at least: a
// client library re-sends within seconds.
const repeatKeep = 10 * time.Minute

// Settle implements [otp.Store].
func (o *OTPStore) Settle(ctx context.Context, token string, st otp.Settlement) error {
	if st < otp.SettlePlaced || st > otp.SettleReleased {
		return errf("settle: invalid settlement %d", st)
	}
	tokenStep := step{tokenSettle, []string{o.tokenKey(token)}, []any{int(st)}}
	settleSteps := func(num, vid string) []step {
		steps := []step{{numberSettle, o.numKeys(num, token)[:3], []any{token, int(st), vid}}}
		if st == otp.SettleReleased {
			steps = append(steps, step{verRelease, []string{o.verKey(vid)}, []any{token, ms(repeatKeep)}})
		}
		return steps
	}
	if r, ok := o.recall(token); ok {
		// Reserved here: the token's record is known, so every step goes
		// in one pipeline.
		if err := firstErr(o.run(ctx, append([]step{tokenStep}, settleSteps(r.num, r.vid)...))); err != nil {
			return errf("settle: %w", err)
		}
		return nil
	}
	v, err := o.run(ctx, []step{tokenStep})[0].StringSlice()
	if err != nil {
		return errf("settle: %w", err)
	}
	if len(v) != 2 {
		return nil // unknown or forgotten
	}
	if err := firstErr(o.run(ctx, settleSteps(v[0], v[1]))); err != nil {
		return errf("settle: %w", err)
	}
	return nil
}

// ---- Check's steps ----

// clientTake: KEYS = the client's checks; ARGV = op, limit, window ms.
// Returns {0} counted (or counted before), {7, ms} at the limit.
var clientTake = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[2]) then
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl < 1 then ttl = 1 end
    return {7, ttl}
  end
  redis.call('HSET', KEYS[1], ARGV[1], 1)
  if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
end
return {0, 0}`)

// check: KEYS = verification; ARGV = mac, op. Returns {status, attempts
// left, country, range, conversion counters}. The MACs are compared
// byte by byte over the whole given MAC (no early exit).
var checkScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'mac', 'n', 'max', 'used', 'exp', 'cty', 'rng', 'cv', 'rel')
if not v[1] then return {1, 0, '', '', ''} end
local prev = redis.call('HGET', KEYS[1], 'op:' .. ARGV[2])
if prev then
  local s, n = string.match(prev, '(%d+),(%d+)')
  return {tonumber(s), tonumber(n), v[6], v[7], v[8] or ''}
end
if v[4] == '1' then return {6, 0, v[6], v[7], ''} end
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
if now >= tonumber(v[5]) then return {5, 0, v[6], v[7], ''} end
local n, mx = tonumber(v[2]), tonumber(v[3])
if n >= mx then return {4, 0, v[6], v[7], ''} end
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
end
redis.call('HSET', KEYS[1], 'n', n, 'op:' .. ARGV[2], st .. ',' .. (mx - n))
return {st, mx - n, v[6], v[7], v[8] or ''}`)

// checkGive: KEYS = verification; ARGV = op. Takes back the check op
// counted (a client's check refused by its limit).
var checkGive = redis.NewScript(`
local prev = redis.call('HGET', KEYS[1], 'op:' .. ARGV[1])
if not prev then return 0 end
local s = tonumber(string.match(prev, '^(%d+),'))
if s == 2 or s == 3 then redis.call('HINCRBY', KEYS[1], 'n', -1) end
if s == 2 then redis.call('HSET', KEYS[1], 'used', 0) end
redis.call('HDEL', KEYS[1], 'op:' .. ARGV[1])
return 1`)

// credit: KEYS = conversion counter, credit record; ARGV = keep ms.
// Counts one verified send, once per verification.
var creditScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if not redis.call('SET', KEYS[2], 1, 'NX', 'PX', ARGV[1]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'v', 1)
return 1`)

// Check implements [otp.Store].
func (o *OTPStore) Check(ctx context.Context, c otp.CheckRequest) (otp.CheckResult, error) {
	steps := []step{{checkScript, []string{o.verKey(c.ID)}, []any{c.MAC, c.Op}}}
	if c.Client.Limit > 0 {
		steps = append(steps, step{clientTake, []string{o.p() + "chk:{" + c.Client.Key + "}"}, []any{c.Op, c.Client.Limit, ms(c.Client.Window)}})
	}
	cmds := o.run(ctx, steps)
	giveBack := func() error {
		return firstErr(o.run(context.WithoutCancel(ctx), []step{{checkGive, []string{o.verKey(c.ID)}, []any{c.Op}}}))
	}
	if err := firstErr(cmds); err != nil {
		_ = giveBack()
		return otp.CheckResult{}, errf("check: %w", err)
	}
	if len(cmds) > 1 {
		v, err := cmds[1].Int64Slice()
		if err != nil || len(v) != 2 {
			_ = giveBack()
			return otp.CheckResult{}, errf("check: unexpected reply")
		}
		if v[0] == int64(otp.CheckRateLimited) {
			if err := giveBack(); err != nil {
				return otp.CheckResult{}, errf("check: give back: %w", err)
			}
			return otp.CheckResult{Status: otp.CheckRateLimited, RetryAfter: time.Duration(v[1]) * time.Millisecond}, nil
		}
	}
	v, err := cmds[0].Slice()
	n, ok := leadingInts(v, 2)
	if err != nil || len(v) != 5 || !ok {
		return otp.CheckResult{}, errf("check: unexpected reply")
	}
	st := otp.CheckStatus(n[0])
	if st < otp.CheckUnknown || st > otp.CheckRateLimited {
		return otp.CheckResult{}, errf("check: unexpected status %d", n[0])
	}
	res := otp.CheckResult{Status: st, AttemptsLeft: int(n[1])}
	res.Country, _ = v[2].(string)
	res.Range, _ = v[3].(string)
	if cv, _ := v[4].(string); st == otp.CheckValid && cv != "" {
		// Credit the conversion counters, each in its own slot. Best
		// effort: a credit lost lowers an allowance, never raises it
		// (and a check repeated with the same op credits again, once).
		var credits []step
		for _, k := range strings.Split(cv, "\n") {
			ck := o.convKey(k)
			credits = append(credits, step{creditScript, []string{ck, ck + ":c:" + c.ID}, []any{ms(repeatKeep)}})
		}
		o.run(ctx, credits)
	}
	return res, nil
}

// leadingInts returns the first n members of a script's reply, which
// must be integers; ok is false when the reply is shorter or one is not.
func leadingInts(v []any, n int) (ints []int64, ok bool) {
	if len(v) < n {
		return nil, false
	}
	ints = make([]int64, n)
	for i := range ints {
		if ints[i], ok = v[i].(int64); !ok {
			return nil, false
		}
	}
	return ints, true
}
