package redisstore_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/internal/cdrbatch"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
	"github.com/voicecall-go/voicecall/storetest"
)

func TestDedupStoreBoundConformance(t *testing.T) {
	t.Parallel()
	storetest.RunDedupStoreBoundTests(t, func(t *testing.T, ttl time.Duration, maxRecords int) voicecall.DedupStore {
		st, _ := newStore(t)
		return st.DedupStore(ttl, 0, redisstore.WithMaxRecords(maxRecords))
	})
}

func randomKeys(t testing.TB, n int) []voicecall.DedupKey {
	t.Helper()
	ks := make([]voicecall.DedupKey, n)
	for i := range ks {
		_, err := rand.Read(ks[i][:])
		require.NoError(t, err)
	}
	return ks
}

func usedMemory(t testing.TB, rdb redis.UniversalClient) int64 {
	t.Helper()
	info, err := rdb.Info(context.Background(), "memory").Result()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("INFO memory has no used_memory")
	return 0
}

// TestDedupMemoryPerRecord: 100,000 records (claimed, then committed, in
// batches of 50, as the Handler does) grow the Redis memory by at most
// DedupRecordBytes each, hashes and keys included. It runs on a
// redis-server of its own, so that no other test's keys are counted.
func TestDedupMemoryPerRecord(t *testing.T) {
	t.Parallel()
	srv, err := redistest.Start()
	redistest.Need(t, err)
	t.Cleanup(srv.Close)
	st, err := redisstore.Open(srv.URL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	d := st.DedupStore(0, 0)
	// Load the salt and the scripts before measuring.
	warm := randomKeys(t, 1)
	_, err = d.Claim(ctx, warm)
	require.NoError(t, err)
	require.NoError(t, d.Commit(ctx, warm))
	require.NoError(t, d.Release(ctx, warm))

	const records = 100_000
	before := usedMemory(t, st.Client())
	keys := randomKeys(t, records)
	for i := 0; i < records; i += 50 {
		batch := keys[i : i+50]
		res, err := d.Claim(ctx, batch)
		require.NoError(t, err)
		for j, r := range res {
			require.Equal(t, voicecall.ClaimAcquired, r, "record %d", i+j)
		}
		require.NoError(t, d.Commit(ctx, batch))
	}
	after := usedMemory(t, st.Client())
	perRecord := float64(after-before) / records

	// The hashes' own size, by MEMORY USAGE, for the documentation.
	var usage int64
	var hashes int
	iter := st.Client().Scan(ctx, 0, "{voicecall:dedup}:*", 1000).Iterator()
	for iter.Next(ctx) {
		n, err := st.Client().MemoryUsage(ctx, iter.Val(), 0).Result()
		require.NoError(t, err)
		usage += n
		hashes++
		if iter.Val() != "{voicecall:dedup}:salt" {
			enc, err := st.Client().ObjectEncoding(ctx, iter.Val()).Result()
			require.NoError(t, err)
			require.Equal(t, "listpack", enc, "the encoding of %s", iter.Val())
		}
	}
	require.NoError(t, iter.Err())
	t.Logf("%d records: used_memory +%d bytes, %.1f B a record; MEMORY USAGE of %d keys: %d bytes, %.1f B a record",
		records, after-before, perRecord, hashes, usage, float64(usage)/records)
	assert.LessOrEqual(t, perRecord, float64(redisstore.DedupRecordBytes), "Redis memory per record")

	// Each record is remembered.
	for i := 0; i < records; i += 5_000 {
		res, err := d.Claim(ctx, keys[i:i+50])
		require.NoError(t, err)
		for _, r := range res {
			require.Equal(t, voicecall.ClaimDone, r)
		}
	}
}

// TestDedupFull: a store at its bound answers ClaimFull for new records
// (holding nothing for them) and still knows the records it holds; the
// Handler answers 503 for a batch with records it could not claim and
// calls OnFee for none of them; releasing claims makes room again.
func TestDedupFull(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := context.Background()
	d := st.DedupStore(time.Hour, 0, redisstore.WithMaxRecords(1)) // one shard of 128
	require.Equal(t, redisstore.DedupShardRecords, d.MaxRecords())
	held := randomKeys(t, redisstore.DedupShardRecords)
	res, err := d.Claim(ctx, held)
	require.NoError(t, err)
	for i, r := range res {
		require.Equal(t, voicecall.ClaimAcquired, r, "record %d", i)
	}
	require.NoError(t, d.Commit(ctx, held[:100]))

	fresh := randomKeys(t, 3)
	res, err = d.Claim(ctx, append(fresh, held[0], held[100]))
	require.NoError(t, err)
	assert.Equal(t, []voicecall.ClaimResult{voicecall.ClaimFull, voicecall.ClaimFull, voicecall.ClaimFull, voicecall.ClaimDone, voicecall.ClaimBusy}, res)
	err = d.Commit(ctx, fresh[:1])
	require.Error(t, err, "a commit with no room says so")
	assert.Contains(t, err.Error(), "1 of 1 handled records not remembered")

	// The Handler: 503, and OnFee not called.
	calls := 0
	h, err := voicecall.NewHandler(voicecall.HandlerConfig{Dedup: d, OnFee: func(context.Context, *voicecall.FeeRecord) error { calls++; return nil }})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	assert.Equal(t, http.StatusServiceUnavailable, push(t, srv.URL, cdrbatch.Generate(5)))
	assert.Zero(t, calls)

	// Releasing the unhandled claims makes room.
	require.NoError(t, d.Release(ctx, held[100:]))
	res, err = d.Claim(ctx, fresh)
	require.NoError(t, err)
	assert.Equal(t, []voicecall.ClaimResult{voicecall.ClaimAcquired, voicecall.ClaimAcquired, voicecall.ClaimAcquired}, res)
}

// TestDedupSaltLost: when Redis loses the salt (a restart without
// persistence, an eviction), a store that cached the old one notices
// (its script refuses to run with another salt, changing nothing),
// loads the new one and agrees with the other instances again.
func TestDedupSaltLost(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := context.Background()
	a := st.DedupStore(0, 0)
	keys := randomKeys(t, 50)
	res, err := a.Claim(ctx, keys[:1])
	require.NoError(t, err)
	require.Equal(t, []voicecall.ClaimResult{voicecall.ClaimAcquired}, res)

	p, _ := prefixes.Load(st)
	n, err := st.Client().Del(ctx, "{"+p.(string)+"dedup}:salt").Result()
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "the salt's key")
	b := redisstoreSamePrefix(t, st).DedupStore(0, 0)
	res, err = b.Claim(ctx, keys[1:])
	require.NoError(t, err, "b stores a new salt")
	for _, r := range res {
		require.Equal(t, voicecall.ClaimAcquired, r)
	}
	res, err = a.Claim(ctx, keys[1:])
	require.NoError(t, err, "a reloads the salt")
	for _, r := range res {
		require.Equal(t, voicecall.ClaimBusy, r, "a and b agree again")
	}
}

// TestDedupHeldBounded: the claims a store remembers for Release (their
// operation IDs) are dropped once their lease is over, so a caller that
// never commits nor releases does not grow the process's memory.
func TestDedupHeldBounded(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := context.Background()
	d := st.DedupStore(time.Hour, time.Millisecond)
	for range 84 { // 4,200 claims, more than the 4,096 kept before pruning
		_, err := d.Claim(ctx, randomKeys(t, 50))
		require.NoError(t, err)
	}
	// 84 round trips take more than the 1 ms lease: the claims before the
	// last few are over.
	assert.Less(t, d.Held(), 1000, "claims remembered after their lease")
	keys := randomKeys(t, 50)
	_, err := d.Claim(ctx, keys)
	require.NoError(t, err)
	require.NoError(t, d.Release(ctx, keys))
}
