package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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
	return voicetest.Start(t, append([]voicetest.Option{voicetest.WithApp(voicetest.App{Key: "click2callKey", Secret: secret}), voicetest.WithTimeScale(0)}, opts...)...)
}

func env(srv *voicetest.Server) func(string) string {
	return clitest.Env(srv.URL, "click2callKey", secret)
}

func runMain(t *testing.T, args []string, getenv func(string) string) (int, string, string) {
	t.Helper()
	return clitest.Run(t, run, args, getenv, secret, "PasswordDigest")
}

var numbers = []string{"-display", "+8675528000088", "-caller", "+8613500000011", "-display-callee", "+8675528000099", "-callee", "+8613500000022"}

// TestEveryFlag: the fake platform accepts every flag, the webhook gets
// both legs, the partyType and the CDR's fwd* and recording fields.
func TestEveryFlag(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var pushes []map[string]any
	recv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		pushes = append(pushes, m)
		mu.Unlock()
	}))
	defer recv.Close()
	srv := platform(t)
	code, out, errOut := runMain(t, append(append([]string(nil), numbers...), "-max-duration", "30", "-record", "-party-type",
		"-status-url", recv.URL+"/status", "-fee-url", recv.URL+"/fee", "-user-data", "cb-1", "-timeout", "5s"), env(srv))
	require.Equal(t, 0, code, errOut)
	id := strings.TrimSpace(out)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "0", string(reqs[0].ResultCode), reqs[0].Reason)
	cb := reqs[0].Click2Call
	require.NotNil(t, cb)
	assert.Equal(t, 30, *cb.MaxDuration)
	assert.Equal(t, "true", cb.RecordFlag)
	assert.Equal(t, "true", cb.PartyTypeRequiredInDisconnect)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := srv.WaitDelivery(ctx, func(d voicetest.Delivery) bool { return d.Kind == voicetest.KindFee && d.Has(id) })
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	var events []string
	var party any
	var cdr map[string]any
	for _, p := range pushes {
		if p["eventType"] == "fee" {
			cdr = p["feeLst"].([]any)[0].(map[string]any)
			continue
		}
		events = append(events, p["eventType"].(string))
		if p["eventType"] == "disconnect" {
			party = p["statusInfo"].(map[string]any)["partyType"]
		}
	}
	assert.Equal(t, []string{"callout", "alerting", "answer", "callout", "alerting", "answer", "disconnect"}, events, "both legs")
	assert.Equal(t, string(voicecall.PartyTypeCallee), party)
	require.NotNil(t, cdr)
	assert.Equal(t, "+8613500000022", cdr["fwdDstNum"])
	assert.NotEmpty(t, cdr["fwdAnswerTime"])
	assert.Equal(t, float64(1), cdr["recordFlag"])
	assert.NotEmpty(t, cdr["recordObjectName"])
}

func TestExitStatuses(t *testing.T) {
	t.Parallel()
	t.Run("help", func(t *testing.T) {
		code, _, _ := runMain(t, []string{"-h"}, env(platform(t)))
		assert.Equal(t, 0, code)
	})
	t.Run("invalid input sends nothing", func(t *testing.T) {
		srv := platform(t)
		for _, extra := range [][]string{{"-max-duration", "1441"}, {"-max-duration", "-1"}, {"-fee-url", "nope"}, {"-user-data", "{x}"}, {"x"}} {
			code, _, _ := runMain(t, append(append([]string(nil), numbers...), extra...), env(srv))
			assert.Equal(t, 2, code, "%v", extra)
		}
		code, _, _ := runMain(t, numbers[:6], env(srv))
		assert.Equal(t, 2, code, "no callee")
		assert.Empty(t, srv.Requests())
	})
	t.Run("rejected", func(t *testing.T) {
		srv := platform(t)
		require.NoError(t, srv.FailNext(1, voicetest.FailCode(voicecall.CodeInvalidDisplayNumber)))
		code, _, errOut := runMain(t, numbers, env(srv))
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "1010023")
	})
	t.Run("unknown, sent once", func(t *testing.T) {
		srv := platform(t)
		require.NoError(t, srv.FailNext(1, voicetest.ResetConnection()))
		code, _, _ := runMain(t, numbers, env(srv))
		assert.Equal(t, 3, code)
		assert.Len(t, srv.Requests(), 1, "never resent")
	})
}
