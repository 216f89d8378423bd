// Command consumer reads the notification journal that receivers fill
// (a [voicecall.Handler] with [voicecall.HandlerConfig].Journal set to
// the Redis journal of module redisstore) as a member of a consumer
// group, and prints one JSON object per line on stdout for each status
// event, each CDR and each event of an unknown type, once:
//
//	go run ./examples/consumer -redis redis://localhost:6379/0 -group printer
//
// Every instance started with the same -redis, -redis-prefix and -group
// shares the work: each entry goes to one of them, and goes to another
// when its consumer dies before acknowledging it (after the journal's
// lease, -lease). Delivery is at least once; the program prints each
// entry once by its idempotency key: before printing, it records the key
// in Redis (SET NX, kept 8 days) and prints only when the key was new.
// A crash between the two loses that one line. A real application
// applies an entry and records its key in one transaction of its own
// storage instead (say, INSERT ... ON CONFLICT DO NOTHING), which is
// exactly once.
//
// Every line has "id" (the journal entry's id), "key" (the idempotency
// key), "kind" ("status", "fee" or "unknown"), "event", "sessionId" and
// "attempts" (deliveries so far), then a few fields of the event. Phone
// numbers are masked to their last four digits.
//
// At start it prints on stderr "consuming group G as C", and a warning
// when Redis runs without the append-only file (a restart would lose
// what the receivers acknowledged). It stops on SIGINT or SIGTERM after
// the batch in hand. Exit status: 0 after a stop, 1 when it cannot run,
// 2 bad usage.
//
// This example is a module of its own (it imports go-redis through
// redisstore); the repository's go.work lets "go run ./examples/consumer"
// work from the repository's root.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
	"github.com/voicecall-go/voicecall/journal"
	"github.com/voicecall-go/voicecall/redisstore"
)

// printedTTL is how long the program remembers a printed key: longer
// than the journal's default MaxAge, the window in which an entry can be
// delivered again.
const printedTTL = journal.DefaultMaxAge + 24*time.Hour

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.Exit("consumer", err, os.Stderr))
}

// run consumes until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("consumer", "consumer -redis URL [-group NAME] [-consumer NAME] [flags]",
		"none (the journal's Redis is given with -redis)", stderr)
	host, _ := os.Hostname()
	redisURL := fs.String("redis", "", "redis:// URL of the Redis server of the journal (required)")
	prefix := fs.String("redis-prefix", redisstore.DefaultPrefix, "prefix of the Redis keys, as given to the receivers")
	group := fs.String("group", "printer", "consumer group: every group gets every entry")
	consumer := fs.String("consumer", host+"-"+strconv.Itoa(os.Getpid()), "this instance's name in the group")
	batch := fs.Int("batch", 50, "most entries read at once")
	poll := fs.Duration("poll", 200*time.Millisecond, "wait before reading again when nothing is new")
	lease := fs.Duration("lease", journal.DefaultLease, "how long an entry read stays with this instance before another may take it")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return cli.Usage(err)
	}
	switch {
	case fs.NArg() > 0:
		return cli.Usage(fmt.Errorf("unexpected arguments: %q", fs.Args()))
	case *redisURL == "":
		return cli.Usage(errors.New("-redis is required"))
	case *group == "", *consumer == "":
		return cli.Usage(errors.New("-group and -consumer must not be empty"))
	case *batch < 1, *poll <= 0, *lease <= 0:
		return cli.Usage(errors.New("-batch, -poll and -lease must be positive"))
	}
	st, err := redisstore.Open(*redisURL, redisstore.WithPrefix(*prefix))
	if err != nil {
		return cli.Usage(err)
	}
	defer st.Close()
	j, err := st.Journal(journal.Config{Lease: *lease})
	if err != nil {
		return cli.Usage(err)
	}
	fmt.Fprintf(stderr, "consuming group %s as %s\n", *group, *consumer)
	if err := j.CheckDurability(ctx); err != nil {
		fmt.Fprintln(stderr, "consumer: warning:", err)
	}
	p := &linePrinter{st: st, out: stdout, printed: *prefix + "example-consumer:" + *group + ":"}
	c := &journal.Consumer{Journal: j, Group: *group, Name: *consumer, Batch: *batch, Poll: *poll,
		Retry:   *poll, // after a failure too, as before journal.Consumer
		Handle:  p.handle,
		OnError: func(err error) { fmt.Fprintln(stderr, "consumer:", err) }}
	return c.Run(ctx)
}

// linePrinter is the consumer's Handle: it prints each entry once.
type linePrinter struct {
	st      *redisstore.Store
	out     io.Writer
	printed string // key prefix of the idempotency set
}

// handle prints the entries of es not printed before and returns the
// ids of those it is done with (printed now or before): all of them,
// or, when printing one fails, those before it.
func (c *linePrinter) handle(ctx context.Context, es []journal.Entry) ([]string, error) {
	// One round trip: SET NX of every key of the batch.
	pipe := c.st.Client().Pipeline()
	fresh := make([]func() (bool, error), len(es))
	for i, e := range es {
		fresh[i] = pipe.SetNX(ctx, c.printed+e.Key.String(), e.ID, printedTTL).Result
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("recording printed keys: %w", err)
	}
	ids := make([]string, 0, len(es))
	for i := range es {
		if isNew, _ := fresh[i](); isNew {
			if err := c.print(&es[i]); err != nil {
				return ids, err
			}
		}
		ids = append(ids, es[i].ID)
	}
	return ids, nil
}

type line struct {
	ID        string `json:"id"`
	Key       string `json:"key"`
	Kind      string `json:"kind"`
	Event     string `json:"event"`
	SessionID string `json:"sessionId,omitempty"`
	Attempts  int    `json:"attempts"`
	Appended  string `json:"appended"`
	Called    string `json:"called,omitempty"`
	StateCode *int   `json:"stateCode,omitempty"`
	ICID      string `json:"icid,omitempty"`
	CalleeNum string `json:"calleeNum,omitempty"`
	Answered  *bool  `json:"answered,omitempty"`
	Seconds   *int   `json:"callSeconds,omitempty"`
	Invalid   string `json:"invalid,omitempty"`
}

// print prints one entry's line.
func (c *linePrinter) print(e *journal.Entry) error {
	l := line{ID: e.ID, Key: e.Key.String(), Kind: e.Kind.String(), Attempts: e.Attempts, Appended: e.Time.UTC().Format(time.RFC3339Nano)}
	n, err := e.Notification()
	switch {
	case err != nil:
		l.Invalid = "body does not parse"
	case n.Kind == voicecall.NotificationStatus:
		ev := n.Status
		l.Event, l.SessionID, l.Called = string(ev.Type), ev.SessionID, voicecall.MaskNumber(ev.Called)
		if ev.HasStateCode {
			code := int(ev.StateCode)
			l.StateCode = &code
		}
	case n.Kind == voicecall.NotificationFee && len(n.Fees) == 1:
		r := &n.Fees[0]
		answered, secs := r.Answered(), int(r.CallDuration().Seconds())
		l.Event, l.SessionID, l.ICID, l.CalleeNum = string(voicecall.EventFee), r.SessionID, r.ICID, voicecall.MaskNumber(r.CalleeNum)
		l.Answered, l.Seconds = &answered, &secs
	case n.Kind == voicecall.NotificationUnknown:
		l.Event = string(n.Unknown.Type)
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	_, err = c.out.Write(append(b, '\n'))
	return err
}
