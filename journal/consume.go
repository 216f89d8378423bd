package journal

import (
	"context"
	"errors"
	"time"
)

// Defaults of a [Consumer].
const (
	// DefaultBatch is how many entries a Consumer reads at once.
	DefaultBatch = 100
	// DefaultPoll is how long a Consumer waits after a Read that
	// returned nothing.
	DefaultPoll = time.Second
	// DefaultRetry is how long a Consumer waits after a failed Read,
	// Handle or Ack.
	DefaultRetry = 5 * time.Second
)

// Consumer reads a journal as one consumer of a group and hands each
// batch to Handle: the loop every consumer of a [Journal] needs. Read a
// batch, handle it, acknowledge what was handled; read again at once
// after a batch that was not empty, wait Poll after an empty one and
// Retry after a failure; stop when the context is done.
//
// Delivery is at least once (an entry left out of done, or whose Ack
// failed, comes again after the journal's lease): Handle applies an
// entry idempotently, by its Key. Several Consumers (in one process or
// in several) with the same Group and different Names share the group's
// entries. A Consumer starts no goroutine; its fields must not change
// while Run or Once runs.
type Consumer struct {
	// Journal is the journal read; required.
	Journal Journal
	// Group is the consumer group (each group gets every entry) and
	// Name this consumer's name in it (each entry goes to one consumer
	// of the group at a time); both required.
	Group, Name string
	// Batch is how many entries a Read returns at most; 0 means
	// [DefaultBatch].
	Batch int
	// Poll is how long Run waits after a Read that returned nothing;
	// 0 means [DefaultPoll].
	Poll time.Duration
	// Retry is how long Run waits after a failed Read, Handle or Ack;
	// 0 means [DefaultRetry].
	Retry time.Duration
	// Handle handles es and returns the ids of the entries it is done
	// with (handled now or before); they are acknowledged. An entry
	// left out is delivered again after the lease. When Handle returns
	// an error, the ids it returns with it are acknowledged all the
	// same, and the error is reported. Required.
	Handle func(ctx context.Context, es []Entry) (done []string, err error)
	// OnError, when set, is told of every failed Read, Handle or Ack
	// that Run meets (ctx cancellation excluded); Run goes on after
	// Retry. Once does not call it: it returns the error.
	OnError func(error)
}

// check reports the first invalid field of c, naming it.
func (c *Consumer) check() error {
	switch {
	case c.Journal == nil:
		return errf("consumer: invalid Journal: nil")
	case c.Group == "":
		return errf("consumer: invalid Group: empty")
	case c.Name == "":
		return errf("consumer: invalid Name: empty")
	case c.Handle == nil:
		return errf("consumer: invalid Handle: nil")
	case c.Batch < 0:
		return errf("consumer: invalid Batch: must not be negative")
	case c.Poll < 0:
		return errf("consumer: invalid Poll: must not be negative")
	case c.Retry < 0:
		return errf("consumer: invalid Retry: must not be negative")
	}
	return nil
}

// orDefault returns v, or d when v is zero.
func orDefault[T int | time.Duration](v, d T) T {
	if v == 0 {
		return d
	}
	return v
}

// Run consumes until ctx is done and returns nil then; it returns an
// error at once only for an invalid Consumer (naming the field). It
// reads again at once after a batch that was not empty, waits Poll after
// an empty Read and Retry after a failure (told to OnError). Handle and
// Ack get ctx: when it is done in the middle of a batch, what could not
// be acknowledged comes again after the lease.
func (c *Consumer) Run(ctx context.Context) error {
	if err := c.check(); err != nil {
		return err
	}
	poll, retry := orDefault(c.Poll, DefaultPoll), orDefault(c.Retry, DefaultRetry)
	wait := time.NewTimer(0)
	defer wait.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-wait.C:
		}
		n, err := c.once(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			if c.OnError != nil {
				c.OnError(err)
			}
			wait.Reset(retry)
		case n > 0:
			wait.Reset(0)
		default:
			wait.Reset(poll)
		}
	}
}

// Once reads one batch, hands it to Handle and acknowledges the done
// ids; it returns how many entries it read (for programs and tests that
// step the loop). A Handle error is returned (prefixed "journal: handle:")
// after the done ids that came with it were acknowledged; a Read or Ack
// error is returned as the journal gave it, joined to the Handle error
// when both failed.
func (c *Consumer) Once(ctx context.Context) (int, error) {
	if err := c.check(); err != nil {
		return 0, err
	}
	return c.once(ctx)
}

// once is Once on a valid Consumer.
func (c *Consumer) once(ctx context.Context) (int, error) {
	es, err := c.Journal.Read(ctx, c.Group, c.Name, orDefault(c.Batch, DefaultBatch))
	if err != nil || len(es) == 0 {
		return 0, err
	}
	done, err := c.Handle(ctx, es)
	if err != nil {
		err = errf("handle: %w", err)
	}
	if len(done) > 0 {
		if ackErr := c.Journal.Ack(ctx, c.Group, done); ackErr != nil && err != nil {
			err = errors.Join(err, ackErr)
		} else if ackErr != nil {
			err = ackErr
		}
	}
	return len(es), err
}
