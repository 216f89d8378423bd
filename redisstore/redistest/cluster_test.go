package redistest_test

import (
	"strconv"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voicecall-go/voicecall/redisstore/redistest"
)

// alive reports whether a process with pid exists.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// TestStartCluster: three masters share the slots, a cluster client
// spreads keys over all of them, and Close stops them by PID.
func TestStartCluster(t *testing.T) {
	cl, err := redistest.StartCluster()
	redistest.Need(t, err)
	defer cl.Close()
	require.Len(t, cl.Addrs, 3)
	ctx := t.Context()
	rdb := cl.Client()
	defer rdb.Close()
	for i := range 100 {
		require.NoError(t, rdb.Set(ctx, "k"+strconv.Itoa(i), i, 0).Err())
	}
	for _, addr := range cl.Addrs {
		n := redis.NewClient(&redis.Options{Addr: addr})
		size, err := n.DBSize(ctx).Result()
		n.Close()
		require.NoError(t, err)
		assert.Positive(t, size, "node %s holds none of 100 keys", addr)
	}
	// Keys with one hash tag share a node: a script may use them together.
	require.NoError(t, rdb.Eval(ctx, "redis.call('SET', KEYS[1], 1); return redis.call('SET', KEYS[2], 2)", []string{"{tag}:a", "{tag}:b"}).Err())
	pids := []int{cl.Nodes[0].PID, cl.Nodes[1].PID, cl.Nodes[2].PID}
	cl.Close()
	for _, pid := range pids {
		assert.False(t, alive(pid), "node %d still running after Close", pid)
	}
}

// TestRestartAOF: a server started with StartAOF keeps what it
// acknowledged across a kill -9 and a restart on the same port.
func TestRestartAOF(t *testing.T) {
	s, err := redistest.StartAOF(t.TempDir())
	redistest.Need(t, err)
	defer s.Close()
	ctx := t.Context()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer rdb.Close()
	require.NoError(t, rdb.Set(ctx, "kept", "yes", 0).Err())
	old := s.PID
	require.NoError(t, s.Restart())
	assert.NotEqual(t, old, s.PID)
	assert.False(t, alive(old), "the old server still runs")
	v, err := rdb.Get(ctx, "kept").Result()
	require.NoError(t, err)
	assert.Equal(t, "yes", v)

	plain, err := redistest.Start()
	require.NoError(t, err)
	defer plain.Close()
	p := redis.NewClient(&redis.Options{Addr: plain.Addr})
	defer p.Close()
	require.NoError(t, p.Set(ctx, "lost", "yes", 0).Err())
	require.NoError(t, plain.Restart())
	assert.ErrorIs(t, p.Get(ctx, "lost").Err(), redis.Nil, "a server without persistence forgets at a restart")
}
