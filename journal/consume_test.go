package journal_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/internal/fakeclock"
	"github.com/voicecall-go/voicecall/journal"
)

// newClock returns the clock a test's Memory reads (journal.SetClock).
func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }

// filled returns a Memory on clk holding n records with bodies "0", "1"...
func filled(t *testing.T, clk *fakeclock.Clock, n int) *journal.Memory {
	t.Helper()
	j, err := journal.NewMemory(journal.Config{})
	require.NoError(t, err)
	journal.SetClock(j, clk.Now)
	appendN(t, j, 0, n)
	return j
}

// appendN appends records from..to-1 (body: the number).
func appendN(t *testing.T, j journal.Journal, from, to int) {
	t.Helper()
	recs := make([]voicecall.JournalRecord, 0, to-from)
	for i := from; i < to; i++ {
		recs = append(recs, voicecall.JournalRecord{Kind: voicecall.NotificationUnknown, Key: voicecall.DedupKey{byte(i), 1}, Body: []byte(strconv.Itoa(i))})
	}
	require.NoError(t, j.Append(context.Background(), recs))
}

func ids(es []journal.Entry) []string {
	out := make([]string, len(es))
	for i := range es {
		out[i] = es[i].ID
	}
	return out
}

func bodies(es []journal.Entry) []string {
	out := make([]string, len(es))
	for i := range es {
		out[i] = string(es[i].Body)
	}
	return out
}

// TestConsumerAcks: Once hands each batch to Handle and acknowledges the
// done ids: the group gets nothing more, even after the lease, while
// another group still gets every entry.
func TestConsumerAcks(t *testing.T) {
	t.Parallel()
	clk := newClock()
	j := filled(t, clk, 5)
	var got []string
	c := &journal.Consumer{Journal: j, Group: "g", Name: "a", Batch: 2,
		Handle: func(_ context.Context, es []journal.Entry) ([]string, error) {
			got = append(got, bodies(es)...)
			return ids(es), nil
		}}
	ctx := context.Background()
	for _, want := range []int{2, 2, 1, 0} {
		n, err := c.Once(ctx)
		require.NoError(t, err)
		require.Equal(t, want, n)
	}
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, got, "each entry handed once, in order")

	clk.Add(journal.DefaultLease + time.Second)
	c.Name = "b"
	n, err := c.Once(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "acknowledged: not delivered again after the lease")

	got = nil
	other := &journal.Consumer{Journal: j, Group: "h", Name: "a", Handle: c.Handle}
	n, err = other.Once(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, n, "another group gets every entry (Batch 0 reads up to 100)")
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, got)
}

