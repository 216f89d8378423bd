package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/voicecall-go/voicecall"
)

// CorrelationStore is the Redis [voicecall.CorrelationStore]: one hash
// per call, keyed by a hash of its userData, merged by a script that
// applies [voicecall.CallSighting.Merge]'s rules (the conformance suite
// checks that it agrees with Merge). Each Observe is one script touching
// one key, and safe to repeat: it carries an operation ID that the hash
// remembers, so a run re-sent by go-redis after a lost or late reply
// changes nothing. Get it from [Store.CorrelationStore].
type CorrelationStore struct {
	s   *Store
	ttl time.Duration
}

var _ voicecall.CorrelationStore = (*CorrelationStore)(nil)

// CorrelationStore returns the [voicecall.CorrelationStore] on s: a call
// is remembered for ttl after its last notification (<= 0 means
// [voicecall.DefaultCorrelationTTL], 24 hours).
func (s *Store) CorrelationStore(ttl time.Duration) *CorrelationStore {
	if ttl <= 0 {
		ttl = voicecall.DefaultCorrelationTTL
	}
	return &CorrelationStore{s: s, ttl: ttl}
}

// observeScript: KEYS = the call's hash; ARGV = sid, ev, ans, cdr, sc,
// hsc, fs, ls, ttl ms, operation ID (16 hex digits). Times are 20-digit
// Unix nanoseconds, "" when unknown. The hash keeps the IDs of its last
// four operations in "ops": an operation found there (a run re-sent by
// go-redis after a lost or late reply) changes nothing and returns the
// state as it is, so that it has the effect of one run even when another
// Observe came in between (merging the same sighting twice is harmless,
// but a re-sent sighting of an older session would replace a newer one).
var observeScript = redis.NewScript(`
local rank = {callout = 1, alerting = 2, answer = 3, collectInfo = 4, disconnect = 5, fee = 6}
local function rk(e) return rank[e] or 0 end
local function before(a, b)
  local ah, bh = tonumber(string.sub(a, 1, 10)), tonumber(string.sub(b, 1, 10))
  if ah ~= bh then return ah < bh end
  return tonumber(string.sub(a, 11)) < tonumber(string.sub(b, 11))
end
local sid, ev, ans, cdr, sc, hsc, fs, ls = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local old = redis.call('HMGET', KEYS[1], 'sid', 'ev', 'ans', 'cdr', 'sc', 'hsc', 'fs', 'ls', 'ops')
local op, ops = ARGV[10], old[9] or ''
for i = 1, #ops, 16 do
  if string.sub(ops, i, i + 15) == op then
    return {old[1], old[2], old[3], old[4], old[5], old[6], old[7], old[8]}
  end
end
ops = string.sub(op .. ops, 1, 64)
if old[1] and old[1] == sid then
  if not (rk(ev) > rk(old[2])) then ev = old[2] end
  if old[3] == '1' then ans = '1' end
  if old[4] == '1' then cdr = '1' end
  if hsc ~= '1' then sc, hsc = old[5], old[6] end
  local ofs = old[7]
  if not (ofs == '' or (fs ~= '' and before(fs, ofs))) then fs = ofs end
  local ols = old[8]
  if not (ls ~= '' and (ols == '' or before(ols, ls))) then ls = ols end
end
redis.call('HSET', KEYS[1], 'sid', sid, 'ev', ev, 'ans', ans, 'cdr', cdr, 'sc', sc, 'hsc', hsc, 'fs', fs, 'ls', ls, 'ops', ops)
redis.call('PEXPIRE', KEYS[1], ARGV[9])
return {sid, ev, ans, cdr, sc, hsc, fs, ls}`)

var sightingFields = []string{"sid", "ev", "ans", "cdr", "sc", "hsc", "fs", "ls"}

func (c *CorrelationStore) key(userData string) string {
	sum := sha256.Sum256([]byte(userData))
	return c.s.prefix + "corr:" + hex.EncodeToString(sum[:16])
}

