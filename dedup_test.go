package voicecall

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voicecall-go/voicecall/internal/expiring"
	"github.com/voicecall-go/voicecall/internal/fakeclock"
)

// key is a DedupKey for a short name, for tests.
func key(name string) DedupKey {
	var k DedupKey
	copy(k[:], name)
	return k
}

// claim1 claims one key.
func claim1(t *testing.T, d DedupStore, k DedupKey) ClaimResult {
	t.Helper()
	r, err := d.Claim(context.Background(), []DedupKey{k})
	require.NoError(t, err)
	require.Len(t, r, 1)
	return r[0]
}

func TestMemoryDedup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	d := NewMemoryDedup(0, 0)
	d.now = clock.Now
	assert.Equal(t, DefaultDedupTTL, d.ttl)

	claim := func(name string) ClaimResult { return claim1(t, d, key(name)) }
	one := func(name string) []DedupKey { return []DedupKey{key(name)} }
	assert.Equal(t, ClaimAcquired, claim("a"))
	assert.Equal(t, ClaimBusy, claim("a"))
	require.NoError(t, d.Release(ctx, one("a")))
	assert.Equal(t, ClaimAcquired, claim("a"))
	require.NoError(t, d.Commit(ctx, one("a")))
	assert.Equal(t, ClaimDone, claim("a"))
	require.NoError(t, d.Release(ctx, one("a")))
	assert.Equal(t, ClaimDone, claim("a"), "release does not undo a commit")

	// A claim never committed nor released expires after the lease.
	assert.Equal(t, ClaimAcquired, claim("b"))
	clock.Add(DefaultClaimLease - time.Second)
	assert.Equal(t, ClaimBusy, claim("b"))
	clock.Add(2 * time.Second)
	assert.Equal(t, ClaimAcquired, claim("b"))

	// Done keys are remembered for the TTL: all 7 deliveries over 6 hours.
	for range 6 {
		clock.Add(time.Hour)
		assert.Equal(t, ClaimDone, claim("a"))
	}
	clock.Add(2 * time.Hour)
	assert.Equal(t, ClaimAcquired, claim("a"), "forgotten after 8 hours")

	// A batch: results[i] is for keys[i]; one call claims them all.
	require.NoError(t, d.Commit(ctx, one("done")))
	res, err := d.Claim(ctx, []DedupKey{key("new"), key("done"), key("a"), key("new")})
	require.NoError(t, err)
	assert.Equal(t, []ClaimResult{ClaimAcquired, ClaimDone, ClaimBusy, ClaimBusy}, res, "a repeated key is claimed once")
	empty, err := d.Claim(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, empty)

	assert.Equal(t, "acquired", ClaimAcquired.String())
	assert.Equal(t, "done", ClaimDone.String())
	assert.Equal(t, "busy", ClaimBusy.String())
	assert.Equal(t, "full", ClaimFull.String())
	assert.Equal(t, "ClaimResult(0)", ClaimResult(0).String())
}

func TestMemoryDedupBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewMemoryDedup(time.Hour, 3*DedupRecordBytes)
	for i := range 1000 {
		k := key(fmt.Sprint(i))
		require.Equal(t, ClaimAcquired, claim1(t, d, k))
		if i%2 == 0 {
			require.NoError(t, d.Commit(ctx, []DedupKey{k}))
		} else {
			require.NoError(t, d.Release(ctx, []DedupKey{k}))
		}
		assert.LessOrEqual(t, d.Len(), 3)
		assert.Len(t, d.slots, 3, "the table never grows")
		assert.LessOrEqual(t, len(d.slots)*int(unsafe.Sizeof(dedupSlot{})), 3*DedupRecordBytes, "bounded in bytes")
	}
	assert.Equal(t, ClaimDone, claim1(t, d, key("998")), "recent keys are kept")
	assert.Equal(t, ClaimAcquired, claim1(t, d, key("0")), "the oldest keys are dropped at the bound")
	assert.Equal(t, int(unsafe.Sizeof(dedupSlot{})), DedupRecordBytes)
	// The other stores hold DedupKeys in an expiring.Map, at the cost
	// that maxReplayNonces and DefaultStatusDedupMaxEntries document.
	assert.Equal(t, 68, expiring.EntryOverhead[DedupKey, struct{}]())
}

