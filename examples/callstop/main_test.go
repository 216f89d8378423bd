package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/examples/internal/clitest"
	"github.com/voicecall-go/voicecall/voicetest"
)

const secret = "exampleSecret-DoNotPrint"

func env(srv *voicetest.Server) func(string) string {
	return clitest.Env(srv.URL, "click2callKey", secret)
}

func runMain(t *testing.T, args []string, getenv func(string) string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, run, args, getenv, secret)
}

// TestStopLiveThenEnded: exit 0 on a live session (saying so on
// stdout), 1 once it has ended.
func TestStopLiveThenEnded(t *testing.T) {
	t.Parallel()
	app := voicetest.App{Key: "click2callKey", Secret: secret}
	srv := voicetest.Start(t, voicetest.WithApp(app), voicetest.WithScenario(voicetest.ScenarioLongCall))
	client, err := voicecall.NewClient(srv.URL, app.Key, app.Secret)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := client.Click2Call(ctx, &voicecall.Click2CallRequest{DisplayNumber: "+8675528000088", CallerNumber: "+8613500000011",
		DisplayCalleeNumber: "+8675528000088", CalleeNumber: "+8613500000022"})
	require.NoError(t, err)

	code, out, errOut := runMain(t, []string{"-session", resp.SessionID, "-timeout", "5s"}, env(srv))
	assert.Equal(t, 0, code, errOut)
	assert.Equal(t, "stop requested for session "+resp.SessionID+" (the disconnect event, stateCode 8017, follows)\n", out, "success is said")
	assert.Empty(t, errOut)
	call, err := srv.WaitCall(ctx, func(c voicetest.Call) bool { return c.SessionID == resp.SessionID && c.Ended })
	require.NoError(t, err)
	assert.True(t, call.Stopped)
	assert.Equal(t, voicecall.StateHangUpRequested, call.StateCode)

	code, _, errOut = runMain(t, []string{"-session", resp.SessionID}, env(srv))
	assert.Equal(t, 1, code, "the session has ended")
	assert.Contains(t, errOut, "rejected")
}

func TestExitStatuses(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithApp(voicetest.App{Key: "click2callKey", Secret: secret}))
	code, _, _ := runMain(t, []string{"-h"}, env(srv))
	assert.Equal(t, 0, code)
	for _, args := range [][]string{{}, {"-session", ""}, {"-session", "x", "extra"}, {"-bad"}} {
		code, _, _ := runMain(t, args, env(srv))
		assert.Equal(t, 2, code, "%v", args)
	}
	assert.Empty(t, srv.Requests())
	code, _, _ = runMain(t, []string{"-session", "x"}, func(string) string { return "" })
	assert.Equal(t, 2, code)

	// An answer lost every time: the stop is resent (it cannot place a
	// call), then reported unknown.
	require.NoError(t, srv.FailWhen(func(r voicetest.Request) bool { return r.API == voicetest.APICallStop }, voicetest.DropResponse()))
	code, _, _ = runMain(t, []string{"-session", "x"}, env(srv))
	assert.Equal(t, 3, code)
	assert.Len(t, srv.Requests(), 3, "resent up to the default 3 attempts")
}

// A clock the platform refuses gets the SDK's hint.
func TestClockSkewHint(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithClock(func() time.Time { return time.Now().Add(-time.Hour) }))
	code, _, errOut := runMain(t, []string{"-session", "x"}, func(k string) string {
		return map[string]string{"VOICECALL_BASE_URL": srv.URL, "VOICECALL_APP_KEY": voicetest.DefaultAppKey, "VOICECALL_APP_SECRET": voicetest.DefaultAppSecret}[k]
	})
	assert.Equal(t, 1, code, errOut)
	assert.Contains(t, errOut, "hint: Created was too far from the platform's clock")
}
