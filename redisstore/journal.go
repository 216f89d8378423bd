package redisstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/journal"
)

// ErrNotDurable is returned (wrapped, naming the server) by
// [Journal.CheckDurability] when a Redis server runs without the
// append-only file.
var ErrNotDurable = errors.New("voicecall: redisstore: redis runs without appendonly: a restart loses what the journal acknowledged")

// Journal is the Redis [journal.Journal]: one Redis Stream with a
// consumer group per consumer application. Get it from [Store.Journal].
//
// Its keys share the hash tag {journal}, so that every script's keys are
// in one slot of a Redis Cluster: the whole journal lives on one
// cluster node (a stream cannot be split across nodes).
//
//	<prefix>{journal}:entries       the stream (fields n: kind, k: key, b: body)
//	<prefix>{journal}:key:<key>     an appended key, for MaxAge, so that a
//	                                repeated Append adds nothing
//	<prefix>{journal}:dead:<group>  a group's dead letters (a stream)
//
// Append, Read and Redrive are each one Lua script, so one round trip
// and atomic; Ack, DeadLetters and Replay are one command each.
type Journal struct {
	s   *Store
	cfg journal.Config
}

var _ journal.Journal = (*Journal)(nil)

// Journal returns the journal on s for cfg (zero fields take the
// defaults; cfg.MaxBytes does not apply: bound Redis's memory with
// maxmemory and the noeviction policy, so that an append beyond it fails
// and the Handler answers 503).
func (s *Store) Journal(cfg journal.Config) (*Journal, error) {
	c, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	return &Journal{s: s, cfg: c}, nil
}

func (j *Journal) key(parts ...string) string {
	return j.s.prefix + "{journal}:" + strings.Join(parts, ":")
}

// appendScript: KEYS[1] the stream, KEYS[1+i] record i's key marker;
// ARGV[1] MaxLen, ARGV[2] MaxAge in ms, then kind, key, body per
// record. It returns how many records it stored, or -1 when full.
//
// Trimming never drops an entry some group has not acknowledged (the
// group's oldest pending entry, or the entry after its last delivered
// one, is the floor): entries below the floor go once older than MaxAge,
// or all at once when the journal is full.
var appendScript = redis.NewScript(`
local stream = KEYS[1]
local maxlen = tonumber(ARGV[1])
local maxage = tonumber(ARGV[2])
local fresh, inbatch = {}, {}
for i = 2, #KEYS do
  local k = KEYS[i]
  if not inbatch[k] and redis.call('EXISTS', k) == 0 then
    inbatch[k] = true
    fresh[#fresh + 1] = i
  end
end
if #fresh == 0 then return 0 end
local function parts(id)
  local a, b = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(a), tonumber(b)
end
local function less(am, as, bm, bs) return am < bm or (am == bm and as < bs) end
local function fmt(m, s) return string.format('%.0f-%.0f', m, s) end
local len = redis.call('XLEN', stream)
if len > 0 then
  local t = redis.call('TIME')
  local cut = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - maxage
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  local old = first[1] ~= nil and parts(first[1][1]) < cut
  if old or len + #fresh > maxlen then
    local fm, fs = nil, nil
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
      local name, last, pending
      for j = 1, #g, 2 do
        if g[j] == 'name' then name = g[j + 1]
        elseif g[j] == 'last-delivered-id' then last = g[j + 1]
        elseif g[j] == 'pending' then pending = g[j + 1] end
      end
      local m, s = parts(last)
      s = s + 1
      if pending > 0 then
        local p = redis.call('XPENDING', stream, name)
        local pm, ps = parts(p[2])
        if less(pm, ps, m, s) then m, s = pm, ps end
      end
      if fm == nil or less(m, s, fm, fs) then fm, fs = m, s end
    end
    if fm ~= nil then
      if old then
        local cm, cs = cut, 0
        if less(fm, fs, cm, cs) then cm, cs = fm, fs end
        redis.call('XTRIM', stream, 'MINID', fmt(cm, cs))
      end
      if redis.call('XLEN', stream) + #fresh > maxlen then
        redis.call('XTRIM', stream, 'MINID', fmt(fm, fs))
      end
      len = redis.call('XLEN', stream)
    end
  end
end
if len + #fresh > maxlen then return -1 end
for _, i in ipairs(fresh) do
  local a = 3 + (i - 2) * 3
  local id = redis.call('XADD', stream, '*', 'n', ARGV[a], 'k', ARGV[a + 1], 'b', ARGV[a + 2])
  redis.call('SET', KEYS[i], id, 'PX', maxage)
end
return #fresh`)

