package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
	"github.com/voicecall-go/voicecall/journal"
	"github.com/voicecall-go/voicecall/redisstore"
)

const (
	// printedTTL is how long the consumer remembers a printed key:
	// longer than the journal's default MaxAge, the window in which an
	// entry can be delivered again.
	printedTTL = journal.DefaultMaxAge + 24*time.Hour
	// consumeBatch is how many entries the consumer reads at once.
	consumeBatch = 50
	// consumePoll is how long it waits when the journal had nothing new.
	consumePoll = 200 * time.Millisecond
	// consumeRetry is how long it waits after a failed read, print or
	// acknowledgement.
	consumeRetry = time.Second
)

// openRedis opens the Redis of flag's URL and checks that it answers
// (cli.CheckRedis): a bad URL is a cli.UsageError, an unreachable server an
// error naming the URL's host.
func openRedis(ctx context.Context, flag, rawURL, prefix string) (*redisstore.Store, error) {
	st, err := redisstore.Open(rawURL, redisstore.WithPrefix(prefix))
	if err != nil {
		return nil, cli.Usage(fmt.Errorf("%s: %w", flag, err))
	}
	if err := cli.CheckRedis(ctx, flag, rawURL, func(ctx context.Context) error { return st.Client().Ping(ctx).Err() }); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// journalPrinter reads the journal as a member of a consumer group and
// prints each entry once, in the lines the receiver prints without a
// journal. Delivery is at least once; it prints an entry only when it
// could record the entry's key first (SET NX in Redis, kept printedTTL),
// as examples/consumer does: a crash between the two loses that line. A
// real application applies an entry and records its key in one
// transaction of its own storage instead.
type journalPrinter struct {
	j           *redisstore.Journal
	st          *redisstore.Store
	p           *printer
	group, name string
	printed     string // key prefix of the printed keys

	read, shown, repeats int
}

// run consumes until ctx is done (journal.Consumer, with handle as its
// Handle), then says what it consumed.
func (c *journalPrinter) run(ctx context.Context, host string, stderr io.Writer) error {
	fmt.Fprintf(stderr, "consuming group %s as %s from the journal at %s\n", c.group, c.name, host)
	cons := &journal.Consumer{Journal: c.j, Group: c.group, Name: c.name, Batch: consumeBatch, Poll: consumePoll, Retry: consumeRetry,
		Handle:  c.handle,
		OnError: func(err error) { fmt.Fprintln(stderr, "webhook: consuming the journal:", err) }}
	if err := cons.Run(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "consumed %d entries: printed %d, skipped %d already printed\n", c.read, c.shown, c.repeats)
	return nil
}

// handle prints the entries of es not printed before and returns the
// ids of those it is done with (printed now or before): all of them,
// or, when printing one fails, those before it.
func (c *journalPrinter) handle(ctx context.Context, es []journal.Entry) ([]string, error) {
	pipe := c.st.Client().Pipeline()
	fresh := make([]func() (bool, error), len(es))
	for i := range es {
		fresh[i] = pipe.SetNX(ctx, c.printed+es[i].Key.String(), es[i].ID, printedTTL).Result
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("recording printed keys: %w", err)
	}
	ids := make([]string, 0, len(es))
	for i := range es {
		if isNew, _ := fresh[i](); isNew {
			if err := c.print(ctx, &es[i]); err != nil {
				return ids, err
			}
			c.shown++
		} else {
			c.repeats++
		}
		c.read++
		ids = append(ids, es[i].ID)
	}
	return ids, nil
}

// print prints one entry as the receiver prints a notification.
func (c *journalPrinter) print(ctx context.Context, e *journal.Entry) error {
	n, err := e.Notification()
	if err != nil {
		return c.p.print(unknownLine{Kind: "invalid", Event: "", Bytes: len(e.Body)})
	}
	switch n.Kind {
	case voicecall.NotificationStatus:
		return c.p.status(ctx, n.Status)
	case voicecall.NotificationFee:
		for i := range n.Fees {
			if err := c.p.fee(ctx, &n.Fees[i]); err != nil {
				return err
			}
		}
		return nil
	default:
		return c.p.unknown(ctx, n.Unknown)
	}
}
