package redisstore_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/journal"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
	"github.com/voicecall-go/voicecall/storetest"
)

func newJournal(t *testing.T, st *redisstore.Store, cfg journal.Config) *redisstore.Journal {
	t.Helper()
	j, err := st.Journal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestJournalConformance(t *testing.T) {
	t.Parallel()
	storetest.RunJournalTests(t, func(t *testing.T, cfg journal.Config) journal.Journal {
		st, _ := newStore(t)
		return newJournal(t, st, cfg)
	})
}

// TestJournalConformanceCluster: the same suite on a 3-master Redis
// Cluster (the journal's keys share the {journal} hash tag).
func TestJournalConformanceCluster(t *testing.T) {
	t.Parallel()
	storetest.RunJournalTests(t, func(t *testing.T, cfg journal.Config) journal.Journal {
		return newJournal(t, newClusterStore(t), cfg)
	})
}

// proxiedJournal returns a journal on the test server through a new
// proxy, with go-redis's retries on (as by default) and a short read
// timeout.
func proxiedJournal(t *testing.T) (*redisstore.Journal, *redistest.Proxy) {
	t.Helper()
	redistestNeed(t)
	p, err := redistest.NewProxy(redisSrv.Addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr, ReadTimeout: 300 * time.Millisecond, MinRetryBackoff: -1, MaxRetryBackoff: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	var b [8]byte
	_, _ = rand.Read(b[:])
	return newJournal(t, redisstore.New(rdb, redisstore.WithPrefix("test:"+hex.EncodeToString(b[:])+":")), journal.Config{}), p
}

// TestJournalRoundTrips: appending a whole 50-record push is one
// command on the wire; so is a Read of 50 and an Ack.
func TestJournalRoundTrips(t *testing.T) {
	t.Parallel()
	j, p := proxiedJournal(t)
	ctx := t.Context()
	require.NoError(t, j.Append(ctx, storetest.JournalRecordsForTest(t, 1))) // loads the script
	_, err := j.Read(ctx, "g", "c", 1)
	require.NoError(t, err)
	recs := storetest.JournalRecordsForTest(t, 50)
	for _, o := range []struct {
		name string
		op   func() error
	}{
		{"Append50", func() error { return j.Append(ctx, recs) }},
		{"Read50", func() error {
			es, err := j.Read(ctx, "g", "c", 50)
			if err == nil && len(es) != 50 {
				err = fmt.Errorf("read %d entries, want 50", len(es))
			}
			return err
		}},
		{"Ack50", func() error {
			ids := make([]string, 50)
			for i := range ids {
				ids[i] = strconv.Itoa(i+1) + "-0"
			}
			return j.Ack(ctx, "g", ids)
		}},
	} {
		p.ResetLog()
		require.NoError(t, o.op(), o.name)
		cmds := p.Commands()
		if assert.Len(t, cmds, 1, "%s: commands on the wire", o.name) {
			t.Logf("%s: one command, %s", o.name, cmds[0][0])
		}
	}
}

// TestJournalAppendRepeated: go-redis re-sends an append whose reply was
// lost or late; the keys' markers make the second run add nothing, so a
// consumer sees each record once.
func TestJournalAppendRepeated(t *testing.T) {
	t.Parallel()
	for _, f := range []redistest.Fault{
		{Kind: redistest.DropReply},
		{Kind: redistest.ResetAfter},
		{Kind: redistest.DelayReply, Delay: time.Second},
	} {
		t.Run(f.Kind.String(), func(t *testing.T) {
			t.Parallel()
			j, p := proxiedJournal(t)
			ctx := t.Context()
			require.NoError(t, j.Append(ctx, storetest.JournalRecordsForTest(t, 1)))
			recs := storetest.JournalRecordsForTest(t, 20)
			p.Inject(redistest.Command("EVALSHA"), f)
			p.ResetLog()
			require.NoError(t, j.Append(ctx, recs), "go-redis retries the script")
			assert.Equal(t, 0, p.Pending())
			assert.GreaterOrEqual(t, len(p.Commands()), 2, "the script ran twice")
			es, err := j.Read(ctx, "g", "c", 100)
			require.NoError(t, err)
			assert.Len(t, es, 21, "each record once")
		})
	}
}

// TestJournalCheckDurability: a server without appendonly is reported,
// one with it is not.
func TestJournalCheckDurability(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	err := newJournal(t, st, journal.Config{}).CheckDurability(t.Context())
	require.ErrorIs(t, err, redisstore.ErrNotDurable)
	assert.Contains(t, err.Error(), redisSrv.Addr)

	srv, err := redistest.StartAOF(t.TempDir())
	require.NoError(t, err)
	defer srv.Close()
	aof, err := redisstore.Open(srv.URL)
	require.NoError(t, err)
	defer aof.Close()
	assert.NoError(t, newJournal(t, aof, journal.Config{}).CheckDurability(t.Context()))

	err = newJournal(t, newClusterStore(t), journal.Config{}).CheckDurability(t.Context())
	assert.ErrorIs(t, err, redisstore.ErrNotDurable, "every master of the cluster is checked")
}

// TestJournalGroupLost: a Redis restart without persistence loses the
// stream and its groups (NOGROUP for a plain XREADGROUP); the next Read
// recreates the group and gets what is appended after.
func TestJournalGroupLost(t *testing.T) {
	t.Parallel()
	redistestNeed(t)
	srv, err := redistest.Start()
	require.NoError(t, err)
	defer srv.Close()
	st, err := redisstore.Open(srv.URL)
	require.NoError(t, err)
	defer st.Close()
	j := newJournal(t, st, journal.Config{})
	ctx := t.Context()
	require.NoError(t, j.Append(ctx, storetest.JournalRecordsForTest(t, 2)))
	es, err := j.Read(ctx, "g", "c", 10)
	require.NoError(t, err)
	require.Len(t, es, 2)
	require.NoError(t, srv.Restart())

	recs := storetest.JournalRecordsForTest(t, 3)
	require.NoError(t, j.Append(ctx, recs))
	err = st.Client().XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{"voicecall:{journal}:entries", ">"}, Count: 1}).Err()
	require.ErrorContains(t, err, "NOGROUP", "the restart lost the group")
	require.NoError(t, j.Ack(ctx, "g", []string{es[0].ID}), "an Ack for a lost group is ignored")
	es, err = j.Read(ctx, "g", "c", 10)
	require.NoError(t, err)
	assert.Len(t, es, 3, "the group is recreated and gets every entry appended since")
}

// TestBenchBatchesDistinct: the benchmark's batches are 50 new records
// each, so that every push appends 50 entries.
func TestBenchBatchesDistinct(t *testing.T) {
	t.Parallel()
	batch := benchBatches()
	seen := map[voicecall.DedupKey]bool{}
	for i := range 3 {
		n, err := voicecall.ParseNotification(batch(i))
		require.NoError(t, err)
		require.Len(t, n.Fees, 50)
		for _, f := range n.Fees {
			seen[f.DedupKey()] = true
		}
	}
	assert.Len(t, seen, 150)
}