// Append implements [journal.Journal]: one round trip, whatever the
// number of records. A repeated Append (go-redis re-sends a script whose
// reply was lost) finds the keys' markers and adds nothing.
func (j *Journal) Append(ctx context.Context, recs []voicecall.JournalRecord) error {
	if len(recs) == 0 {
		return nil
	}
	keys := make([]string, 1, len(recs)+1)
	keys[0] = j.key("entries")
	args := make([]any, 2, 2+3*len(recs))
	args[0], args[1] = j.cfg.MaxLen, ms(j.cfg.MaxAge)
	for _, r := range recs {
		k := r.Key.String()
		keys = append(keys, j.key("key", k))
		args = append(args, int(r.Kind), k, r.Body)
	}
	n, err := appendScript.Run(ctx, j.s.rdb, keys, args...).Int64()
	switch {
	case err != nil:
		return errf("journal append: %w", err)
	case n < 0:
		return journal.ErrFull
	}
	return nil
}

// readScript: KEYS[1] the stream, KEYS[2] the group's dead letters;
// ARGV group, consumer, n, lease in ms, MaxAttempts, MaxLen. It returns
// id, fields, attempts for each entry delivered.
var readScript = redis.NewScript(`
local stream, dead = KEYS[1], KEYS[2]
local group, consumer = ARGV[1], ARGV[2]
local n, lease, maxattempts, maxlen = tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), ARGV[6]
redis.pcall('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
local out = {}
local counts, claimable = {}, 0
for _, p in ipairs(redis.call('XPENDING', stream, group, 'IDLE', lease, '-', '+', n)) do
  local id, cnt = p[1], p[4]
  if cnt >= maxattempts then
    local e = redis.call('XRANGE', stream, id, id)
    if e[1] ~= nil then
      local f = e[1][2]
      f[#f + 1] = 'a'
      f[#f + 1] = cnt
      f[#f + 1] = 'o'
      f[#f + 1] = id
      redis.call('XADD', dead, 'MAXLEN', maxlen, '*', unpack(f))
    end
    redis.call('XACK', stream, group, id)
  else
    counts[id] = cnt
    claimable = claimable + 1
  end
end
if claimable > 0 then
  local c = redis.call('XAUTOCLAIM', stream, group, consumer, lease, '0-0', 'COUNT', claimable)
  for _, e in ipairs(c[2]) do
    if e[2] then
      local cnt = counts[e[1]]
      if cnt then cnt = cnt + 1 else cnt = redis.call('XPENDING', stream, group, e[1], e[1], 1)[1][4] end
      out[#out + 1] = {e[1], e[2], cnt}
    end
  end
end
if #out < n then
  local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', n - #out, 'STREAMS', stream, '>')
  if r then
    for _, e in ipairs(r[1][2]) do out[#out + 1] = {e[1], e[2], 1} end
  end
end
return out`)

