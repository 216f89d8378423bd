package redisstore_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/internal/cdrbatch"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/storetest"
)

func TestDedupStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.RunDedupStoreTests(t, func(t *testing.T, ttl time.Duration) voicecall.DedupStore {
		st, _ := newStore(t)
		return st.DedupStore(ttl, 0)
	})
}

// TestDedupRoundTrips: a batch of 50 keys is one round trip for each
// operation; an empty batch is none.
func TestDedupRoundTrips(t *testing.T) {
	t.Parallel()
	st, rt := newStore(t)
	ctx := context.Background()
	d := st.DedupStore(0, 0)
	warm := make([]voicecall.DedupKey, 1)
	_, err := d.Claim(ctx, warm)
	require.NoError(t, err)
	require.NoError(t, d.Release(ctx, warm))
	require.NoError(t, d.Commit(ctx, warm))

	keys := make([]voicecall.DedupKey, 50)
	for i := range keys {
		keys[i][0], keys[i][1] = 1, byte(i)
	}
	for _, o := range []struct {
		name  string
		op    func() error
		trips int64
	}{
		{"Claim50", func() error { _, err := d.Claim(ctx, keys); return err }, 1},
		{"Release50", func() error { return d.Release(ctx, keys) }, 1},
		{"Commit50", func() error { return d.Commit(ctx, keys) }, 1},
		{"ClaimEmpty", func() error { _, err := d.Claim(ctx, nil); return err }, 0},
		{"CommitEmpty", func() error { return d.Commit(ctx, nil) }, 0},
	} {
		before := rt.n.Load()
		require.NoError(t, o.op(), o.name)
		assert.Equal(t, o.trips, rt.n.Load()-before, "%s: round trips", o.name)
	}
}

// receiver is one receiver instance: a Handler on its own connection to
// the shared Redis, counting OnFee calls in a map shared by all.
type receiver struct {
	srv *httptest.Server
}

type feeCounter struct {
	mu sync.Mutex
	n  map[string]int // by sessionId
}

func (c *feeCounter) onFee(_ context.Context, rec *voicecall.FeeRecord) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[rec.SessionID]++
	return nil
}

func (c *feeCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

func newReceiver(t *testing.T, prefix string, c *feeCounter) *receiver {
	t.Helper()
	st, err := redisstore.Open(redisSrv.URL, redisstore.WithPrefix(prefix))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	h, err := voicecall.NewHandler(voicecall.HandlerConfig{OnFee: c.onFee, Dedup: st.DedupStore(0, 0)})
	require.NoError(t, err)
	r := &receiver{srv: httptest.NewServer(h)}
	t.Cleanup(r.srv.Close)
	return r
}

func push(t *testing.T, url string, body []byte) int {
	t.Helper()
	resp, err := http.Post(url, "application/json;charset=UTF-8", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestTwoHandlersOneBatch: two receiver instances sharing one Redis are
// pushed the same 50-record batch at the same moment; each record
// reaches OnFee exactly once between them (an instance that finds a
// record claimed by the other answers 503, and the platform's re-push
// then finds it done). A receiver started afterwards on the same Redis
// (a restart) skips a re-push of the batch.
func TestTwoHandlersOneBatch(t *testing.T) {
	t.Parallel()
	redistestNeed(t)
	batch := cdrbatch.Generate(50)
	for round := range 5 {
		prefix := "twohandlers:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":" + strconv.Itoa(round) + ":"
		c := &feeCounter{n: make(map[string]int)}
		a, b := newReceiver(t, prefix, c), newReceiver(t, prefix, c)
		codes := make([]int, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, r := range []*receiver{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				codes[i] = push(t, r.srv.URL, batch)
			}()
		}
		close(start)
		wg.Wait()
		for i, r := range []*receiver{a, b} {
			// The platform re-pushes a batch not answered 200.
			for try := 0; codes[i] != http.StatusOK && try < 3; try++ {
				codes[i] = push(t, r.srv.URL, batch)
			}
			assert.Equal(t, http.StatusOK, codes[i], "round %d instance %d", round, i)
		}
		assert.Equal(t, 50, c.total(), "round %d: OnFee calls between the two instances", round)
		for i := range 50 {
			assert.Equal(t, 1, c.n[cdrbatch.SessionID(i)], "round %d record %d", round, i)
		}

		restarted := newReceiver(t, prefix, c)
		assert.Equal(t, http.StatusOK, push(t, restarted.srv.URL, batch))
		assert.Equal(t, 50, c.total(), "round %d: the restarted instance skipped the re-pushed batch", round)
	}
}

// TestHandlerSeesOtherInstancesClaim: while one instance is inside OnFee
// for a batch, another instance pushed the same batch answers 503 and
// calls nothing (the records are busy); once the first is done, the
// re-push finds them done.
func TestHandlerSeesOtherInstancesClaim(t *testing.T) {
	t.Parallel()
	redistestNeed(t)
	batch := cdrbatch.Generate(50)
	prefix := "overlap:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	entered, gate := make(chan struct{}), make(chan struct{})
	var once sync.Once
	c := &feeCounter{n: make(map[string]int)}
	st, err := redisstore.Open(redisSrv.URL, redisstore.WithPrefix(prefix))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	h, err := voicecall.NewHandler(voicecall.HandlerConfig{Dedup: st.DedupStore(0, 0), OnFee: func(ctx context.Context, rec *voicecall.FeeRecord) error {
		once.Do(func() { close(entered); <-gate })
		return c.onFee(ctx, rec)
	}})
	require.NoError(t, err)
	a := httptest.NewServer(h)
	t.Cleanup(a.Close)
	b := newReceiver(t, prefix, c)

	first := make(chan int, 1)
	go func() { first <- push(t, a.URL, batch) }()
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("instance a never called OnFee")
	}
	assert.Equal(t, http.StatusServiceUnavailable, push(t, b.srv.URL, batch), "records busy on the other instance")
	assert.Equal(t, 0, c.total(), "instance b called nothing")
	close(gate)
	assert.Equal(t, http.StatusOK, <-first)
	assert.Equal(t, http.StatusOK, push(t, b.srv.URL, batch), "the re-push finds every record done")
	assert.Equal(t, 50, c.total())
}