// Observe implements [voicecall.CorrelationStore].
func (c *CorrelationStore) Observe(ctx context.Context, s voicecall.CallSighting) (voicecall.CallSighting, error) {
	s.SessionID = boundedID(s.SessionID)
	s.LastEvent = voicecall.EventType(boundedID(string(s.LastEvent)))
	var op [8]byte
	if _, err := rand.Read(op[:]); err != nil {
		return voicecall.CallSighting{}, errf("correlation observe: %w", err)
	}
	return c.observe(ctx, s, hex.EncodeToString(op[:]))
}

// observe runs Observe as operation op (16 hex digits).
func (c *CorrelationStore) observe(ctx context.Context, s voicecall.CallSighting, op string) (voicecall.CallSighting, error) {
	v, err := observeScript.Run(ctx, c.s.rdb, []string{c.key(s.UserData)},
		s.SessionID, string(s.LastEvent), flag(s.Answered), flag(s.HasCDR), strconv.Itoa(int(s.StateCode)), flag(s.HasStateCode),
		encodeTime(s.FirstSeen), encodeTime(s.LastSeen), ms(c.ttl), op).StringSlice()
	if err != nil {
		return voicecall.CallSighting{}, errf("correlation observe: %w", err)
	}
	out, err := decodeSighting(s.UserData, v)
	if err != nil {
		return voicecall.CallSighting{}, errf("correlation observe: %w", err)
	}
	return out, nil
}

// Lookup implements [voicecall.CorrelationStore].
func (c *CorrelationStore) Lookup(ctx context.Context, userData string) (voicecall.CallSighting, bool, error) {
	vals, err := c.s.rdb.HMGet(ctx, c.key(userData), sightingFields...).Result()
	if err != nil {
		return voicecall.CallSighting{}, false, errf("correlation lookup: %w", err)
	}
	if len(vals) != len(sightingFields) || vals[0] == nil {
		return voicecall.CallSighting{}, false, nil
	}
	v := make([]string, len(vals))
	for i, x := range vals {
		v[i], _ = x.(string)
	}
	s, err := decodeSighting(userData, v)
	if err != nil {
		return voicecall.CallSighting{}, false, errf("correlation lookup: %w", err)
	}
	return s, true, nil
}

func decodeSighting(userData string, v []string) (voicecall.CallSighting, error) {
	if len(v) != len(sightingFields) {
		return voicecall.CallSighting{}, fmt.Errorf("unexpected reply of %d values", len(v))
	}
	sc, err := strconv.Atoi(v[4])
	if err != nil {
		return voicecall.CallSighting{}, errors.New("stored stateCode is not an integer")
	}
	fs, err1 := decodeTime(v[6])
	ls, err2 := decodeTime(v[7])
	if err := errors.Join(err1, err2); err != nil {
		return voicecall.CallSighting{}, err
	}
	return voicecall.CallSighting{
		UserData:     userData,
		SessionID:    v[0],
		LastEvent:    voicecall.EventType(v[1]),
		Answered:     v[2] == "1",
		HasCDR:       v[3] == "1",
		StateCode:    voicecall.StateCode(sc),
		HasStateCode: v[5] == "1",
		FirstSeen:    fs,
		LastSeen:     ls,
	}, nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// encodeTime writes t as 20 digits of Unix nanoseconds ("" for the zero
// time; times before 1970 count as 1970).
func encodeTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprintf("%020d", max(t.UnixNano(), 0))
}

func decodeTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, errors.New("stored time is not an integer")
	}
	return time.Unix(0, n), nil
}

// maxIDLen bounds the sessionId and event type kept verbatim, as the
// core's CorrelationIndex does: a longer one is kept as "sha256:" and
// the first 32 hex digits of its SHA-256.
const maxIDLen = 256

func boundedID(id string) string {
	if len(id) <= maxIDLen {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:16])
}