// Read implements [journal.Journal]: one round trip. It creates the
// group when missing (XGROUP CREATE ... 0 MKSTREAM), so a group lost
// with a Redis restart without persistence (NOGROUP) is recreated by the
// next Read. Expired leases are taken over with XAUTOCLAIM; entries
// delivered MaxAttempts times go to the group's dead letters.
func (j *Journal) Read(ctx context.Context, group, consumer string, n int) ([]journal.Entry, error) {
	switch {
	case group == "":
		return nil, errf("journal read: invalid group: empty")
	case consumer == "":
		return nil, errf("journal read: invalid consumer: empty")
	case n <= 0:
		return nil, errf("journal read: invalid n: must be positive")
	}
	v, err := readScript.Run(ctx, j.s.rdb, []string{j.key("entries"), j.key("dead", group)},
		group, consumer, n, ms(j.cfg.Lease), j.cfg.MaxAttempts, j.cfg.MaxLen).Slice()
	if err != nil {
		return nil, errf("journal read: %w", err)
	}
	out := make([]journal.Entry, 0, len(v))
	for _, x := range v {
		t, ok := x.([]any)
		if !ok || len(t) != 3 {
			return nil, errf("journal read: unexpected reply")
		}
		id, _ := t[0].(string)
		fields, _ := t[1].([]any)
		attempts, _ := t[2].(int64)
		e, err := entry(id, fields)
		if err != nil {
			return nil, errf("journal read: %w", err)
		}
		e.Attempts = int(attempts)
		out = append(out, e)
	}
	return out, nil
}

// entry decodes a stream entry's fields.
func entry(id string, fields []any) (journal.Entry, error) {
	e := journal.Entry{ID: id}
	orig := id
	for i := 0; i+1 < len(fields); i += 2 {
		name, _ := fields[i].(string)
		val, _ := fields[i+1].(string)
		switch name {
		case "n":
			k, _ := strconv.Atoi(val)
			e.Kind = voicecall.NotificationKind(k)
		case "k":
			b, err := hex.DecodeString(val)
			if err != nil || len(b) != len(e.Key) {
				return e, errors.New("entry " + id + " has an invalid key")
			}
			copy(e.Key[:], b)
		case "b":
			e.Body = []byte(val)
		case "a":
			e.Attempts, _ = strconv.Atoi(val)
		case "o":
			orig = val
		}
	}
	msPart, _, _ := strings.Cut(orig, "-")
	t, err := strconv.ParseInt(msPart, 10, 64)
	if err != nil {
		return e, errors.New("entry " + id + " has an invalid id")
	}
	e.Time = time.UnixMilli(t)
	return e, nil
}

func entries(msgs []redis.XMessage) ([]journal.Entry, error) {
	out := make([]journal.Entry, 0, len(msgs))
	for _, m := range msgs {
		fields := make([]any, 0, 2*len(m.Values))
		for k, v := range m.Values {
			fields = append(fields, k, v)
		}
		e, err := entry(m.ID, fields)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// validIDs keeps the ids that are stream ids, so that one malformed id
// does not fail the others.
func validIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := parseID(id); ok {
			out = append(out, id)
		}
	}
	return out
}

func parseID(s string) ([2]uint64, bool) {
	a, b, found := strings.Cut(s, "-")
	m, err := strconv.ParseUint(a, 10, 64)
	if err != nil || !found {
		return [2]uint64{}, false
	}
	q, err := strconv.ParseUint(b, 10, 64)
	if err != nil {
		return [2]uint64{}, false
	}
	return [2]uint64{m, q}, true
}

// Ack implements [journal.Journal]: one XACK.
func (j *Journal) Ack(ctx context.Context, group string, ids []string) error {
	if group == "" {
		return errf("journal ack: invalid group: empty")
	}
	ids = validIDs(ids)
	if len(ids) == 0 {
		return nil
	}
	if err := j.s.rdb.XAck(ctx, j.key("entries"), group, ids...).Err(); err != nil {
		return errf("journal ack: %w", err)
	}
	return nil
}

// DeadLetters implements [journal.Journal]: one XRANGE on the group's
// dead letters.
func (j *Journal) DeadLetters(ctx context.Context, group string, n int) ([]journal.Entry, error) {
	switch {
	case group == "":
		return nil, errf("journal dead letters: invalid group: empty")
	case n <= 0:
		return nil, errf("journal dead letters: invalid n: must be positive")
	}
	msgs, err := j.s.rdb.XRangeN(ctx, j.key("dead", group), "-", "+", int64(n)).Result()
	if err != nil {
		return nil, errf("journal dead letters: %w", err)
	}
	out, err := entries(msgs)
	if err != nil {
		return nil, errf("journal dead letters: %w", err)
	}
	return out, nil
}

