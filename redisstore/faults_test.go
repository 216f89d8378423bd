package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
)

// The faults of the matrix: every one happens to the next script run
// (EVALSHA) of the store behind the proxy.
var faults = []redistest.Fault{
	{Kind: redistest.DropReply},
	{Kind: redistest.DelayReply, Delay: 800 * time.Millisecond}, // past the 250 ms read timeout
	{Kind: redistest.ResetBefore},
	{Kind: redistest.ResetAfter},
}

// faultyPair returns two Stores on the same fresh prefix: one through a
// fault-injecting proxy, with a 250 ms read timeout and go-redis's
// retries (retries < 0: none), and one straight to Redis, which plays
// another instance and reads the state.
func faultyPair(t *testing.T, retries int) (*redistest.Proxy, *redisstore.Store, *redisstore.Store) {
	t.Helper()
	redistestNeed(t)
	p, err := redistest.NewProxy(redisSrv.Addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "faults:" + hex.EncodeToString(b[:]) + ":"
	rdb := redis.NewClient(&redis.Options{
		Addr: p.Addr, ReadTimeout: 250 * time.Millisecond, MaxRetries: retries,
		MinRetryBackoff: -1, MaxRetryBackoff: -1, // retry at once: the test waits only for the faults
	})
	t.Cleanup(func() { _ = rdb.Close() })
	other, err := redisstore.Open(redisSrv.URL, redisstore.WithPrefix(prefix))
	require.NoError(t, err)
	t.Cleanup(func() { _ = other.Close() })
	return p, redisstore.New(rdb, redisstore.WithPrefix(prefix)), other
}

func claimAll(t *testing.T, d voicecall.DedupStore, keys []voicecall.DedupKey) voicecall.ClaimResult {
	t.Helper()
	res, err := d.Claim(context.Background(), keys)
	require.NoError(t, err)
	for _, r := range res[1:] {
		require.Equal(t, res[0], r, "one batch, one state: %v", res)
	}
	return res[0]
}

// TestDedupFaults: a Claim, Commit or Release whose reply is lost,
// late or cut (or whose command never reaches Redis) gives, with
// go-redis's retries, the answer it gives without the fault, and leaves
// the state one run leaves; without retries, a Claim that fails leaves
// nothing held, and a Commit or Release that fails has run once or not
// at all, for the whole batch.
func TestDedupFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, retries := range []int{3, -1} {
		for _, f := range faults {
			for _, op := range []string{"Claim", "Commit", "Release"} {
				name := fmt.Sprintf("%s/%s/retries=%d", op, f.Kind, retries)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					p, faulty, direct := faultyPair(t, retries)
					a, b := faulty.DedupStore(0, 0), direct.DedupStore(0, 0)
					// Load the salt and the scripts, so that the fault meets the
					// operation itself.
					warm := randomKeys(t, 1)
					for _, d := range []voicecall.DedupStore{a, b} {
						_, err := d.Claim(ctx, warm)
						require.NoError(t, err)
						require.NoError(t, d.Release(ctx, warm))
						require.NoError(t, d.Commit(ctx, warm))
					}
					keys := randomKeys(t, 50)
					if op != "Claim" {
						assert.Equal(t, voicecall.ClaimAcquired, claimAll(t, a, keys))
					}
					p.Inject(redistest.Command("EVALSHA"), f)
					var err error
					switch op {
					case "Claim":
						var res []voicecall.ClaimResult
						res, err = a.Claim(ctx, keys)
						if err == nil {
							for i, r := range res {
								require.Equal(t, voicecall.ClaimAcquired, r, "key %d: the claim's own marks must not make it busy", i)
							}
						}
					case "Commit":
						err = a.Commit(ctx, keys)
					case "Release":
						err = a.Release(ctx, keys)
					}
					assert.Zero(t, p.Pending(), "the fault met the operation")
					if retries >= 0 {
						require.NoError(t, err, "go-redis's retries hide the fault")
					}
					state := claimAll(t, b, keys) // another instance's view
					switch {
					case op == "Claim" && err == nil:
						assert.Equal(t, voicecall.ClaimBusy, state, "the claim holds the batch")
						require.NoError(t, a.Release(ctx, keys))
						assert.Equal(t, voicecall.ClaimAcquired, claimAll(t, b, keys), "released: another instance acquires it")
					case op == "Claim":
						assert.Equal(t, voicecall.ClaimAcquired, state, "a failed claim holds nothing")
					case op == "Commit" && err == nil:
						assert.Equal(t, voicecall.ClaimDone, state)
					case op == "Commit":
						assert.Contains(t, []voicecall.ClaimResult{voicecall.ClaimDone, voicecall.ClaimBusy}, state, "run once or not at all")
					case op == "Release" && err == nil:
						assert.Equal(t, voicecall.ClaimAcquired, state)
					default:
						assert.Contains(t, []voicecall.ClaimResult{voicecall.ClaimAcquired, voicecall.ClaimBusy}, state, "run once or not at all")
					}
				})
			}
		}
	}
}

