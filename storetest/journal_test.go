package storetest_test

import (
	"testing"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/storetest"
)

func TestMemoryJournal(t *testing.T) {
	t.Parallel()
	storetest.RunJournalTests(t, func(t *testing.T, cfg voicecall.JournalConfig) voicecall.Journal {
		j, err := voicecall.NewMemoryJournal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return j
	})
}
