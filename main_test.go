package voicecall

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine (a connection, a
// timer, a server) is still running after they end (fault matrix C25).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
