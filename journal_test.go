package voicecall_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/internal/cdrbatch"
	"github.com/voicecall-go/voicecall/journal"
)

// The Handler with a journal, tested here (package voicecall_test)
// because package journal imports package voicecall.

// failingJournal fails every Append with err.
type failingJournal struct{ err error }

func (f failingJournal) Append(context.Context, []voicecall.JournalRecord) error { return f.err }

func newTestJournal(t *testing.T, cfg journal.Config) *journal.Memory {
	t.Helper()
	j, err := journal.NewMemory(cfg)
	require.NoError(t, err)
	return j
}

func replayAll(t *testing.T, j journal.Journal) []journal.Entry {
	t.Helper()
	es, err := j.Replay(context.Background(), time.Time{}, time.Time{}, "", 1000)
	require.NoError(t, err)
	return es
}

func newJournalHandler(t *testing.T, cfg voicecall.HandlerConfig) *voicecall.Handler {
	t.Helper()
	h, err := voicecall.NewHandler(cfg)
	require.NoError(t, err)
	return h
}

// push serves a POST of body to h.
func push(h http.Handler, body []byte) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
	return w
}

// TestHandlerJournal: with a Journal, a push is answered 200 once each
// of its notifications is in the journal, keyed as the Handler's
// de-duplication keys them; a re-push adds nothing.
func TestHandlerJournal(t *testing.T) {
	t.Parallel()
	j := newTestJournal(t, journal.Config{})
	h := newJournalHandler(t, voicecall.HandlerConfig{Journal: j})

	status, err := os.ReadFile("testdata/notifications/status_callout_seed.json")
	require.NoError(t, err)
	w := push(h, status)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	es := replayAll(t, j)
	require.Len(t, es, 1)
	n, err := voicecall.ParseNotification(status)
	require.NoError(t, err)
	assert.Equal(t, voicecall.StatusKey(n.Status), es[0].Key)
	assert.Equal(t, voicecall.NotificationStatus, es[0].Kind)
	assert.Equal(t, string(status), string(es[0].Body), "a status event is kept as pushed")

	batch := cdrbatch.Generate(50)
	w = push(h, batch)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	es = replayAll(t, j)
	require.Len(t, es, 51)
	fees, err := voicecall.ParseNotification(batch)
	require.NoError(t, err)
	for i, e := range es[1:] {
		assert.Equal(t, voicecall.NotificationFee, e.Kind)
		assert.Equal(t, fees.Fees[i].DedupKey(), e.Key, "record %d", i)
		got, err := e.Notification()
		require.NoError(t, err)
		require.Len(t, got.Fees, 1)
		assert.Equal(t, e.Key, got.Fees[0].DedupKey(), "record %d: its body parses to the record of its key", i)
	}

	w = push(h, batch) // the platform's re-push
	require.Equal(t, http.StatusOK, w.Code)
	w = push(h, status)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Len(t, replayAll(t, j), 51, "a re-push adds no entry")

	unknown := []byte(`{"eventType":"somethingNew","x":1}`)
	w = push(h, unknown)
	require.Equal(t, http.StatusOK, w.Code)
	es = replayAll(t, j)
	require.Len(t, es, 52)
	assert.Equal(t, voicecall.NotificationUnknown, es[51].Kind)
	assert.Equal(t, string(unknown), string(es[51].Body))
}

// TestHandlerJournalFailure: a failing or full journal gets 503, never
// 200.
func TestHandlerJournalFailure(t *testing.T) {
	t.Parallel()
	status, err := os.ReadFile("testdata/notifications/status_callout_seed.json")
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		j    voicecall.Journal
	}{
		{"failing", failingJournal{err: errors.New("redis down")}},
		{"full", failingJournal{err: journal.ErrFull}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var log voicecall.LogSink
			logger := slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
			h := newJournalHandler(t, voicecall.HandlerConfig{Journal: c.j, Logger: logger})
			for _, body := range [][]byte{status, cdrbatch.Generate(3)} {
				w := push(h, body)
				assert.Equal(t, http.StatusServiceUnavailable, w.Code)
			}
			assert.Contains(t, log.String(), "journal append failed")
		})
	}

	full := newTestJournal(t, journal.Config{MaxLen: 2})
	h := newJournalHandler(t, voicecall.HandlerConfig{Journal: full})
	w := push(h, cdrbatch.Generate(3))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, "3 records in a journal of 2")
	assert.Empty(t, replayAll(t, full), "nothing of a refused batch is stored")
	w = push(h, cdrbatch.Generate(2))
	assert.Equal(t, http.StatusOK, w.Code)
}

func TestNewHandlerJournalWithCallbacks(t *testing.T) {
	t.Parallel()
	j := newTestJournal(t, journal.Config{})
	_, err := voicecall.NewHandler(voicecall.HandlerConfig{Journal: j, OnFee: func(context.Context, *voicecall.FeeRecord) error { return nil }})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Journal")
}