// TestMemoryDedupSets: a new key takes an empty place in its set, else an
// expired key's, else the oldest key's; a key is never held twice.
func TestMemoryDedupSets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	newStore := func(n int) (*MemoryDedup, *fakeclock.Clock) {
		clock := fakeclock.New(time.Date(2026, 3, 14, 7, 30, 0, 0, time.UTC))
		d := NewMemoryDedup(time.Hour, int64(n)*DedupRecordBytes) // at most 16 records: one set
		d.now = clock.Now
		return d, clock
	}
	done := func(d *MemoryDedup, names ...string) {
		for _, n := range names {
			require.Equal(t, ClaimAcquired, claim1(t, d, key(n)), n)
			require.NoError(t, d.Commit(ctx, []DedupKey{key(n)}))
		}
	}

	t.Run("oldest", func(t *testing.T) {
		d, _ := newStore(4)
		done(d, "a", "b", "c", "d")
		assert.Equal(t, 4, d.Len())
		done(d, "e")
		assert.Equal(t, 4, d.Len())
		for _, n := range []string{"b", "c", "d", "e"} {
			assert.Equal(t, ClaimDone, claim1(t, d, key(n)), n)
		}
		assert.Equal(t, ClaimAcquired, claim1(t, d, key("a")), "the oldest made room")
	})
	t.Run("expired first", func(t *testing.T) {
		d, clock := newStore(3)
		done(d, "x")
		require.Equal(t, ClaimAcquired, claim1(t, d, key("y"))) // neither committed nor released
		done(d, "z")
		clock.Add(DefaultClaimLease + time.Second) // y's claim has expired, x and z have not
		done(d, "w")
		assert.Equal(t, ClaimDone, claim1(t, d, key("x")), "the oldest stays while an expired key can go")
		assert.Equal(t, ClaimDone, claim1(t, d, key("z")))
		assert.Equal(t, ClaimDone, claim1(t, d, key("w")))
		assert.Equal(t, 3, d.Len())
	})
	t.Run("own place", func(t *testing.T) {
		d, clock := newStore(3)
		done(d, "p")
		require.Equal(t, ClaimAcquired, claim1(t, d, key("q")))
		clock.Add(DefaultClaimLease + time.Second)
		require.Equal(t, ClaimAcquired, claim1(t, d, key("q")), "an expired claim can be taken again")
		assert.Equal(t, 2, d.Len(), "in its own place")
		assert.Equal(t, ClaimBusy, claim1(t, d, key("q")))
		require.NoError(t, d.Release(ctx, []DedupKey{key("q")}))
		assert.Equal(t, 1, d.Len(), "a release empties the place")
		assert.Equal(t, ClaimDone, claim1(t, d, key("p")))
		clock.Add(time.Hour)
		assert.Equal(t, ClaimAcquired, claim1(t, d, key("p")), "done keys expire after the TTL")
	})
	t.Run("commit without claim", func(t *testing.T) {
		d, _ := newStore(3)
		require.NoError(t, d.Commit(ctx, []DedupKey{key("r")}))
		assert.Equal(t, ClaimDone, claim1(t, d, key("r")))
		assert.Equal(t, 1, d.Len())
	})
}

// TestMemoryDedupGrows: the table starts small and doubles while keys
// arrive; below the bound no key is forgotten, at the bound it stops.
func TestMemoryDedupGrows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const bound = 64_000
	d := NewMemoryDedup(time.Hour, int64(bound)*DedupRecordBytes)
	var keys []DedupKey
	add := func(n int) {
		for range n {
			var k DedupKey
			binary.BigEndian.PutUint64(k[:8], uint64(len(keys))+1)
			keys = append(keys, k)
			require.Equal(t, ClaimAcquired, claim1(t, d, k))
			require.NoError(t, d.Commit(ctx, []DedupKey{k}))
		}
	}
	add(1)
	assert.Len(t, d.slots, dedupFirstSets*dedupWays, "small at first")
	add(4_999)
	assert.Equal(t, 5_000, d.Len())
	assert.Less(t, len(d.slots), bound, "grown only as far as needed")
	t.Logf("%d keys held in %d places", d.Len(), len(d.slots))
	assert.LessOrEqual(t, len(d.slots), 8*d.Len(), "at most 8 places per key held")
	for i, k := range keys {
		require.Equal(t, ClaimDone, claim1(t, d, k), "key %d forgotten below the bound", i)
	}
	add(4 * bound)
	assert.Len(t, d.slots, bound, "grown to the bound, not beyond")
	assert.Equal(t, bound, d.Len())
}

