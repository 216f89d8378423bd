package journal_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/journal"
	"github.com/voicecall-go/voicecall/storetest"
)

// TestMemoryJournal: Memory passes the journals' conformance suite.
func TestMemoryJournal(t *testing.T) {
	t.Parallel()
	storetest.RunJournalTests(t, func(t *testing.T, cfg journal.Config) journal.Journal {
		j, err := journal.NewMemory(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return j
	})
}

func TestJournalConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := journal.Config{}.WithDefaults()
	require.NoError(t, err)
	assert.Equal(t, journal.Config{MaxLen: journal.DefaultMaxLen, MaxAge: journal.DefaultMaxAge, Lease: journal.DefaultLease,
		MaxAttempts: journal.DefaultMaxAttempts, MaxBytes: journal.DefaultMaxBytes}, c)
	for field, cfg := range map[string]journal.Config{
		"MaxLen": {MaxLen: -1}, "MaxAge": {MaxAge: -1}, "Lease": {Lease: -1}, "MaxAttempts": {MaxAttempts: -1}, "MaxBytes": {MaxBytes: -1},
	} {
		_, err := journal.NewMemory(cfg)
		if assert.Error(t, err, field) {
			assert.Contains(t, err.Error(), field)
		}
	}
}

// TestMemoryJournalBytes: the memory journal is bounded in bytes too.
func TestMemoryJournalBytes(t *testing.T) {
	t.Parallel()
	j, err := journal.NewMemory(journal.Config{MaxBytes: 100})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, j.Append(ctx, []voicecall.JournalRecord{{Key: voicecall.DedupKey{1}, Body: make([]byte, 60)}}))
	assert.ErrorIs(t, j.Append(ctx, []voicecall.JournalRecord{{Key: voicecall.DedupKey{2}, Body: make([]byte, 60)}}), journal.ErrFull)
	require.NoError(t, j.Append(ctx, []voicecall.JournalRecord{{Key: voicecall.DedupKey{3}, Body: make([]byte, 40)}}))
}
