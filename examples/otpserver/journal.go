package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/journal"
	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/redisstore"
)

const (
	// appliedTTL is how long the settler remembers an applied key:
	// longer than the journal's default MaxAge, the window in which an
	// entry can be delivered again.
	appliedTTL = journal.DefaultMaxAge + 24*time.Hour
	// settleBatch is how many entries the settler reads at once.
	settleBatch = 50
	// settlePoll is how long it waits when the journal had nothing new.
	settlePoll = 200 * time.Millisecond
	// settleRetry is how long it waits after a failed read, application
	// or acknowledgement.
	settleRetry = time.Second
)

// consumerName is this instance's name in its consumer group: host,
// process id and a random suffix (several instances may share a host,
// or, in tests, a process).
func consumerName() string {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b)
}

// settler reads the notification journal as a member of a consumer
// group and settles the lifecycle's calls from what it reads: the same
// ObserveStatus and ObserveFee a Handler without a journal calls inside
// the request.
//
// Delivery is at least once (a redelivery after the lease, a redrive).
// The settler applies each entry once by its key: it skips keys it
// recorded as applied (in Redis, for appliedTTL), applies the others,
// records their keys, then acknowledges the batch. A crash between
// applying and recording applies that entry again on redelivery, which
// changes nothing: settling a call is itself idempotent in otp (a
// settled verification stays as it was).
type settler struct {
	j       *redisstore.Journal
	st      *redisstore.Store
	lc      *otp.Lifecycle
	group   string
	name    string
	applied string // key prefix of the applied keys
	log     *slog.Logger
}

func newSettler(j *redisstore.Journal, st *redisstore.Store, lc *otp.Lifecycle, prefix, group string, log *slog.Logger) *settler {
	return &settler{j: j, st: st, lc: lc, group: group, name: consumerName(),
		applied: prefix + "otpserver-applied:" + group + ":", log: log}
}

// run settles until ctx is done: a journal.Consumer with handle as its
// Handle.
func (s *settler) run(ctx context.Context) error {
	c := &journal.Consumer{Journal: s.j, Group: s.group, Name: s.name, Batch: settleBatch, Poll: settlePoll, Retry: settleRetry,
		Handle:  s.handle,
		OnError: func(err error) { s.log.Warn("journal: settling failed, retrying", "group", s.group, "err", err) }}
	return c.Run(ctx)
}

// handle applies a batch (apply) and returns the ids of the entries
// done with.
func (s *settler) handle(ctx context.Context, es []journal.Entry) ([]string, error) {
	ids, applied, repeats, err := s.apply(ctx, es)
	if err != nil {
		return nil, err
	}
	s.log.Info("journal: settled from notifications", "group", s.group, "entries", len(es), "applied", applied, "repeats", repeats)
	return ids, nil
}

// apply applies the entries whose key was not applied before and records
// their keys. It returns the ids of the entries done with (applied now
// or before; an entry whose application failed is left for a
// redelivery), and how many were applied and skipped as repeats.
func (s *settler) apply(ctx context.Context, es []journal.Entry) (ids []string, applied, repeats int, err error) {
	rdb := s.st.Client()
	pipe := rdb.Pipeline()
	seen := make([]func() (int64, error), len(es))
	for i := range es {
		seen[i] = pipe.Exists(ctx, s.applied+es[i].Key.String()).Result
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, 0, 0, fmt.Errorf("reading applied keys: %w", err)
	}
	record := rdb.Pipeline()
	for i := range es {
		e := &es[i]
		if n, _ := seen[i](); n > 0 {
			ids = append(ids, e.ID)
			repeats++
			continue
		}
		if err := s.settle(ctx, e); err != nil {
			s.log.Warn("journal: settling failed, left for a redelivery", "id", e.ID, "err", err)
			continue
		}
		record.Set(ctx, s.applied+e.Key.String(), e.ID, appliedTTL)
		ids = append(ids, e.ID)
		applied++
	}
	if applied > 0 {
		if _, err := record.Exec(ctx); err != nil {
			return nil, 0, 0, fmt.Errorf("recording applied keys: %w", err)
		}
	}
	return ids, applied, repeats, nil
}

// settle feeds one entry to the lifecycle.
func (s *settler) settle(ctx context.Context, e *journal.Entry) error {
	n, err := e.Notification()
	if err != nil {
		// It will never parse: done with, not retried.
		s.log.Warn("journal: entry does not parse, skipped", "id", e.ID)
		return nil
	}
	switch n.Kind {
	case voicecall.NotificationStatus:
		return s.lc.ObserveStatus(ctx, n.Status)
	case voicecall.NotificationFee:
		for i := range n.Fees {
			if err := s.lc.ObserveFee(ctx, &n.Fees[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
