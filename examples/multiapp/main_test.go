package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/examples/internal/clitest"
	"github.com/voicecall-go/voicecall/voicetest"
)

var (
	verifyApp = voicetest.App{Key: "verifyAppKey", Secret: "verifySecret-DoNotPrint"}
	notifyApp = voicetest.App{Key: "notifyAppKey", Secret: "notifySecret-DoNotPrint"}
)

func env(srv *voicetest.Server, apps map[string]voicetest.App) func(string) string {
	m := map[string]string{"VOICECALL_BASE_URL": srv.URL}
	for capability, a := range apps {
		m["VOICECALL_"+capability+"_APP_KEY"], m["VOICECALL_"+capability+"_APP_SECRET"] = a.Key, a.Secret
	}
	return func(k string) string { return m[k] }
}

var args = []string{"-display", "+8675528000088", "-callee", "+8613500000001", "-code", "123456", "-pretone", "pre.wav", "-voice", "n.wav"}

func runMain(t *testing.T, args []string, getenv func(string) string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, run, args, getenv, "Secret-DoNotPrint")
}

// TestEachCallGoesThroughItsApp: the verification code is signed with the
// verification app's key, the notification with the notification app's.
func TestEachCallGoesThroughItsApp(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithApp(verifyApp), voicetest.WithApp(notifyApp), voicetest.WithTimeScale(0))
	code, out, errOut := runMain(t, args, env(srv, map[string]voicetest.App{Verify: verifyApp, Notify: notifyApp}))
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[0], "verify 1200_"))
	assert.True(t, strings.HasPrefix(lines[1], "notify 1201_"))
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, voicetest.APICallVerify, reqs[0].API)
	assert.Equal(t, verifyApp.Key, reqs[0].AppKey)
	assert.Equal(t, voicetest.APICallNotify, reqs[1].API)
	assert.Equal(t, notifyApp.Key, reqs[1].AppKey)
}

func TestMissingApp(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithApp(verifyApp))
	code, _, errOut := runMain(t, args, env(srv, map[string]voicetest.App{Verify: verifyApp}))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "no NOTIFY app configured")
	assert.Empty(t, srv.Requests())
	code, _, _ = runMain(t, []string{"-h"}, env(srv, nil))
	assert.Equal(t, 0, code)
}
