package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/journal"
)

// JournalRecordsForTest returns n records with random keys and distinct
// bodies (valid unknown-event pushes), for tests of journals.
func JournalRecordsForTest(t testing.TB, n int) []voicecall.JournalRecord {
	t.Helper()
	out := make([]voicecall.JournalRecord, n)
	for i := range out {
		if _, err := rand.Read(out[i].Key[:]); err != nil {
			t.Fatal(err)
		}
		out[i].Kind = voicecall.NotificationUnknown
		out[i].Body = fmt.Appendf(nil, `{"eventType":"test","n":%d,"key":"%s"}`, i, out[i].Key)
	}
	return out
}

func entryKeys(es []journal.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Key.String()
	}
	return out
}

func recordKeys(rs []voicecall.JournalRecord) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Key.String()
	}
	return out
}

func entryIDs(es []journal.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// RunJournalTests runs the conformance suite of [journal.Journal]:
// newJournal must return a fresh, empty journal configured by cfg (its
// zero fields meaning the defaults).
func RunJournalTests(t *testing.T, newJournal func(t *testing.T, cfg journal.Config) journal.Journal) {
	ctx := context.Background()
	read := func(t *testing.T, j journal.Journal, group, consumer string, n int) []journal.Entry {
		t.Helper()
		es, err := j.Read(ctx, group, consumer, n)
		must(t, err)
		return es
	}
	replayAll := func(t *testing.T, j journal.Journal) []journal.Entry {
		t.Helper()
		es, err := j.Replay(ctx, time.Time{}, time.Time{}, "", 1000)
		must(t, err)
		return es
	}

	t.Run("AppendThenRead", func(t *testing.T) {
		t.Parallel()
		j := newJournal(t, journal.Config{})
		recs := JournalRecordsForTest(t, 3)
		before := time.Now().Add(-time.Second)
		must(t, j.Append(ctx, recs))
		es := read(t, j, "g", "c1", 10)
		if !slices.Equal(entryKeys(es), recordKeys(recs)) {
			t.Fatalf("Read keys = %v, want %v in append order", entryKeys(es), recordKeys(recs))
		}
		for i, e := range es {
			if string(e.Body) != string(recs[i].Body) || e.Kind != recs[i].Kind || e.Attempts != 1 {
				t.Fatalf("entry %d = %+v, want body %s, kind %v and 1 attempt", i, e, recs[i].Body, recs[i].Kind)
			}
			if e.Time.Before(before) || e.Time.After(time.Now().Add(time.Second)) {
				t.Fatalf("entry %d: Time %v is not the append time", i, e.Time)
			}
			if i > 0 && !idLess(es[i-1].ID, e.ID) {
				t.Fatalf("ids not increasing: %v", entryIDs(es))
			}
		}
		if got := read(t, j, "g", "c1", 10); len(got) != 0 {
			t.Fatalf("second Read = %v, want nothing new", entryKeys(got))
		}
		must(t, j.Append(ctx, nil))
	})

	t.Run("AppendIsIdempotent", func(t *testing.T) {
		t.Parallel()
		j := newJournal(t, journal.Config{})
		recs := JournalRecordsForTest(t, 2)
		must(t, j.Append(ctx, []voicecall.JournalRecord{recs[0], recs[0]}))
		must(t, j.Append(ctx, recs)) // a repeated Append whose answer was lost
		if got := entryKeys(replayAll(t, j)); !slices.Equal(got, recordKeys(recs)) {
			t.Fatalf("journal holds %v, want each key once: %v", got, recordKeys(recs))
		}
	})

	t.Run("GroupsEachGetEverything", func(t *testing.T) {
		t.Parallel()
		j := newJournal(t, journal.Config{})
		recs := JournalRecordsForTest(t, 4)
		must(t, j.Append(ctx, recs))
		a := read(t, j, "billing", "x", 10)
		b := read(t, j, "audit", "x", 10)
		if !slices.Equal(entryKeys(a), recordKeys(recs)) || !slices.Equal(entryKeys(b), recordKeys(recs)) {
			t.Fatalf("groups got %v and %v, want both %v", entryKeys(a), entryKeys(b), recordKeys(recs))
		}
	})

	t.Run("ConsumersOfAGroupShare", func(t *testing.T) {
		t.Parallel()
		j := newJournal(t, journal.Config{})
		recs := JournalRecordsForTest(t, 5)
		must(t, j.Append(ctx, recs))
		a := read(t, j, "g", "c1", 2)
		b := read(t, j, "g", "c2", 10)
		if got := append(entryKeys(a), entryKeys(b)...); !slices.Equal(got, recordKeys(recs)) {
			t.Fatalf("consumers got %v + %v, want each entry once: %v", entryKeys(a), entryKeys(b), recordKeys(recs))
		}
	})

	t.Run("LeaseExpiryRedelivers", func(t *testing.T) {
		t.Parallel()
		lease := time.Second // long enough that the next Read comes within it, even on a loaded machine
		j := newJournal(t, journal.Config{Lease: lease})
		recs := JournalRecordsForTest(t, 2)
		must(t, j.Append(ctx, recs))
		first := read(t, j, "g", "dies", 10)
		if len(first) != 2 {
			t.Fatalf("Read = %d entries, want 2", len(first))
		}
		must(t, j.Ack(ctx, "g", []string{first[0].ID}))
		if got := read(t, j, "g", "other", 10); len(got) != 0 {
			t.Fatalf("within the lease another consumer got %v", entryKeys(got))
		}
		var again []journal.Entry
		if !eventually(10*lease, func() bool {
			again = read(t, j, "g", "other", 10)
			return len(again) > 0
		}) {
			t.Fatal("the unacknowledged entry was not redelivered after its lease")
		}
		if len(again) != 1 || again[0].Key != recs[1].Key || again[0].ID != first[1].ID || again[0].Attempts != 2 {
			t.Fatalf("redelivered %+v, want entry %s (the unacknowledged one) with 2 attempts", again, first[1].ID)
		}
		must(t, j.Ack(ctx, "g", []string{again[0].ID, again[0].ID, "1-1"}))
		must(t, j.Ack(ctx, "nogroup", []string{again[0].ID}))
		if eventually(2*lease, func() bool { return len(read(t, j, "g", "other", 10)) > 0 }) {
			t.Fatal("an acknowledged entry was delivered again")
		}
	})

	t.Run("DeadLettersAndRedrive", func(t *testing.T) {
		t.Parallel()
		lease := 200 * time.Millisecond
		j := newJournal(t, journal.Config{Lease: lease, MaxAttempts: 2})
		recs := JournalRecordsForTest(t, 1)
		must(t, j.Append(ctx, recs))
		if got := read(t, j, "g", "c", 10); len(got) != 1 || got[0].Attempts != 1 {
			t.Fatalf("first Read = %+v", got)
		}
		if !eventually(10*lease, func() bool {
			got := read(t, j, "g", "c", 10)
			return len(got) == 1 && got[0].Attempts == 2
		}) {
			t.Fatal("no second delivery")
		}
		var dead []journal.Entry
		if !eventually(10*lease, func() bool {
			if got := read(t, j, "g", "c", 10); len(got) != 0 {
				t.Fatalf("a third delivery with MaxAttempts 2: %+v", got)
			}
			var err error
			dead, err = j.DeadLetters(ctx, "g", 10)
			must(t, err)
			return len(dead) > 0
		}) {
			t.Fatal("the entry did not reach the dead letters")
		}
		if len(dead) != 1 || dead[0].Key != recs[0].Key || string(dead[0].Body) != string(recs[0].Body) || dead[0].Attempts != 2 {
			t.Fatalf("dead letters = %+v, want the record with 2 attempts", dead)
		}
		if other, err := j.DeadLetters(ctx, "other", 10); err != nil || len(other) != 0 {
			t.Fatalf("another group's dead letters = %v, %v; want none", other, err)
		}
		must(t, j.Redrive(ctx, "g", []string{dead[0].ID}))
		must(t, j.Redrive(ctx, "g", []string{dead[0].ID})) // repeated: nothing more
		got := read(t, j, "g", "c", 10)
		if len(got) != 1 || got[0].Key != recs[0].Key || got[0].Attempts != 1 {
			t.Fatalf("after Redrive, Read = %+v, want the record once, 1 attempt", got)
		}
		if rest, err := j.DeadLetters(ctx, "g", 10); err != nil || len(rest) != 0 {
			t.Fatalf("dead letters after Redrive = %v, %v; want none", rest, err)
		}
	})

	t.Run("Replay", func(t *testing.T) {
		t.Parallel()
		j := newJournal(t, journal.Config{})
		a := JournalRecordsForTest(t, 3)
		must(t, j.Append(ctx, a))
		all := replayAll(t, j)
		if !slices.Equal(entryKeys(all), recordKeys(a)) {
			t.Fatalf("Replay = %v, want %v", entryKeys(all), recordKeys(a))
		}
		mid := all[2].Time.Add(5 * time.Millisecond)
		if !eventually(time.Second, func() bool { return time.Now().After(mid.Add(5 * time.Millisecond)) }) {
			t.Fatal("clock did not advance")
		}
		b := JournalRecordsForTest(t, 2)
		must(t, j.Append(ctx, b))
		later, err := j.Replay(ctx, mid, time.Time{}, "", 10)
		must(t, err)
		if !slices.Equal(entryKeys(later), recordKeys(b)) {
			t.Fatalf("Replay from %v = %v, want the later records %v", mid, entryKeys(later), recordKeys(b))
		}
		earlier, err := j.Replay(ctx, time.Time{}, mid, "", 10)
		must(t, err)
		if !slices.Equal(entryKeys(earlier), recordKeys(a)) {
			t.Fatalf("Replay to %v = %v, want the earlier records %v", mid, entryKeys(earlier), recordKeys(a))
		}
		var paged []string
		after := ""
		for range 10 {
			page, err := j.Replay(ctx, time.Time{}, time.Time{}, after, 2)
			must(t, err)
			if len(page) == 0 {
				break
			}
			paged = append(paged, entryKeys(page)...)
			after = page[len(page)-1].ID
		}
		if want := append(recordKeys(a), recordKeys(b)...); !slices.Equal(paged, want) {
			t.Fatalf("paged Replay = %v, want %v", paged, want)
		}
		if es := read(t, j, "g", "c", 10); len(es) != 5 || es[0].Attempts != 1 {
			t.Fatalf("Replay must not deliver: Read got %d entries", len(es))
		}
	})

	t.Run("FullRefusesThenTrimsAcknowledged", func(t *testing.T) {
		t.Parallel()
		j := newJournal(t, journal.Config{MaxLen: 3})
		recs := JournalRecordsForTest(t, 6)
		must(t, j.Append(ctx, recs[:2]))
		if err := j.Append(ctx, recs[2:4]); !errors.Is(err, journal.ErrFull) {
			t.Fatalf("appending 2 to a journal with room for 1: %v, want journal.ErrFull", err)
		}
		if got := entryKeys(replayAll(t, j)); !slices.Equal(got, recordKeys(recs[:2])) {
			t.Fatalf("a refused Append stored something: journal holds %v", got)
		}
		must(t, j.Append(ctx, recs[2:3]))
		if err := j.Append(ctx, recs[3:4]); !errors.Is(err, journal.ErrFull) {
			t.Fatalf("appending to a full journal: %v, want journal.ErrFull", err)
		}
		// A group that read but did not acknowledge keeps everything.
		es := read(t, j, "g", "c", 2)
		if err := j.Append(ctx, recs[3:4]); !errors.Is(err, journal.ErrFull) {
			t.Fatalf("appending while nothing is acknowledged: %v, want journal.ErrFull", err)
		}
		must(t, j.Ack(ctx, "g", entryIDs(es)))
		must(t, j.Append(ctx, recs[3:5]))
		if got := entryKeys(replayAll(t, j)); !slices.Equal(got, recordKeys(recs[2:5])) {
			t.Fatalf("journal holds %v, want the acknowledged entries trimmed: %v", got, recordKeys(recs[2:5]))
		}
	})

	t.Run("AgeTrimsOnlyAcknowledged", func(t *testing.T) {
		t.Parallel()
		age := 200 * time.Millisecond
		j := newJournal(t, journal.Config{MaxAge: age})
		recs := JournalRecordsForTest(t, 4)
		must(t, j.Append(ctx, recs[:2]))
		es := read(t, j, "g", "c", 1)
		must(t, j.Ack(ctx, "g", entryIDs(es)))
		start := time.Now()
		if !eventually(10*age, func() bool { return time.Since(start) > 2*age }) {
			t.Fatal("clock did not advance")
		}
		must(t, j.Append(ctx, recs[2:3]))
		if got := entryKeys(replayAll(t, j)); !slices.Equal(got, recordKeys(recs[1:3])) {
			t.Fatalf("journal holds %v, want the old acknowledged entry trimmed and the old unacknowledged one kept: %v", got, recordKeys(recs[1:3]))
		}
		// The key of an entry older than MaxAge no longer keeps a copy out.
		must(t, j.Append(ctx, recs[:1]))
		if got := replayAll(t, j); len(got) != 3 {
			t.Fatalf("journal holds %v, want the old record appended again", entryKeys(got))
		}
	})

	t.Run("ConcurrentConsumersGetEachEntryOnce", func(t *testing.T) {
		t.Parallel()
		j := newJournal(t, journal.Config{})
		recs := JournalRecordsForTest(t, 200)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := i * 50; k < (i+1)*50; k += 10 {
					if err := j.Append(ctx, recs[k:k+10]); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		var mu sync.Mutex
		got := map[string]int{}
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 100 {
					es, err := j.Read(ctx, "g", fmt.Sprint("c", i), 7)
					if err != nil {
						t.Error(err)
						return
					}
					if len(es) == 0 {
						return
					}
					mu.Lock()
					for _, e := range es {
						got[e.Key.String()]++
					}
					mu.Unlock()
					if err := j.Ack(ctx, "g", entryIDs(es)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if len(got) != len(recs) {
			t.Fatalf("consumers got %d distinct entries, want %d", len(got), len(recs))
		}
		for k, n := range got {
			if n != 1 {
				t.Fatalf("entry %s delivered %d times within its lease", k, n)
			}
		}
	})

	t.Run("InvalidArguments", func(t *testing.T) {
		t.Parallel()
		j := newJournal(t, journal.Config{})
		for _, c := range []struct {
			name string
			err  error
		}{
			{"empty group", func() error { _, err := j.Read(ctx, "", "c", 1); return err }()},
			{"empty consumer", func() error { _, err := j.Read(ctx, "g", "", 1); return err }()},
			{"zero n", func() error { _, err := j.Read(ctx, "g", "c", 0); return err }()},
			{"replay zero n", func() error { _, err := j.Replay(ctx, time.Time{}, time.Time{}, "", 0); return err }()},
			{"replay bad after", func() error { _, err := j.Replay(ctx, time.Time{}, time.Time{}, "x", 1); return err }()},
			{"dead letters zero n", func() error { _, err := j.DeadLetters(ctx, "g", 0); return err }()},
		} {
			if c.err == nil {
				t.Errorf("%s: no error", c.name)
			}
		}
	})
}

// idLess compares two journal ids "<ms>-<seq>".
func idLess(a, b string) bool {
	var am, as, bm, bs int64
	if _, err := fmt.Sscanf(a, "%d-%d", &am, &as); err != nil {
		return false
	}
	if _, err := fmt.Sscanf(b, "%d-%d", &bm, &bs); err != nil {
		return false
	}
	return am < bm || am == bm && as < bs
}