// TestMemoryDedupWindow measures how long a full store remembers a key:
// the figures in MemoryDedup's documentation. Markers are inserted, then
// n/2 (or n) newer keys, and the markers still held are counted.
func TestMemoryDedupWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const n = 20_000
	d := NewMemoryDedup(0, int64(n)*DedupRecordBytes)
	next := uint64(0)
	insert := func(count int) []DedupKey {
		keys := make([]DedupKey, count)
		for i := range keys {
			next++
			binary.BigEndian.PutUint64(keys[i][:8], next)
		}
		_, err := d.Claim(ctx, keys)
		require.NoError(t, err)
		require.NoError(t, d.Commit(ctx, keys))
		return keys
	}
	insert(4 * n) // every set full
	require.Equal(t, n, d.Len())
	remembered := func(newer, rounds int) float64 {
		kept, total := 0, 0
		for range rounds {
			markers := insert(n / 50)
			insert(newer)
			d.mu.Lock()
			t0, _ := d.times(d.now(), 0)
			for _, k := range markers {
				if find(d.set(k), k, t0) != nil {
					kept++
				}
			}
			d.mu.Unlock()
			total += len(markers)
		}
		return float64(kept) / float64(total)
	}
	quarter := remembered(n/4, 25)
	half := remembered(n/2, 25)
	full := remembered(n, 10)
	t.Logf("remembered after n/4 newer keys: %.3f %%, after n/2: %.2f %%, after n: %.1f %%", 100*quarter, 100*half, 100*full)
	assert.GreaterOrEqual(t, quarter, 0.999, "after n/4 newer keys (99.999 % expected)")
	assert.GreaterOrEqual(t, half, 0.985, "after n/2 newer keys (99.2 % expected)")
	assert.InDelta(t, 0.5, full, 0.15, "after n newer keys")
}

// TestMemoryDedupConcurrentClaims: of concurrent Claims of one key, at
// most one acquires it.
func TestMemoryDedupConcurrentClaims(t *testing.T) {
	t.Parallel()
	d := NewMemoryDedup(0, 0)
	for round := range 50 {
		k := key(fmt.Sprint("k", round))
		var acquired atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := d.Claim(context.Background(), []DedupKey{k, key("other")})
				if err == nil && r[0] == ClaimAcquired {
					acquired.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, int32(1), acquired.Load(), "round %d", round)
	}
}

// TestMemoryDedupBytesPerRecord measures the heap a full store holds:
// at most 100 bytes per record (finding: 222 B with string keys).
func TestMemoryDedupBytesPerRecord(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	if testing.Short() {
		t.Skip("allocates 100k records")
	}
	ctx := context.Background()
	for _, n := range []int{DefaultDedupMaxBytes / DedupRecordBytes, 1_000_000} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d := NewMemoryDedup(0, int64(n)*DedupRecordBytes)
		keys := make([]DedupKey, 1)
		for i := range 4 * n { // every set full
			binary.BigEndian.PutUint64(keys[0][:], uint64(i))
			_, _ = d.Claim(ctx, keys)
			_ = d.Commit(ctx, keys)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		require.Equal(t, n, d.Len())
		perRecord := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
		t.Logf("%d records: %.1f B/record", n, perRecord)
		assert.LessOrEqual(t, perRecord, 100.0, "%d records", n)
		assert.LessOrEqual(t, perRecord, float64(DedupRecordBytes)+1, "%d records: the table and nothing more", n)
		runtime.KeepAlive(d)
	}
}

func TestDedupKey(t *testing.T) {
	t.Parallel()
	n, err := ParseNotification(readNotification(t, "fee_batch50.json"))
	require.NoError(t, err)
	seen := map[DedupKey]bool{}
	for i := range n.Fees {
		k := n.Fees[i].DedupKey()
		assert.False(t, seen[k], "record %d", i)
		seen[k] = true
		assert.Regexp(t, "^[0-9a-f]{32}$", k.String())
	}
	rec := n.Fees[0]
	assert.Equal(t, rec.DedupKey(), rec.DedupKey(), "deterministic")

	// A forged record with the genuine sessionId and icid but another
	// content has a key of its own: it cannot suppress the genuine one.
	forged := rec
	forged.CalleeNum = "+8613000000000"
	assert.NotEqual(t, rec.DedupKey(), forged.DedupKey())
	forged = rec
	forged.Extra = map[string]json.RawMessage{"x": json.RawMessage(`1`)}
	assert.NotEqual(t, rec.DedupKey(), forged.DedupKey())
	noICID := rec
	noICID.ICID = ""
	assert.NotEqual(t, rec.DedupKey(), noICID.DedupKey())

	// The same record sent with numbers as strings and members in
	// another order is the same record.
	a, err := ParseNotification([]byte(`{"eventType":"fee","feeLst":[{"sessionId":"s","icid":"i","ulFailReason":518,"calleeNum":"+1"}]}`))
	require.NoError(t, err)
	b, err := ParseNotification([]byte(`{"eventType":"Fee","feeLst":[{"calleeNum":"+1","ulFailReason":"518","icid":"i","sessionId":"s"}]}`))
	require.NoError(t, err)
	assert.Equal(t, a.Fees[0].DedupKey(), b.Fees[0].DedupKey())
	// Length prefixes: moving bytes between fields changes the key.
	x := FeeRecord{SessionID: "ab", ICID: "c"}
	y := FeeRecord{SessionID: "a", ICID: "bc"}
	assert.NotEqual(t, x.DedupKey(), y.DedupKey())
}
