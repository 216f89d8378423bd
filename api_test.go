package voicecall

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxRootDocLines bounds what `go doc -short .` prints for the root
// package: it holds what users of the service call or read, and the rest
// lives in packages of its own (aksk, journal, server, ...).
const maxRootDocLines = 90

// TestRootPackageHoldsWhatUsersCall keeps the root package's surface
// from growing back: `go doc -short .` prints at most maxRootDocLines
// lines, and none of them is the X-AKSK plumbing, which is package aksk.
func TestRootPackageHoldsWhatUsersCall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go doc")
	}
	t.Parallel()
	cmd := exec.Command("go", "doc", "-short", ".")
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, err := cmd.Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	assert.LessOrEqual(t, len(lines), maxRootDocLines, "go doc -short . prints %d lines; move what users do not call to a package of its own:\n%s", len(lines), out)
	for _, line := range lines {
		for _, aksk := range []string{"func Sign", "func SignPush", "func ParseToken", "type Token ", "func NewNonce", "func ValidNonce", "func FormatCreated", "type PushLayout"} {
			assert.NotContains(t, line, aksk, "the X-AKSK scheme is package aksk")
		}
	}
}
