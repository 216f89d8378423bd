package vcotel_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine (a connection, a
// server, a span processor) is still running after they end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
