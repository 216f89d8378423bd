package journal_test

import (
	"context"
	"fmt"
	"log"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/journal"
)

// A Consumer reads a journal as a member of a group, hands each batch to
// Handle and acknowledges what Handle is done with, until ctx is done.
func ExampleConsumer() {
	j, err := journal.NewMemory(journal.Config{})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// What a Handler with HandlerConfig.Journal appends: here, two records.
	_ = j.Append(ctx, []voicecall.JournalRecord{
		{Kind: voicecall.NotificationUnknown, Key: voicecall.DedupKey{1}, Body: []byte(`{"eventType":"a"}`)},
		{Kind: voicecall.NotificationUnknown, Key: voicecall.DedupKey{2}, Body: []byte(`{"eventType":"b"}`)},
	})
	handled := 0
	c := &journal.Consumer{
		Journal: j,
		Group:   "billing",
		Name:    "worker-1",
		Handle: func(ctx context.Context, es []journal.Entry) ([]string, error) {
			var done []string
			for _, e := range es {
				// Apply e once by e.Key (say, INSERT ... ON CONFLICT DO
				// NOTHING in the transaction that applies it).
				fmt.Printf("%s (attempt %d)\n", e.Body, e.Attempts)
				done = append(done, e.ID)
			}
			if handled += len(es); handled == 2 {
				cancel() // a program stops on a signal instead
			}
			return done, nil
		},
		OnError: func(err error) { log.Print(err) },
	}
	if err := c.Run(ctx); err != nil {
		log.Fatal(err) // only an invalid Consumer
	}
	// Output:
	// {"eventType":"a"} (attempt 1)
	// {"eventType":"b"} (attempt 1)
}
