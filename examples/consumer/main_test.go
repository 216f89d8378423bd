package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
	"github.com/voicecall-go/voicecall/journal"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
)

// lines collects what the consumers print, safe for concurrent writes.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSuffix(l.buf.String(), "\n"), "\n")
}

func (l *lines) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Count(l.buf.Bytes(), []byte("\n"))
}

// waitFor polls cond every 10 ms for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// TestConsumer: two instances in one group print each journal entry
// once, even an entry appended twice (a journal whose key marker was
// lost), and acknowledge everything.
func TestConsumer(t *testing.T) {
	srv, err := redistest.Start()
	redistest.Need(t, err)
	defer srv.Close()
	const prefix = "consumertest:"
	st, err := redisstore.Open(srv.URL, redisstore.WithPrefix(prefix))
	require.NoError(t, err)
	defer st.Close()
	j, err := st.Journal(journal.Config{})
	require.NoError(t, err)
	h, err := voicecall.NewHandler(voicecall.HandlerConfig{Journal: j})
	require.NoError(t, err)
	push := func(n voicecall.Notification) {
		body, err := json.Marshal(n)
		require.NoError(t, err)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
	push(voicecall.Notification{Kind: voicecall.NotificationStatus, Status: &voicecall.StatusEvent{
		Type: voicecall.EventDisconnect, SessionID: "s-1", Called: "+8613500001234", HasStateCode: true, StateCode: 0}})
	fees := make([]voicecall.FeeRecord, 3)
	for i := range fees {
		fees[i] = voicecall.FeeRecord{SessionID: "s-fee-" + string(rune('a'+i)), ICID: "icid-" + string(rune('a'+i)), CalleeNum: "+8613500005678"}
	}
	push(voicecall.Notification{Kind: voicecall.NotificationFee, Fees: fees})

	out := &lines{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 2)
	for _, name := range []string{"a", "b"} {
		go func() {
			errs <- run(ctx, []string{"-redis", srv.URL, "-redis-prefix", prefix, "-group", "g", "-consumer", name, "-poll", "20ms"}, out, io.Discard)
		}()
	}
	waitFor(t, "4 lines", func() bool { return out.count() >= 4 })

	// An entry appended a second time (its journal marker lost with a
	// Redis restart, say): the consumers' idempotency set prints it once.
	rdb := st.Client()
	first, err := rdb.XRangeN(t.Context(), prefix+"{journal}:entries", "-", "+", 1).Result()
	require.NoError(t, err)
	require.NoError(t, rdb.XAdd(t.Context(), &redis.XAddArgs{Stream: prefix + "{journal}:entries", Values: first[0].Values}).Err())
	push(voicecall.Notification{Kind: voicecall.NotificationUnknown, Unknown: &voicecall.UnknownEvent{Type: "somethingNew", Raw: []byte(`{"eventType":"somethingNew"}`)}})
	waitFor(t, "every entry acknowledged", func() bool {
		gs, err := rdb.XInfoGroups(t.Context(), prefix+"{journal}:entries").Result()
		return err == nil && len(gs) == 1 && gs[0].Pending == 0 && gs[0].Lag == 0 && gs[0].EntriesRead == 6
	})
	cancel()
	for range 2 {
		select {
		case err := <-errs:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("a consumer did not stop")
		}
	}

	got := out.all()
	require.Len(t, got, 5, "each of 5 distinct entries printed once:\n%s", strings.Join(got, "\n"))
	keys := map[string]bool{}
	kinds := map[string]int{}
	for _, l := range got {
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &v), l)
		keys[v["key"].(string)] = true
		kinds[v["kind"].(string)]++
		assert.NotContains(t, l, "13500001234")
		assert.NotContains(t, l, "13500005678")
	}
	assert.Len(t, keys, 5)
	assert.Equal(t, map[string]int{"status": 1, "fee": 3, "unknown": 1}, kinds)
	assert.Contains(t, strings.Join(got, "\n"), `"called":"**********1234"`)
}

func TestConsumerUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-redis", "redis://127.0.0.1:1/0", "-batch", "0"},
		{"-redis", "redis://127.0.0.1:1/0", "extra"},
		{"-redis", "::not a url"},
	} {
		err := run(context.Background(), args, io.Discard, io.Discard)
		var usage cli.UsageError
		assert.True(t, errors.As(err, &usage), "%q: %v, want a usage error", args, err)
	}
}
