package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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

// recorded places a recorded click-to-call and returns the platform and the
// recording.
func recorded(t *testing.T) (*voicetest.Server, voicetest.Recording) {
	t.Helper()
	app := voicetest.App{Key: "click2callKey", Secret: secret}
	srv := voicetest.Start(t, voicetest.WithApp(app), voicetest.WithTimeScale(0))
	client, err := voicecall.NewClient(srv.URL, app.Key, app.Secret)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := client.Click2Call(ctx, &voicecall.Click2CallRequest{DisplayNumber: "+8675528000088", CallerNumber: "+8613500000011",
		DisplayCalleeNumber: "+8675528000088", CalleeNumber: "+8613500000022", Record: true})
	require.NoError(t, err)
	_, err = srv.WaitCall(ctx, func(c voicetest.Call) bool { return c.SessionID == resp.SessionID && c.Ended })
	require.NoError(t, err)
	recs := srv.Recordings()
	require.Len(t, recs, 1)
	return srv, recs[0]
}

func TestPrintsLocationAndDownloads(t *testing.T) {
	t.Parallel()
	srv, rec := recorded(t)
	code, out, errOut := runMain(t, []string{"-file", rec.FileName, "-domain", rec.Domain}, env(srv))
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, rec.Location, strings.TrimSpace(out), "the 301's Location")
	assert.Empty(t, srv.Downloads(), "the redirect is not followed")

	path := filepath.Join(t.TempDir(), "call.wav")
	code, out, errOut = runMain(t, []string{"-file", rec.FileName, "-domain", rec.Domain, "-o", path, "-timeout", "5s"}, env(srv))
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, rec.Location, strings.TrimSpace(out))
	wav, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Len(t, wav, rec.Size)
	assert.Equal(t, "RIFF", string(wav[:4]))
	dl := srv.Downloads()
	require.Len(t, dl, 1)
	assert.Equal(t, http.StatusOK, dl[0].Status)
	assert.Empty(t, dl[0].Header.Get("X-AKSK"), "no X-AKSK to the download host")
	assert.Empty(t, dl[0].Header.Get("Authorization"))
}

func TestExitStatuses(t *testing.T) {
	t.Parallel()
	srv, rec := recorded(t)
	code, _, _ := runMain(t, []string{"-h"}, env(srv))
	assert.Equal(t, 0, code)
	before := len(srv.Requests())
	for _, args := range [][]string{{}, {"-file", "x"}, {"-domain", "d"}, {"-file", "x", "-domain", "d", "extra"}} {
		code, _, _ := runMain(t, args, env(srv))
		assert.Equal(t, 2, code, "%v", args)
	}
	assert.Len(t, srv.Requests(), before, "nothing sent")

	code, _, _ = runMain(t, []string{"-file", "missing.wav", "-domain", rec.Domain}, env(srv))
	assert.Equal(t, 1, code, "no such recording")

	path := filepath.Join(t.TempDir(), "small.wav")
	code, _, errOut := runMain(t, []string{"-file", rec.FileName, "-domain", rec.Domain, "-o", path, "-max-bytes", "100"}, env(srv))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "larger than the download bound")
	assert.NotContains(t, errOut, "token=", "the download token is not printed in errors")
	_, err := os.Stat(path)
	assert.True(t, os.IsNotExist(err), "a partial file is removed")
}

// A clock the platform refuses gets the SDK's hint.
func TestClockSkewHint(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithClock(func() time.Time { return time.Now().Add(-time.Hour) }))
	code, _, errOut := runMain(t, []string{"-file", "a.wav", "-domain", "d.example.com"}, func(k string) string {
		return map[string]string{"VOICECALL_BASE_URL": srv.URL, "VOICECALL_APP_KEY": voicetest.DefaultAppKey, "VOICECALL_APP_SECRET": voicetest.DefaultAppSecret}[k]
	})
	assert.Equal(t, 1, code, errOut)
	assert.Contains(t, errOut, "hint: Created was too far from the platform's clock")
}
