package redisstore_test

import (
	"testing"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/storetest"
)

func newJournal(t *testing.T, st *redisstore.Store, cfg voicecall.JournalConfig) *redisstore.Journal {
	t.Helper()
	j, err := st.Journal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestJournalConformance(t *testing.T) {
	t.Parallel()
	storetest.RunJournalTests(t, func(t *testing.T, cfg voicecall.JournalConfig) voicecall.Journal {
		st, _ := newStore(t)
		return newJournal(t, st, cfg)
	})
}

// TestJournalConformanceCluster: the same suite on a 3-master Redis
// Cluster (the journal's keys share the {journal} hash tag).
func TestJournalConformanceCluster(t *testing.T) {
	t.Parallel()
	storetest.RunJournalTests(t, func(t *testing.T, cfg voicecall.JournalConfig) voicecall.Journal {
		return newJournal(t, newClusterStore(t), cfg)
	})
}
