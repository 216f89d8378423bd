package otp_test

import (
	"testing"

	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/storetest"
)

func TestMemoryCodeStore(t *testing.T) {
	t.Parallel()
	storetest.RunCodeStoreTests(t, func(*testing.T) otp.CodeStore { return otp.NewMemoryCodeStore() })
}

func TestMemoryGuardStore(t *testing.T) {
	t.Parallel()
	storetest.RunGuardStoreTests(t, func(*testing.T) otp.GuardStore { return otp.NewMemoryGuardStore() })
}
