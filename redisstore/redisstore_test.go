package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
)

// The tests share one redis-server, started by TestMain on a free
// loopback port with persistence off and stopped by its PID; each test
// writes under its own key prefix.
var (
	redisSrv *redistest.Server
	redisErr error
)

func TestMain(m *testing.M) {
	if os.Getenv("JOURNAL_REDIS") != "" { // a consumer process of TestJournalFaults
		os.Exit(journalConsumerMain())
	}
	redisSrv, redisErr = redistest.Start()
	code := m.Run()
	redisSrv.Close()
	closeCluster()
	os.Exit(code)
}

func redistestNeed(t testing.TB) {
	t.Helper()
	redistest.Need(t, redisErr)
}

// roundTrips counts the commands go-redis sends, a pipeline counting
// once.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

// newStore returns a Store on the test server under a fresh prefix, and
// its round-trip counter.
func newStore(t testing.TB) (*redisstore.Store, *roundTrips) {
	t.Helper()
	redistest.Need(t, redisErr)
	var b [8]byte
	_, _ = rand.Read(b[:])
	st, err := redisstore.Open(redisSrv.URL, redisstore.WithPrefix("test:"+hex.EncodeToString(b[:])+":"))
	if err != nil {
		t.Fatal(err)
	}
	rt := &roundTrips{}
	st.Client().AddHook(rt)
	t.Cleanup(func() { _ = st.Close() })
	prefixes.Store(st, "test:"+hex.EncodeToString(b[:])+":")
	return st, rt
}

var prefixes sync.Map // *redisstore.Store -> its prefix

// redisstoreSamePrefix opens a second Store (another instance) on the
// keys of st.
func redisstoreSamePrefix(t testing.TB, st *redisstore.Store) *redisstore.Store {
	t.Helper()
	p, _ := prefixes.Load(st)
	other, err := redisstore.Open(redisSrv.URL, redisstore.WithPrefix(p.(string)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	return other
}
