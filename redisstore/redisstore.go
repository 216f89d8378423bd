// Package redisstore keeps the SDK's shared state on Redis, so that
// several instances of an application (behind a load balancer, or one
// after another across restarts) act as one: the verification-code
// lifecycle's store ([otp.Store]), the notification receiver's CDR
// de-duplication and correlation stores, and the notification journal
// ([Journal], a Redis Stream with consumer groups).
//
//	st, err := redisstore.Open("redis://localhost:6379/0")
//	lc, err := otp.New(otp.Config{..., Store: st.OTPStore()})
//
// Every store runs on a single Redis server (a primary with replicas, or
// Sentinel) and on Redis Cluster (give [New] a redis.ClusterClient) with
// the same code: every Lua script passes its keys in KEYS and touches
// the keys of one hash tag only, so one slot. The de-duplication store's
// keys share one tag (on a cluster they live on one node), the
// correlation store's scripts touch one key each, and the journal's keys
// share one tag. The otp store keeps the reservation, the verification,
// the number's state and each counter under tags of their own, and takes
// what one script cannot do across slots in steps sent together in one
// pipeline (see [OTPStore]). Scripts run with EVALSHA (the first use of
// a script on a server costs one more round trip, to load it), and each
// is safe to repeat. TTLs are Redis's own (PEXPIRE), so instances need no
// synchronised clocks.
//
// Keys start with a prefix (default "voicecall:"); phone numbers and
// codes never reach Redis, only the keyed hashes and MACs of package otp.
// Data lost by Redis (a restart without persistence, an eviction) weakens
// what it guarded: run it with persistence and a noeviction policy when
// that matters.
package redisstore

import (
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key the stores write.
const DefaultPrefix = "voicecall:"

// Store gives access to the stores on one Redis. It is safe for
// concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	owned  bool
}

// Option configures a [Store].
type Option func(*Store)

// WithPrefix sets the prefix of every key (default [DefaultPrefix]), so
// that several applications can share one Redis.
func WithPrefix(p string) Option { return func(s *Store) { s.prefix = p } }

// Open connects to the Redis at url, a redis:// or rediss:// URL such as
// "redis://user:password@localhost:6379/0" (see go-redis's ParseURL for
// the query options). It does not dial until the first operation. Close
// the Store when done.
func Open(url string, opts ...Option) (*Store, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, errf("open: invalid Redis URL: %w", stripURL(err))
	}
	s := New(redis.NewClient(o), opts...)
	s.owned = true
	return s, nil
}

// New returns a Store on a client the caller built and keeps owning.
func New(rdb redis.UniversalClient, opts ...Option) *Store {
	s := &Store{rdb: rdb, prefix: DefaultPrefix}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Client returns the go-redis client the Store uses.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Close closes the client if [Open] created it.
func (s *Store) Close() error {
	if s.owned {
		return s.rdb.Close()
	}
	return nil
}
