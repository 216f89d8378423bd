//go:build linux

package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/examples/internal/attack"
	"github.com/voicecall-go/voicecall/server"
)

// ciAttacks are the availability issue's attacks at a size CI runs in
// seconds (examples/internal/cmd/attack runs them at full size; docs/OPERATIONS.md
// has both sets of figures).
var ciAttacks = []struct {
	kind   attack.Kind
	conns  int
	reopen bool
}{
	{attack.DeclaredBody, 300, true},
	{attack.IdleKeepAlive, 300, false},
	{attack.Slowloris, 600, false},
	{attack.IdleConns, 2000, false},
}

// TestAvailabilityUnderAttack builds the program and runs it with its
// default limits in a child process; while each attack runs from other
// loopback addresses, legitimate pushes (a 50-record CDR batch and a
// status event, each on a new connection from 127.0.0.1) must all be
// answered 200, with p99 <= 1 s, and the program's RSS must grow by at
// most 64 MiB.
func TestAvailabilityUnderAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program and opens thousands of connections")
	}
	bin := filepath.Join(t.TempDir(), "webhook")
	require.NoError(t, attack.Build(".", ".", bin))
	// The hostile connections are held by a process of their own, as from
	// another machine; the legitimate requests are sent from this one.
	attacker := filepath.Join(t.TempDir(), "hostile")
	require.NoError(t, attack.Build("../..", "./examples/internal/cmd/hostile", attacker))
	prog, err := attack.Start(bin, []string{"-addr", "127.0.0.1:0", "-path", "/n"}, []string{"VOICECALL_APP_SECRET="})
	require.NoError(t, err)
	defer prog.Stop()
	base := strings.TrimSuffix(prog.URL, "/n")
	batch, status := fixture(t, "fee_batch50.json"), fixture(t, "status_callout_seed.json")
	probes := []attack.Probe{attack.PushProbe("fee batch", base+"/n", batch, nil), attack.PushProbe("status", base+"/n", status, nil)}
	for _, p := range probes { // warm up
		require.NoError(t, p.Do(context.Background(), http.DefaultClient))
	}
	for _, a := range ciAttacks {
		t.Run(string(a.kind), func(t *testing.T) {
			res, err := attack.Run(context.Background(), attack.Config{
				Addr: prog.Addr(), Pid: prog.Pid, Path: "/n", Kind: a.kind, Conns: a.conns, Reopen: a.reopen,
				Duration: 1500 * time.Millisecond, Probes: probes, Attacker: attacker,
			})
			require.NoError(t, err)
			t.Log(res)
			assert.GreaterOrEqual(t, res.Opened, int64(a.conns), "every hostile connection was opened")
			// The program holds at most its connection cap (it closes the
			// others' connections or leaves them in the accept queue).
			assert.GreaterOrEqual(t, res.OpenAtStart, int64(min(a.conns, server.DefaultMaxConns)/4), "and held")
			assert.GreaterOrEqual(t, res.Requests, 10)
			assert.Zero(t, res.Failures, res.FirstError)
			assert.LessOrEqual(t, res.P99, time.Second)
			assert.LessOrEqual(t, res.RSSGrowth, int64(64<<20))
		})
	}
}

// TestForgedPushFloodLogsBounded floods the built program with pushes
// that fail its signature check (no X-AKSK header) for over a second:
// every one is answered 401, but its stderr gets at most 10 refusal
// lines a second, and a later line says how many were held back.
func TestForgedPushFloodLogsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	bin := filepath.Join(t.TempDir(), "webhook")
	require.NoError(t, attack.Build(".", ".", bin))
	prog, err := attack.Start(bin, []string{"-addr", "127.0.0.1:0", "-path", "/n", "-verify-url", "https://hooks.example.com/n"},
		[]string{"VOICECALL_APP_KEY=k", "VOICECALL_APP_SECRET=s3cr3t"})
	require.NoError(t, err)
	stopped := false
	defer func() {
		if !stopped {
			_ = prog.Stop()
		}
	}()
	body := fixture(t, "status_callout_seed.json")
	client := &http.Client{Timeout: 5 * time.Second}
	start := time.Now()
	sent := 0
	for sent < 20000 && (time.Since(start) < 1500*time.Millisecond || sent < 100) {
		resp, err := client.Post(prog.URL, "application/json", strings.NewReader(string(body)))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a push without a signature is refused")
		sent++
	}
	elapsed := time.Since(start)
	require.NoError(t, prog.Stop())
	stopped = true

	logged := strings.Count(prog.Stderr(), "notification refused")
	windows := int(elapsed/time.Second) + 2 // the seconds the flood touched
	t.Logf("%d forged pushes in %v: %d refusal lines", sent, elapsed.Round(time.Millisecond), logged)
	assert.Positive(t, logged, "refusals are logged")
	assert.LessOrEqual(t, logged, 10*windows, "at most 10 refusal lines a second")
	if sent > 10*windows {
		assert.Contains(t, prog.Stderr(), "suppressed=", "a later line counts the lines held back")
	}
}
