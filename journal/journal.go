package journal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voicecall-go/voicecall"
)

// Defaults of a [Journal] (see [Config]).
const (
	// DefaultMaxLen bounds a journal's length: with about 600 bytes per
	// record, 1,000,000 entries are about 600 MB in Redis.
	DefaultMaxLen = 1_000_000

	// DefaultMaxAge is how long an entry every consumer group has
	// acknowledged stays in the journal for [Journal.Replay] and how
	// long a record's idempotency key keeps a second append of it out.
	DefaultMaxAge = 7 * 24 * time.Hour

	// DefaultLease is how long a consumer holds an entry it read without
	// acknowledging it; then another consumer of its group gets it (Svix
	// reclaims after 45 s).
	DefaultLease = time.Minute

	// DefaultMaxAttempts is how many deliveries an entry gets before it
	// goes to its group's dead letters.
	DefaultMaxAttempts = 5

	// DefaultMaxBytes bounds a [Memory] journal's bodies.
	DefaultMaxBytes = 64 << 20
)

// ErrFull is returned by Append (and Redrive) when the journal holds its
// maximum length (or bytes) even after trimming the entries every
// consumer group has acknowledged. The [voicecall.Handler] answers 503,
// so that the platform pushes again (CDRs) and nothing is dropped
// silently.
var ErrFull = errors.New("journal: full")

// errf returns an error prefixed with the package's name.
func errf(format string, args ...any) error { return fmt.Errorf("journal: "+format, args...) }

// Entry (what consumers read, and for store implementers) is a record
// as stored in a [Journal].
type Entry struct {
	voicecall.JournalRecord
	// ID is the entry's id in the journal: "<milliseconds>-<sequence>",
	// as in Redis Streams, increasing in append order.
	ID string
	// Time is when the entry was appended, to the millisecond, by the
	// journal's clock.
	Time time.Time
	// Attempts is how many times the entry was delivered to the group,
	// this delivery included (for a dead letter, how many deliveries it
	// had); 0 in [Journal.Replay].
	Attempts int
}

// Notification parses the entry's body.
func (e *Entry) Notification() (voicecall.Notification, error) {
	return voicecall.ParseNotification(e.Body)
}

// Config configures a journal (the in-memory one and the Redis one
// alike). Zero values take the defaults.
type Config struct {
	// MaxLen bounds the entries; 0 means [DefaultMaxLen]. An append that
	// would go beyond first trims the entries every group has
	// acknowledged, then fails with [ErrFull].
	MaxLen int64
	// MaxAge is how long entries every group has acknowledged stay (for
	// Replay), and how long an appended key keeps a copy of its record
	// out; 0 means [DefaultMaxAge]. Entries not yet acknowledged by
	// every group are never trimmed.
	MaxAge time.Duration
	// Lease is how long a consumer holds an entry it read before another
	// consumer of its group may read it; 0 means [DefaultLease].
	Lease time.Duration
	// MaxAttempts is how many deliveries an entry gets before it goes to
	// its group's dead letters; 0 means [DefaultMaxAttempts].
	MaxAttempts int
	// MaxBytes bounds the bodies a [Memory] journal holds; 0 means
	// [DefaultMaxBytes]. A Redis journal is bounded in bytes by Redis's
	// maxmemory (with the noeviction policy, an append beyond it fails,
	// and the Handler answers 503).
	MaxBytes int64
}

// WithDefaults returns c with every zero field set to its default. It
// fails, naming the field, when a field is negative.
func (c Config) WithDefaults() (Config, error) {
	switch {
	case c.MaxLen < 0:
		return c, errf("invalid MaxLen: must not be negative")
	case c.MaxAge < 0:
		return c, errf("invalid MaxAge: must not be negative")
	case c.Lease < 0:
		return c, errf("invalid Lease: must not be negative")
	case c.MaxAttempts < 0:
		return c, errf("invalid MaxAttempts: must not be negative")
	case c.MaxBytes < 0:
		return c, errf("invalid MaxBytes: must not be negative")
	}
	if c.MaxLen == 0 {
		c.MaxLen = DefaultMaxLen
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.Lease == 0 {
		c.Lease = DefaultLease
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	return c, nil
}

// Journal is the full journal: the Append a [voicecall.Handler] calls
// (see [voicecall.HandlerConfig].Journal), and the consumer side.
// Implementations must be safe for concurrent use by several processes
// (the Redis one is in the redisstore module) and pass
// storetest.RunJournalTests.
//
// A consumer loop ([Consumer] runs it, with poll and retry waits):
//
//	for {
//		entries, err := j.Read(ctx, "billing", "worker-1", 50)
//		// handle err, wait when entries is empty
//		for _, e := range entries {
//			// apply e once, keyed by e.Key (say, INSERT ... ON CONFLICT DO NOTHING)
//		}
//		err = j.Ack(ctx, "billing", ids(entries))
//	}
//
// Each group gets every entry; within a group, each entry goes to one
// consumer at a time. An entry read and not acknowledged within the
// lease goes to the next Read of any consumer of the group (its consumer
// died or is stuck); after MaxAttempts deliveries it goes to the group's
// dead letters instead, which [Journal.DeadLetters] lists and
// [Journal.Redrive] appends again. Delivery is at least once: apply an
// entry idempotently, by its Key.
type Journal interface {
	// Append stores recs, all or none, before returning nil (see
	// [voicecall.Journal]); it fails with [ErrFull] when the journal is
	// full.
	voicecall.Journal

	// Read returns up to n entries for consumer in group, first those
	// whose lease expired (their Attempts grown by one), then entries
	// the group has not seen, oldest first. It creates the group when
	// missing (at the start of the journal, so a new group, or a group
	// lost with a Redis restart, gets every entry still held). Entries
	// delivered MaxAttempts times whose lease expired go to the group's
	// dead letters instead.
	Read(ctx context.Context, group, consumer string, n int) ([]Entry, error)

	// Ack marks the entries of group with ids as done; unknown ids, ids
	// acknowledged before and a missing group are ignored.
	Ack(ctx context.Context, group string, ids []string) error

	// DeadLetters returns up to n of group's dead letters, oldest first;
	// their ID is their id among the dead letters.
	DeadLetters(ctx context.Context, group string, n int) ([]Entry, error)

	// Redrive appends group's dead letters with ids to the journal
	// again (with new ids; every group gets them, and applies them once
	// by their key) and removes them from the dead letters. Unknown ids
	// are ignored, so repeating a Redrive is safe.
	Redrive(ctx context.Context, group string, ids []string) error

	// Replay returns up to n entries appended between from and to
	// (inclusive, to the millisecond; a zero to means no end), after the
	// entry with id after when it is not empty, oldest first, whether
	// delivered or not. Page by passing the last ID returned as after.
	Replay(ctx context.Context, from, to time.Time, after string, n int) ([]Entry, error)
}
