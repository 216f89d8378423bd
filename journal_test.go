package voicecall

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/internal/cdrbatch"
)

// failingJournal fails every Append with err.
type failingJournal struct {
	Journal
	err error
}

func (f failingJournal) Append(context.Context, []JournalRecord) error { return f.err }

func newTestJournal(t *testing.T, cfg JournalConfig) *MemoryJournal {
	t.Helper()
	j, err := NewMemoryJournal(cfg)
	require.NoError(t, err)
	return j
}

func replayAll(t *testing.T, j Journal) []JournalEntry {
	t.Helper()
	es, err := j.Replay(context.Background(), time.Time{}, time.Time{}, "", 1000)
	require.NoError(t, err)
	return es
}

// TestHandlerJournal: with a Journal, a push is answered 200 once each
// of its notifications is in the journal, keyed as the Handler's
// de-duplication keys them; a re-push adds nothing.
func TestHandlerJournal(t *testing.T) {
	t.Parallel()
	j := newTestJournal(t, JournalConfig{})
	h := newHandler(t, HandlerConfig{Journal: j})

	status, err := os.ReadFile("testdata/notifications/status_callout_seed.json")
	require.NoError(t, err)
	w := serve(t, h, http.MethodPost, "", status)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	es := replayAll(t, j)
	require.Len(t, es, 1)
	n, err := ParseNotification(status)
	require.NoError(t, err)
	assert.Equal(t, statusKey(n.Status), es[0].Key)
	assert.Equal(t, NotificationStatus, es[0].Kind)
	assert.Equal(t, string(status), string(es[0].Body), "a status event is kept as pushed")

	batch := cdrbatch.Generate(50)
	w = serve(t, h, http.MethodPost, "", batch)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	es = replayAll(t, j)
	require.Len(t, es, 51)
	fees, err := ParseNotification(batch)
	require.NoError(t, err)
	for i, e := range es[1:] {
		assert.Equal(t, NotificationFee, e.Kind)
		assert.Equal(t, fees.Fees[i].DedupKey(), e.Key, "record %d", i)
		got, err := e.Notification()
		require.NoError(t, err)
		require.Len(t, got.Fees, 1)
		assert.Equal(t, e.Key, got.Fees[0].DedupKey(), "record %d: its body parses to the record of its key", i)
	}

	w = serve(t, h, http.MethodPost, "", batch) // the platform's re-push
	require.Equal(t, http.StatusOK, w.Code)
	w = serve(t, h, http.MethodPost, "", status)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Len(t, replayAll(t, j), 51, "a re-push adds no entry")

	unknown := []byte(`{"eventType":"somethingNew","x":1}`)
	w = serve(t, h, http.MethodPost, "", unknown)
	require.Equal(t, http.StatusOK, w.Code)
	es = replayAll(t, j)
	require.Len(t, es, 52)
	assert.Equal(t, NotificationUnknown, es[51].Kind)
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
		j    Journal
	}{
		{"failing", failingJournal{err: errors.New("redis down")}},
		{"full", failingJournal{err: ErrJournalFull}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var log logSink
			h := newHandler(t, HandlerConfig{Journal: c.j, Logger: log.logger()})
			for _, body := range [][]byte{status, cdrbatch.Generate(3)} {
				w := serve(t, h, http.MethodPost, "", body)
				assert.Equal(t, http.StatusServiceUnavailable, w.Code)
			}
			assert.Contains(t, log.String(), "journal append failed")
		})
	}

	full := newTestJournal(t, JournalConfig{MaxLen: 2})
	h := newHandler(t, HandlerConfig{Journal: full})
	w := serve(t, h, http.MethodPost, "", cdrbatch.Generate(3))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, "3 records in a journal of 2")
	assert.Empty(t, replayAll(t, full), "nothing of a refused batch is stored")
	w = serve(t, h, http.MethodPost, "", cdrbatch.Generate(2))
	assert.Equal(t, http.StatusOK, w.Code)
}

func TestNewHandlerJournalWithCallbacks(t *testing.T) {
	t.Parallel()
	j := newTestJournal(t, JournalConfig{})
	_, err := NewHandler(HandlerConfig{Journal: j, OnFee: func(context.Context, *FeeRecord) error { return nil }})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Journal")
}

func TestJournalConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := JournalConfig{}.WithDefaults()
	require.NoError(t, err)
	assert.Equal(t, JournalConfig{MaxLen: DefaultJournalMaxLen, MaxAge: DefaultJournalMaxAge, Lease: DefaultJournalLease,
		MaxAttempts: DefaultJournalMaxAttempts, MaxBytes: DefaultJournalMaxBytes}, c)
	for field, cfg := range map[string]JournalConfig{
		"MaxLen": {MaxLen: -1}, "MaxAge": {MaxAge: -1}, "Lease": {Lease: -1}, "MaxAttempts": {MaxAttempts: -1}, "MaxBytes": {MaxBytes: -1},
	} {
		_, err := NewMemoryJournal(cfg)
		if assert.Error(t, err, field) {
			assert.Contains(t, err.Error(), field)
		}
	}
}

// TestMemoryJournalBytes: the memory journal is bounded in bytes too.
func TestMemoryJournalBytes(t *testing.T) {
	t.Parallel()
	j := newTestJournal(t, JournalConfig{MaxBytes: 100})
	ctx := context.Background()
	require.NoError(t, j.Append(ctx, []JournalRecord{{Key: DedupKey{1}, Body: make([]byte, 60)}}))
	assert.ErrorIs(t, j.Append(ctx, []JournalRecord{{Key: DedupKey{2}, Body: make([]byte, 60)}}), ErrJournalFull)
	require.NoError(t, j.Append(ctx, []JournalRecord{{Key: DedupKey{3}, Body: make([]byte, 40)}}))
}
