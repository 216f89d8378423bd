package redistest_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voicecall-go/voicecall/redisstore/redistest"
)

var (
	srv    *redistest.Server
	srvErr error
)

func TestMain(m *testing.M) {
	srv, srvErr = redistest.Start()
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// client returns a go-redis client through p with a short read timeout
// and the given retries (-1: none).
func client(t *testing.T, p *redistest.Proxy, retries int) *redis.Client {
	rdb := redis.NewClient(&redis.Options{
		Addr:        p.Addr,
		ReadTimeout: 300 * time.Millisecond,
		MaxRetries:  retries,
		// Retry at once: the test waits for nothing but the faults.
		MinRetryBackoff: -1,
		MaxRetryBackoff: -1,
	})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// direct reads a key straight from the server, past the proxy.
func direct(t *testing.T, key string) string {
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	v, err := rdb.Get(t.Context(), key).Result()
	if err == redis.Nil {
		return ""
	}
	require.NoError(t, err)
	return v
}

// TestProxyFaults shows what each fault does to a command that is not
// safe to repeat (INCR), with go-redis's retries on and off: the proxy
// must make Redis run the command (or not) exactly as documented.
func TestProxyFaults(t *testing.T) {
	redistest.Need(t, srvErr)
	for _, tc := range []struct {
		fault   redistest.Fault
		retries int
		// want: the reply's error or value, and the counter afterwards.
		wantErr bool
		want    int64
		stored  string
	}{
		{fault: redistest.Fault{Kind: redistest.DropReply}, retries: -1, wantErr: true, stored: "1"},
		{fault: redistest.Fault{Kind: redistest.DropReply}, retries: 3, want: 2, stored: "2"},
		{fault: redistest.Fault{Kind: redistest.DelayReply, Delay: time.Second}, retries: -1, wantErr: true, stored: "1"},
		{fault: redistest.Fault{Kind: redistest.DelayReply, Delay: time.Second}, retries: 3, want: 2, stored: "2"},
		{fault: redistest.Fault{Kind: redistest.DelayReply, Delay: time.Millisecond}, retries: -1, want: 1, stored: "1"},
		{fault: redistest.Fault{Kind: redistest.ResetBefore}, retries: -1, wantErr: true, stored: ""},
		{fault: redistest.Fault{Kind: redistest.ResetBefore}, retries: 3, want: 1, stored: "1"},
		{fault: redistest.Fault{Kind: redistest.ResetAfter}, retries: -1, wantErr: true, stored: "1"},
	} {
		name := tc.fault.Kind.String()
		if tc.retries >= 0 {
			name += "/retries"
		}
		t.Run(name, func(t *testing.T) {
			p, err := redistest.NewProxy(srv.Addr)
			require.NoError(t, err)
			defer p.Close()
			rdb := client(t, p, tc.retries)
			key := "proxytest:" + t.Name()
			require.NoError(t, rdb.Del(t.Context(), key).Err())
			p.Inject(redistest.Command("incr"), tc.fault)
			n, err := rdb.Incr(t.Context(), key).Result()
			if tc.wantErr {
				assert.Error(t, err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.want, n)
			}
			assert.Equal(t, tc.stored, direct(t, key))
			assert.Zero(t, p.Pending(), "the fault was met")
		})
	}
}

// TestProxyLog checks the command log and that a fault applies once, to
// the command it matches only.
func TestProxyLog(t *testing.T) {
	redistest.Need(t, srvErr)
	p, err := redistest.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	rdb := client(t, p, -1)
	ctx := t.Context()
	require.NoError(t, rdb.Ping(ctx).Err())
	p.ResetLog()
	p.Inject(redistest.Command("GET"), redistest.Fault{Kind: redistest.ResetBefore})
	require.NoError(t, rdb.Set(ctx, "proxytest:log", "v", 0).Err())
	assert.Error(t, rdb.Get(ctx, "proxytest:log").Err(), "the first GET is reset")
	v, err := rdb.Get(ctx, "proxytest:log").Result()
	require.NoError(t, err, "the second GET passes")
	assert.Equal(t, "v", v)

	var names []string
	for _, c := range p.Commands() {
		if c[0] != "HELLO" && c[0] != "CLIENT" { // a new connection's handshake
			names = append(names, c[0])
		}
	}
	assert.Equal(t, []string{"SET", "GET", "GET"}, names)

	// A pipeline is served in order; RESP3 aggregates pass whole.
	cmds, err := rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.HSet(ctx, "proxytest:h", "a", 1, "b", 2)
		pipe.HGetAll(ctx, "proxytest:h")
		pipe.Get(ctx, "proxytest:log")
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "1", "b": "2"}, cmds[1].(*redis.MapStringStringCmd).Val())
	assert.Equal(t, "v", cmds[2].(*redis.StringCmd).Val())
}

// TestProxyClose checks that Close ends a delayed reply and every
// connection without waiting for the delay.
func TestProxyClose(t *testing.T) {
	redistest.Need(t, srvErr)
	p, err := redistest.NewProxy(srv.Addr)
	require.NoError(t, err)
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1, ReadTimeout: time.Minute})
	defer rdb.Close()
	p.Inject(redistest.Command("PING"), redistest.Fault{Kind: redistest.DelayReply, Delay: time.Hour})
	errc := make(chan error, 1)
	go func() { errc <- rdb.Ping(context.Background()).Err() }()
	require.Eventually(t, func() bool { return p.Pending() == 0 }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, p.Close())
	select {
	case err := <-errc:
		assert.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the delayed PING was not ended by Close")
	}
}
