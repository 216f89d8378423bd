package main

import (
	"context"
	"net/http"
	"net/http/httptest"
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

func platform(t *testing.T, opts ...voicetest.Option) *voicetest.Server {
	t.Helper()
	return voicetest.Start(t, append([]voicetest.Option{voicetest.WithApp(voicetest.App{Key: "notifyKey", Secret: secret}), voicetest.WithTimeScale(0)}, opts...)...)
}

func env(srv *voicetest.Server) func(string) string {
	return clitest.Env(srv.URL, "notifyKey", secret)
}

func runMain(t *testing.T, args []string, getenv func(string) string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, run, args, getenv, secret, "PasswordDigest")
}

func TestEveryFlagAcceptedAndCollectInfoPushed(t *testing.T) {
	t.Parallel()
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer recv.Close()
	srv := platform(t, voicetest.WithCalleeDigits("+8613500000001", "7"))
	code, out, errOut := runMain(t, []string{"-display", "+8675528000088", "-callee", "+8613500000001",
		"-template", "tpl-1", "-params", "Friday,10", "-collect", "1", "-replay", "-replay-on", "9",
		"-status-url", recv.URL + "/status", "-fee-url", recv.URL + "/fee", "-user-data", "n-42", "-idle-port", "-timeout", "5s"}, env(srv))
	require.Equal(t, 0, code, errOut)
	id := strings.TrimSpace(out)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "0", string(reqs[0].ResultCode), "the fake's independent checks accept every flag: %s", reqs[0].Reason)
	assert.Equal(t, id, reqs[0].SessionID)
	n := reqs[0].Notify
	require.NotNil(t, n)
	assert.Equal(t, []string{"Friday", "10"}, n.PlayInfoList[0].TemplateParas)
	assert.Equal(t, "true", n.PlayInfoList[0].ReplayAfterCollection)
	assert.Equal(t, recv.URL+"/status", n.StatusURL)
	assert.Contains(t, errOut, "idle ports:")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := srv.WaitDelivery(ctx, func(d voicetest.Delivery) bool { return d.EventType == voicecall.EventCollectInfo && d.Has(id) })
	require.NoError(t, err)
	assert.Contains(t, string(d.Body), `"digitInfo":"7"`)
}

func TestExitStatuses(t *testing.T) {
	t.Parallel()
	voice := []string{"-display", "+8675528000088", "-callee", "+8613500000001", "-voice", "a.wav"}
	t.Run("help", func(t *testing.T) {
		code, _, errOut := runMain(t, []string{"-h"}, env(platform(t)))
		assert.Equal(t, 0, code)
		assert.Contains(t, errOut, "usage: callnotify")
	})
	t.Run("invalid input sends nothing", func(t *testing.T) {
		srv := platform(t)
		for _, args := range [][]string{
			{"-display", "+8675528000088", "-callee", "+8613500000001"},                                    // no voice or template
			{"-display", "+8675528000088", "-callee", "+8613500000001", "-voice", "a", "-template", "t"},   // both
			{"-display", "+8675528000088", "-callee", "+8613500000001", "-voice", "a", "-collect", "33"},   // too many digits
			{"-display", "+8675528000088", "-callee", "+8613500000001", "-voice", "a", "-params", "x"},     // params without template
			{"-display", "+8675528000088", "-callee", "+8613500000001", "-voice", "a", "-status-url", "x"}, // relative URL
			{"-display", "+8675528000088", "-callee", "+8613500000001", "-voice", "a", "extra"},            // argument
			{"-nope"},
		} {
			code, out, _ := runMain(t, args, env(srv))
			assert.Equal(t, 2, code, "%v", args)
			assert.Empty(t, out)
		}
		assert.Empty(t, srv.Requests(), "nothing was sent")
		code, _, _ := runMain(t, voice, func(string) string { return "" })
		assert.Equal(t, 2, code, "no credentials")
	})
	t.Run("rejected", func(t *testing.T) {
		srv := platform(t)
		require.NoError(t, srv.FailNext(1, voicetest.FailCode("1012003")))
		code, _, errOut := runMain(t, voice, env(srv))
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "1012003")
	})
	t.Run("refused credentials get a hint", func(t *testing.T) {
		srv := platform(t)
		wrong := func(k string) string {
			if k == "VOICECALL_APP_SECRET" {
				return "not-the-secret"
			}
			return env(srv)(k)
		}
		code, _, errOut := runMain(t, voice, wrong)
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "hint: the platform refused the signature")
		assert.Contains(t, errOut, "VOICECALL_APP_SECRET")
		assert.NotContains(t, errOut, "not-the-secret")
	})
	t.Run("unknown, sent once", func(t *testing.T) {
		srv := platform(t)
		require.NoError(t, srv.FailNext(1, voicetest.DropResponse()))
		code, _, errOut := runMain(t, voice, env(srv))
		assert.Equal(t, 3, code)
		assert.Contains(t, errOut, "may or may not have been placed")
		assert.Len(t, srv.Requests(), 1, "never resent")
	})
}
