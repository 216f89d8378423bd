package voicetest_test

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/voicetest"
)

// serverGoroutines returns the stacks of goroutines running the
// package's code (not its tests).
func serverGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "voicecall/voicetest.(*Server)") || strings.Contains(g, "voicecall/voicetest.abandon") {
			out = append(out, g)
		}
	}
	return out
}

// lingering returns the package's goroutines that are still there once
// they have had the CPU to finish. Close returns when every one has
// called its WaitGroup's Done, and a goroutine may still be returning
// from that deferred call, so the check gives them up to 5 seconds of
// yields (a bounded loop, no sleep) before it reports them.
func lingering() []string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		g := serverGoroutines()
		if len(g) == 0 || time.Now().After(deadline) {
			return g
		}
		runtime.Gosched()
	}
}

// TestCloseLeavesNoGoroutines is not parallel: it runs while no other
// test of the package has a server.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	// lingering, not serverGoroutines: a server another test closed may
	// still have a goroutine returning from its deferred Done.
	require.Empty(t, lingering(), "before")
	rc := newReceiver(t)
	rc.status = func(string, int) int { return http.StatusInternalServerError }
	srv, err := voicetest.NewServer(
		voicetest.WithNotifyURLs(rc.URL, rc.URL),
		voicetest.WithFeeRetry(6, time.Hour),
		voicetest.WithMergeWindow(time.Hour))
	require.NoError(t, err)
	client, err := srv.NewClient()
	require.NoError(t, err)

	// A call that ends and whose CDR waits in a merge window...
	_, err = client.CallVerify(testCtx(t), verifyReq("+8613500000001"))
	require.NoError(t, err)
	_, err = srv.WaitCall(testCtx(t), func(c voicetest.Call) bool { return c.Ended })
	require.NoError(t, err)
	// ... calls in progress on a slow timeline ...
	require.NoError(t, srv.SetScenario("", voicetest.ScenarioNoAnswer))
	for range 3 {
		_, err = client.CallVerify(testCtx(t), verifyReq("+8613500000002"))
		require.NoError(t, err)
	}
	// ... and an answer delayed by an hour.
	require.NoError(t, srv.FailNext(1, voicetest.DelayResponse(time.Hour)))
	go func() {
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		if resp, err := hc.Do(rawRequest(t, srv, validBody())); err == nil {
			resp.Body.Close()
		}
	}()
	_, err = srv.WaitRequest(testCtx(t), func(r voicetest.Request) bool { return r.Fault == voicetest.FaultNone && r.Seq == 5 })
	require.NoError(t, err)
	require.NotEmpty(t, serverGoroutines())

	start := time.Now()
	srv.Close()
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Empty(t, lingering(), "after Close")
	srv.Close() // idempotent

	_, err = http.Post(srv.URL, "application/json", nil)
	assert.Error(t, err, "not listening any more")
	assert.Len(t, srv.Requests(), 5, "records stay readable")
}
