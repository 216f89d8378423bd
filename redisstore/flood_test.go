package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/internal/cdrbatch"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
)

// TestDedupForgedFlood: 20,000 forged CDRs (unsigned pushes of 50
// distinct records each, as in the attack that measured 181 B a record)
// through a Handler on a Redis store bounded at 200,000 records (so its
// shards hold as many records each as a default store's at 100,000:
// TestDedupMemoryPerRecord measures those 100,000 at the store, three
// times faster than through the Handler) grow Redis by at most
// DedupRecordBytes a record; each reaches OnFee once and is answered
// 200. It runs on a redis-server of its own, so that no other test's
// keys are counted.
func TestDedupForgedFlood(t *testing.T) {
	t.Parallel()
	srv, err := redistest.Start()
	redistest.Need(t, err)
	t.Cleanup(srv.Close)
	st, err := redisstore.Open(srv.URL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	var handled atomic.Int64
	h, err := voicecall.NewHandler(voicecall.HandlerConfig{
		Dedup: st.DedupStore(0, 0, redisstore.WithMaxRecords(200_000)),
		OnFee: func(context.Context, *voicecall.FeeRecord) error { handled.Add(1); return nil },
	})
	require.NoError(t, err)
	template := cdrbatch.Generate(50)
	batch := func(i int) []byte { // 50 records no other batch has
		return bytes.ReplaceAll(template, []byte("_4294967295_"), fmt.Appendf(nil, "_%010d_", i))
	}
	push := func(body []byte) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/fee", bytes.NewReader(body)))
		return rec.Code
	}
	require.Equal(t, http.StatusOK, push(batch(0)), "warm-up: the salt and the scripts")

	const batches = 400
	before := usedMemory(t, st.Client())
	for i := 1; i <= batches; i++ {
		require.Equal(t, http.StatusOK, push(batch(i)), "batch %d", i)
	}
	after := usedMemory(t, st.Client())
	records := int64(batches * 50)
	assert.Equal(t, records+50, handled.Load(), "every forged record handled once")
	perRecord := float64(after-before) / float64(records)
	t.Logf("%d forged records: used_memory +%d bytes, %.1f B a record", records, after-before, perRecord)
	assert.LessOrEqual(t, perRecord, float64(redisstore.DedupRecordBytes), "Redis memory per record")
	require.Equal(t, http.StatusOK, push(batch(7)), "a re-push")
	assert.Equal(t, records+50, handled.Load(), "is skipped")
}
