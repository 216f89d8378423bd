package redisstore_test

// Records per second through a whole Handler run (parse, key, append,
// answer) with the journal on Redis against the in-memory journal, for
// 50-record CDR pushes, each record new. The ratio is the price of
// durability on a shared server: one round trip per push.

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/internal/cdrbatch"
	"github.com/voicecall-go/voicecall/journal"
)

// benchBatches returns a function giving a distinct 50-record batch for
// each i: the generated batch with i written into every sessionId (which all
// start with 1201_).
func benchBatches() func(i int) []byte {
	base := cdrbatch.Generate(50)
	marker := []byte("1201_")
	return func(i int) []byte {
		return bytes.ReplaceAll(base, marker, []byte("b"+strconv.Itoa(i)+"_"))
	}
}

func BenchmarkJournalHandler(b *testing.B) {
	big := journal.Config{MaxLen: 1 << 40, MaxBytes: 1 << 40}
	batch := benchBatches()
	run := func(b *testing.B, j journal.Journal) {
		h, err := voicecall.NewHandler(voicecall.HandlerConfig{Journal: j})
		if err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			i++
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(batch(i)))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
		b.ReportMetric(float64(i*50)/b.Elapsed().Seconds(), "records/s")
	}
	b.Run("journal=memory", func(b *testing.B) {
		j, err := journal.NewMemory(big)
		if err != nil {
			b.Fatal(err)
		}
		run(b, j)
	})
	b.Run("journal=redis", func(b *testing.B) {
		st, _ := newStore(b)
		j, err := st.Journal(big)
		if err != nil {
			b.Fatal(err)
		}
		run(b, j)
	})
}

// BenchmarkJournalHandlerPaired pushes the same new batch to a Handler
// with the in-memory journal and to one with the Redis journal in each
// iteration, in alternating order, each push timed alone, and reports
// records per second of each and the ratio redis/memory of the time per
// push, so that the machine's noise hits both alike.
func BenchmarkJournalHandlerPaired(b *testing.B) {
	big := journal.Config{MaxLen: 1 << 40, MaxBytes: 1 << 40}
	mem, err := journal.NewMemory(big)
	if err != nil {
		b.Fatal(err)
	}
	st, _ := newStore(b)
	rj, err := st.Journal(big)
	if err != nil {
		b.Fatal(err)
	}
	var hs [2]http.Handler
	for k, j := range []journal.Journal{mem, rj} {
		if hs[k], err = voicecall.NewHandler(voicecall.HandlerConfig{Journal: j}); err != nil {
			b.Fatal(err)
		}
	}
	batch := benchBatches()
	var spent [2]time.Duration
	i := 0
	for b.Loop() {
		i++
		body := batch(i)
		for n := range 2 {
			k := (i + n) % 2
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			w := httptest.NewRecorder()
			t0 := time.Now()
			hs[k].ServeHTTP(w, req)
			spent[k] += time.Since(t0)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	}
	b.ReportMetric(float64(i*50)/spent[0].Seconds(), "records/s-memory")
	b.ReportMetric(float64(i*50)/spent[1].Seconds(), "records/s-redis")
	b.ReportMetric(float64(spent[1])/float64(spent[0]), "redis/memory")
}
