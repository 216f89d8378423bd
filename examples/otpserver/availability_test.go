//go:build linux

package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/examples/internal/attack"
	vcserver "github.com/voicecall-go/voicecall/server"
	"github.com/voicecall-go/voicecall/voicetest"
)

// TestAvailabilityUnderAttack builds otpserver and runs it in a child
// process with its default limits and push verification on; while each
// attack of the availability issue runs on /voicecall/notify from other loopback
// addresses (at a size CI runs in seconds: examples/internal/cmd/attack runs the
// full size), legitimate requests from 127.0.0.1 (a signed status push
// and a signed 50-record CDR batch to /voicecall/notify, a new code by POST
// /codes) must all be answered as they should, with p99 <= 1 s, and the
// program's RSS must grow by at most 64 MiB.
func TestAvailabilityUnderAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program and opens thousands of connections")
	}
	platform := voicetest.Start(t)
	app := platform.Apps()[0]
	bin := filepath.Join(t.TempDir(), "otpserver")
	require.NoError(t, attack.Build(".", ".", bin))
	// The hostile connections are held by a process of their own, as from
	// another machine; the legitimate requests are sent from this one.
	attacker := filepath.Join(t.TempDir(), "hostile")
	require.NoError(t, attack.Build("../..", "./examples/internal/cmd/hostile", attacker))
	const pushURL = "https://otp.example.com/voicecall/notify"
	prog, err := attack.Start(bin,
		[]string{"-addr", "127.0.0.1:0", "-display", "+8675528000088", "-pretone", "p.wav", "-verify-url", pushURL, "-client-cap", "0", "-cooldown", "0"},
		[]string{"VOICECALL_BASE_URL=" + platform.URL, "VOICECALL_APP_KEY=" + app.Key, "VOICECALL_APP_SECRET=" + app.Secret, "VOICECALL_OTP_KEY=" + otpKey})
	require.NoError(t, err)
	defer prog.Stop()
	base := prog.URL

	batch, err := os.ReadFile(filepath.Join("..", "..", "testdata", "notifications", "fee_batch50.json"))
	require.NoError(t, err)
	status := []byte(`{"eventType":"callout","statusInfo":{"sessionId":"attack-probe"}}`)
	sign := &attack.Signer{AppKey: app.Key, AppSecret: app.Secret, URL: pushURL}
	notify := base + "/voicecall/notify"
	// POST /codes every 10th round: the guard allows 100 codes a minute to
	// the app.
	probes := []attack.Probe{attack.PushProbe("status push", notify, status, sign), attack.PushProbe("fee batch", notify, batch, sign), attack.CodesProbe(base, 10)}
	for _, p := range probes { // warm up, and check that each is answered as expected
		require.NoError(t, p.Do(context.Background(), http.DefaultClient), p.Name)
	}
	for _, a := range []struct {
		kind  attack.Kind
		conns int
	}{
		{attack.BigBodySilence, 150},
		{attack.IdleConns, 2000},
	} {
		t.Run(string(a.kind), func(t *testing.T) {
			res, err := attack.Run(context.Background(), attack.Config{
				Addr: prog.Addr(), Pid: prog.Pid, Path: "/voicecall/notify", Kind: a.kind, Conns: a.conns,
				Duration: 1500 * time.Millisecond, Probes: probes, Attacker: attacker,
			})
			require.NoError(t, err)
			t.Log(res)
			assert.GreaterOrEqual(t, res.Opened, int64(a.conns), "every hostile connection was opened")
			// The program holds at most its connection cap (it closes the
			// others' connections or leaves them in the accept queue).
			assert.GreaterOrEqual(t, res.OpenAtStart, int64(min(a.conns, vcserver.DefaultMaxConns)/4), "and held")
			assert.GreaterOrEqual(t, res.Requests, 9)
			assert.Zero(t, res.Failures, res.FirstError)
			assert.LessOrEqual(t, res.P99, time.Second)
			assert.LessOrEqual(t, res.RSSGrowth, int64(64<<20))
		})
	}
}