// TestConsumerLeftOut: an entry left out of done is delivered again
// after the lease, and only then.
func TestConsumerLeftOut(t *testing.T) {
	t.Parallel()
	clk := newClock()
	j := filled(t, clk, 4)
	var got []journal.Entry
	c := &journal.Consumer{Journal: j, Group: "g", Name: "a",
		Handle: func(_ context.Context, es []journal.Entry) ([]string, error) {
			got = append(got, es...)
			var done []string
			for _, e := range es {
				if e.Attempts > 1 || string(e.Body) == "0" || string(e.Body) == "2" {
					done = append(done, e.ID)
				}
			}
			return done, nil
		}}
	ctx := context.Background()
	n, err := c.Once(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	n, err = c.Once(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "the left-out entries are held by the lease")

	clk.Add(journal.DefaultLease)
	got = nil
	n, err = c.Once(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	assert.Equal(t, []string{"1", "3"}, bodies(got), "the entries left out come again")
	assert.Equal(t, []int{2, 2}, []int{got[0].Attempts, got[1].Attempts})

	clk.Add(journal.DefaultLease)
	n, err = c.Once(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "done the second time: acknowledged")
}

// runConsumer runs c in a goroutine and returns what Run returns, on a
// channel.
func runConsumer(ctx context.Context, c *journal.Consumer) <-chan error {
	res := make(chan error, 1)
	go func() { res <- c.Run(ctx) }()
	return res
}

// wait returns what Run returned, failing the test after 10 s.
func wait(t *testing.T, res <-chan error) error {
	t.Helper()
	select {
	case err := <-res:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// TestConsumerRun: Run reads again at once after a batch that was not
// empty (a Poll of an hour is never waited while entries remain), polls
// an empty journal every Poll, and returns nil once ctx is cancelled.
func TestConsumerRun(t *testing.T) {
	t.Parallel()
	clk := newClock()
	j := filled(t, clk, 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []string
	c := &journal.Consumer{Journal: j, Group: "g", Name: "a", Batch: 2, Poll: time.Hour,
		Handle: func(_ context.Context, es []journal.Entry) ([]string, error) {
			got = append(got, bodies(es)...)
			if len(got) == 5 {
				cancel()
			}
			return ids(es), nil
		},
		OnError: func(err error) { t.Errorf("OnError(%v)", err) }}
	require.NoError(t, wait(t, runConsumer(ctx, c)))
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, got, "three batches, without waiting Poll")

	// An empty journal is polled every Poll: after empty Reads, an entry
	// appended later is handled.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	w := &wrapped{Memory: j, reads: make(chan int, 100)}
	handled := make(chan string, 1)
	c = &journal.Consumer{Journal: w, Group: "g", Name: "a", Poll: time.Millisecond,
		Handle: func(_ context.Context, es []journal.Entry) ([]string, error) {
			handled <- string(es[0].Body)
			cancel()
			return ids(es), nil
		}}
	res := runConsumer(ctx, c)
	for range 2 {
		select {
		case n := <-w.reads:
			require.Zero(t, n)
		case <-time.After(10 * time.Second):
			t.Fatal("Run does not read an empty journal again")
		}
	}
	appendN(t, j, 5, 6)
	select {
	case b := <-handled:
		assert.Equal(t, "5", b)
	case <-time.After(10 * time.Second):
		t.Fatal("the entry appended while Run polled was not handled")
	}
	require.NoError(t, wait(t, res))

	// A cancelled context: nil at once, nothing read.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	appendN(t, j, 6, 7)
	c.Handle = func(context.Context, []journal.Entry) ([]string, error) {
		t.Error("Handle called after ctx was cancelled")
		return nil, nil
	}
	require.NoError(t, wait(t, runConsumer(ctx, c)))
}

// TestConsumerHandleError: OnError is told of a Handle error, the done
// ids returned with it are acknowledged all the same, the entries left
// out come again after the lease, and the loop goes on (after Retry).
func TestConsumerHandleError(t *testing.T) {
	t.Parallel()
	clk := newClock()
	j := filled(t, clk, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	boom := errors.New("storage down")
	var errs []error
	seen := map[string]int{}
	calls := 0
	c := &journal.Consumer{Journal: j, Group: "g", Name: "a", Batch: 2, Retry: time.Millisecond, Poll: time.Millisecond,
		Handle: func(_ context.Context, es []journal.Entry) ([]string, error) {
			calls++
			for _, e := range es {
				seen[string(e.Body)]++
			}
			switch calls {
			case 1: // "0" done, "1" failed
				return []string{es[0].ID}, boom
			case 2: // "2" and "3"; then the lease of "1" runs out
				clk.Add(journal.DefaultLease)
			default:
				cancel()
			}
			return ids(es), nil
		},
		OnError: func(err error) { errs = append(errs, err) }}
	require.NoError(t, wait(t, runConsumer(ctx, c)))
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], boom)
	assert.EqualError(t, errs[0], "journal: handle: storage down")
	assert.Equal(t, map[string]int{"0": 1, "1": 2, "2": 1, "3": 1}, seen,
		`"0" was acknowledged with the error; "1" came again after the lease`)
	assert.Equal(t, 3, calls)
}

// wrapped is a Memory whose next Read or Ack fails when readErr or
// ackErr is set, and that sends how many entries each Read returned on
// reads when set. It is used by one goroutine at a time.
type wrapped struct {
	*journal.Memory
	readErr, ackErr error
	reads           chan int
}

func (f *wrapped) Read(ctx context.Context, group, consumer string, n int) ([]journal.Entry, error) {
	if err := f.readErr; err != nil {
		f.readErr = nil
		return nil, err
	}
	es, err := f.Memory.Read(ctx, group, consumer, n)
	if f.reads != nil && err == nil {
		select {
		case f.reads <- len(es):
		default:
		}
	}
	return es, err
}

func (f *wrapped) Ack(ctx context.Context, group string, ids []string) error {
	if err := f.ackErr; err != nil {
		f.ackErr = nil
		return err
	}
	return f.Memory.Ack(ctx, group, ids)
}

// TestConsumerJournalErrors: a failed Read and a failed Ack reach
// OnError as the journal gave them, and the loop goes on: the batch
// whose Ack failed comes again after the lease.
func TestConsumerJournalErrors(t *testing.T) {
	t.Parallel()
	clk := newClock()
	readErr, ackErr := errors.New("read failed"), errors.New("ack failed")
	j := &wrapped{Memory: filled(t, clk, 2), readErr: readErr, ackErr: ackErr}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errs []error
	var got []string
	c := &journal.Consumer{Journal: j, Group: "g", Name: "a", Retry: time.Millisecond, Poll: time.Millisecond,
		Handle: func(_ context.Context, es []journal.Entry) ([]string, error) {
			got = append(got, bodies(es)...)
			if len(got) == 4 {
				cancel()
			}
			return ids(es), nil
		},
		OnError: func(err error) {
			errs = append(errs, err)
			clk.Add(journal.DefaultLease) // the failed Ack's entries come again
		}}
	require.NoError(t, wait(t, runConsumer(ctx, c)))
	assert.Equal(t, []error{readErr, ackErr}, errs)
	assert.Equal(t, []string{"0", "1", "0", "1"}, got, "not acknowledged: delivered again")
}

// TestConsumerInvalid: Run and Once refuse an invalid Consumer at once,
// naming the field.
func TestConsumerInvalid(t *testing.T) {
	t.Parallel()
	j, err := journal.NewMemory(journal.Config{})
	require.NoError(t, err)
	handle := func(context.Context, []journal.Entry) ([]string, error) { return nil, nil }
	valid := journal.Consumer{Journal: j, Group: "g", Name: "a", Handle: handle}
	for field, change := range map[string]func(c *journal.Consumer){
		"Journal": func(c *journal.Consumer) { c.Journal = nil },
		"Group":   func(c *journal.Consumer) { c.Group = "" },
		"Name":    func(c *journal.Consumer) { c.Name = "" },
		"Handle":  func(c *journal.Consumer) { c.Handle = nil },
		"Batch":   func(c *journal.Consumer) { c.Batch = -1 },
		"Poll":    func(c *journal.Consumer) { c.Poll = -1 },
		"Retry":   func(c *journal.Consumer) { c.Retry = -1 },
	} {
		c := valid
		change(&c)
		err := wait(t, runConsumer(context.Background(), &c))
		if assert.Error(t, err, field) {
			assert.Contains(t, err.Error(), "journal: consumer: invalid "+field+":")
		}
		_, err = c.Once(context.Background())
		if assert.Error(t, err, field) {
			assert.Contains(t, err.Error(), "invalid "+field+":")
		}
	}
}

// TestConsumerHandleAndAckErrors: when Handle fails and the Ack of the
// ids it returned fails too, Once returns both.
func TestConsumerHandleAndAckErrors(t *testing.T) {
	t.Parallel()
	boom, ackErr := errors.New("storage down"), errors.New("ack failed")
	j := &wrapped{Memory: filled(t, newClock(), 2), ackErr: ackErr}
	c := &journal.Consumer{Journal: j, Group: "g", Name: "a",
		Handle: func(_ context.Context, es []journal.Entry) ([]string, error) { return ids(es[:1]), boom }}
	n, err := c.Once(context.Background())
	assert.Equal(t, 2, n, "Once counts the entries read")
	assert.ErrorIs(t, err, boom)
	assert.ErrorIs(t, err, ackErr)
}