// TestCorrelationFaults: an Observe whose reply is lost, late or cut
// answers, with go-redis's retries, what it answers without the fault,
// and the call is merged once; without retries, an Observe that fails
// has been merged once or not at all.
func TestCorrelationFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Unix(1_764_000_000, 0)
	for _, retries := range []int{3, -1} {
		for _, f := range faults {
			t.Run(fmt.Sprintf("%s/retries=%d", f.Kind, retries), func(t *testing.T) {
				t.Parallel()
				p, faulty, direct := faultyPair(t, retries)
				c := faulty.CorrelationStore(0)
				first := voicecall.CallSighting{UserData: "vcfault", SessionID: "s1", LastEvent: voicecall.EventCallout, FirstSeen: t0, LastSeen: t0}
				_, err := c.Observe(ctx, first)
				require.NoError(t, err)
				second := voicecall.CallSighting{UserData: "vcfault", SessionID: "s1", LastEvent: voicecall.EventDisconnect,
					StateCode: voicecall.StateCalleeBusy, HasStateCode: true, FirstSeen: t0.Add(time.Second), LastSeen: t0.Add(time.Second)}
				want := first.Merge(second)
				p.Inject(redistest.Command("EVALSHA"), f)
				got, err := c.Observe(ctx, second)
				assert.Zero(t, p.Pending(), "the fault met the operation")
				stored, ok, lerr := direct.CorrelationStore(0).Lookup(ctx, "vcfault")
				require.NoError(t, lerr)
				require.True(t, ok)
				if retries >= 0 {
					require.NoError(t, err, "go-redis's retries hide the fault")
				}
				if err == nil {
					assert.Equal(t, want, got)
					assert.Equal(t, want, stored)
				} else {
					assert.Contains(t, []voicecall.CallSighting{first, want}, stored, "merged once or not at all")
				}
			})
		}
	}
}

// TestCorrelationResentAfterAnother: an Observe re-sent after another
// one ran in between (the retry of a late reply) changes nothing, even
// when the first was of an older session that the one in between
// replaced.
func TestCorrelationResentAfterAnother(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := context.Background()
	c := st.CorrelationStore(0)
	t0 := time.Unix(1_764_000_000, 0)
	old := voicecall.CallSighting{UserData: "vcresent", SessionID: "s1", LastEvent: voicecall.EventFee, HasCDR: true, FirstSeen: t0, LastSeen: t0}
	newer := voicecall.CallSighting{UserData: "vcresent", SessionID: "s2", LastEvent: voicecall.EventCallout, FirstSeen: t0.Add(time.Minute), LastSeen: t0.Add(time.Minute)}
	_, err := c.ObserveAs(ctx, old, "00000000000000a1")
	require.NoError(t, err)
	_, err = c.ObserveAs(ctx, newer, "00000000000000b2")
	require.NoError(t, err)
	got, err := c.ObserveAs(ctx, old, "00000000000000a1") // re-sent
	require.NoError(t, err)
	assert.Equal(t, newer, got, "the re-sent run answers the state as it is")
	stored, ok, err := c.Lookup(ctx, "vcresent")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, newer, stored, "and changes nothing")
	// Without the operation ID, the same sighting would replace the newer session.
	got, err = c.ObserveAs(ctx, old, "00000000000000c3")
	require.NoError(t, err)
	assert.Equal(t, "s1", got.SessionID)
}