// redriveScript: KEYS[1] the stream, KEYS[2] the dead letters; ARGV[1]
// MaxLen, then the ids. It returns how many it moved, or -1 when full.
var redriveScript = redis.NewScript(`
local stream, dead = KEYS[1], KEYS[2]
local found = {}
for i = 2, #ARGV do
  local e = redis.call('XRANGE', dead, ARGV[i], ARGV[i])
  if e[1] ~= nil then found[#found + 1] = e[1] end
end
if #found == 0 then return 0 end
if redis.call('XLEN', stream) + #found > tonumber(ARGV[1]) then return -1 end
for _, e in ipairs(found) do
  local f, keep = e[2], {}
  for j = 1, #f, 2 do
    if f[j] == 'n' or f[j] == 'k' or f[j] == 'b' then
      keep[#keep + 1] = f[j]
      keep[#keep + 1] = f[j + 1]
    end
  end
  redis.call('XADD', stream, '*', unpack(keep))
  redis.call('XDEL', dead, e[1])
end
return #found`)

// Redrive implements [journal.Journal]: one script, which moves each
// dead letter found back to the stream and deletes it from the dead
// letters, so that repeating it moves nothing more.
func (j *Journal) Redrive(ctx context.Context, group string, ids []string) error {
	if group == "" {
		return errf("journal redrive: invalid group: empty")
	}
	ids = validIDs(ids)
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 1, 1+len(ids))
	args[0] = j.cfg.MaxLen
	for _, id := range ids {
		args = append(args, id)
	}
	n, err := redriveScript.Run(ctx, j.s.rdb, []string{j.key("entries"), j.key("dead", group)}, args...).Int64()
	switch {
	case err != nil:
		return errf("journal redrive: %w", err)
	case n < 0:
		return journal.ErrFull
	}
	return nil
}

// Replay implements [journal.Journal]: one XRANGE.
func (j *Journal) Replay(ctx context.Context, from, to time.Time, after string, n int) ([]journal.Entry, error) {
	if n <= 0 {
		return nil, errf("journal replay: invalid n: must be positive")
	}
	start := "-"
	if !from.IsZero() {
		start = strconv.FormatInt(max(from.UnixMilli(), 0), 10) + "-0"
	}
	if after != "" {
		a, ok := parseID(after)
		if !ok {
			return nil, errf("journal replay: invalid after: not a journal id")
		}
		if s, _ := parseID(start); start == "-" || s[0] < a[0] || s[0] == a[0] && s[1] <= a[1] {
			start = "(" + after
		}
	}
	end := "+"
	if !to.IsZero() {
		end = strconv.FormatInt(max(to.UnixMilli(), 0), 10)
	}
	msgs, err := j.s.rdb.XRangeN(ctx, j.key("entries"), start, end, int64(n)).Result()
	if err != nil {
		return nil, errf("journal replay: %w", err)
	}
	out, err := entries(msgs)
	if err != nil {
		return nil, errf("journal replay: %w", err)
	}
	return out, nil
}

// CheckDurability reports, as an error wrapping [ErrNotDurable] that
// names the server, when a Redis server (every master of a cluster) runs
// without the append-only file: a restart then loses entries the Handler
// acknowledged, and the consumer groups (which Read recreates, from the
// start of what is left). Call it at start-up and print what it returns;
// an error that is not ErrNotDurable means the check itself failed.
func (j *Journal) CheckDurability(ctx context.Context) error {
	check := func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, "persistence").Result()
		if err != nil {
			return errf("check durability: %w", err)
		}
		for _, line := range strings.Split(info, "\n") {
			if strings.TrimSpace(line) == "aof_enabled:1" {
				return nil
			}
		}
		return fmt.Errorf("%w (server %s)", ErrNotDurable, c.Options().Addr)
	}
	switch c := j.s.rdb.(type) {
	case *redis.Client:
		return check(ctx, c)
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, check)
	}
	return errf("check durability: unsupported client %T", j.s.rdb)
}
