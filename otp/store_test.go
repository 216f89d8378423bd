package otp_test

import (
	"testing"

	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/storetest"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	storetest.RunStoreTests(t, func(*testing.T) storetest.Harness { return storetest.Harness{Store: otp.NewMemoryStore()} })
}
