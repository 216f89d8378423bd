package otp_test

import (
	"testing"
	"time"

	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/storetest"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	storetest.RunStoreTests(t, func(*testing.T) storetest.Harness { return storetest.Harness{Store: otp.NewMemoryStore()} })
}

func TestGuardScenarios(t *testing.T) {
	t.Parallel()
	storetest.RunGuardScenarios(t, true, func(_ *testing.T, now func() time.Time) otp.Store { return otp.NewMemoryStoreClock(now) })
}
