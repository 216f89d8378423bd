package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/journal"
	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
	"github.com/voicecall-go/voicecall/voicetest"
)

// TestJournalSettles is issue 22's point 4 for otpserver: with -journal,
// /voicecall/notify appends to the journal and a consumer settles calls
// from it. A verification whose outcome was unknown (the reply to the
// call was lost) is notified while no consumer runs (the receiving
// instance runs with -consume=false): the notification is acknowledged
// (stored) and the call stays pending, so a new code is refused.
// Once an instance with a consumer starts, the busy call is settled
// through the journal and the cooldown lifted. Applying the same entries
// again changes nothing: the consumer skips keys it applied, and
// settling an already settled call (a consumer of another group) does not
// lift the cooldown of the next code.
func TestJournalSettles(t *testing.T) {
	t.Parallel()
	redistest.Need(t, redisErr)
	const phone = "+8613500000077"
	p := newPlatform(t, voicetest.WithCalleeScenario(phone, voicetest.ScenarioBusy))
	prefix := "otpserver-journal:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	args := []string{"-redis", redisSrv.URL, "-redis-prefix", prefix, "-journal", redisSrv.URL}
	receiver := p.start(t, append(args, "-consume=false")...) // receives the notifications, settles nothing

	require.NoError(t, p.srv.FailNext(1, voicetest.DropResponse()))
	sent := sendCode(t, receiver, phone)
	require.Equal(t, http.StatusAccepted, sent.status, sent.body)
	require.Equal(t, "pending", sent.body["status"], "the outcome is unknown")
	sid := p.srv.Calls()[0].SessionID
	for _, ev := range []voicecall.EventType{voicecall.EventDisconnect, voicecall.EventFee} {
		_, err := p.srv.WaitDelivery(ctxT(t), func(d voicetest.Delivery) bool {
			return d.EventType == ev && d.Has(sid) && d.OK()
		})
		require.NoError(t, err, "%s answered 200: stored in the journal", ev)
	}
	a := sendCode(t, receiver, phone)
	require.Equal(t, http.StatusTooManyRequests, a.status, "no consumer: the busy call is not settled, the cooldown holds")
	assert.Equal(t, "pending", a.body["reason"], "the verification is still pending")
	require.Len(t, p.srv.Calls(), 1)

	// The next call to the number is answered (its notifications settle
	// it as placed, which keeps its cooldown).
	require.NoError(t, p.srv.SetScenario(phone, voicetest.ScenarioAnswered))
	consumer := p.start(t, args...)
	require.Eventually(t, func() bool {
		return sendCode(t, consumer, phone).status == http.StatusAccepted
	}, 15*time.Second, 50*time.Millisecond, "the consumer settles the busy call from the journal")
	require.Len(t, p.srv.Calls(), 2, "one more call, once the cooldown was lifted")

	// Apply every entry again.
	st, err := redisstore.Open(redisSrv.URL, redisstore.WithPrefix(prefix))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	j, err := st.Journal(journal.Config{})
	require.NoError(t, err)
	es, err := j.Replay(ctxT(t), time.Time{}, time.Time{}, "", 100)
	require.NoError(t, err)
	require.NotEmpty(t, es)
	client, err := p.srv.NewClient()
	require.NoError(t, err)
	lc, err := otp.New(otp.Config{Client: client, Key: []byte(otpKey), DisplayNumber: "+8675528000088", PreTone: "pretone.wav", Store: st.OTPStore()})
	require.NoError(t, err)
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	first := p.srv.Calls()[0].SessionID
	var firstEntries []journal.Entry
	for _, e := range es {
		if n, err := e.Notification(); err == nil && (n.Kind == voicecall.NotificationStatus && n.Status.SessionID == first ||
			n.Kind == voicecall.NotificationFee && n.Fees[0].SessionID == first) {
			firstEntries = append(firstEntries, e)
		}
	}
	require.NotEmpty(t, firstEntries, "the busy call's notifications are in the journal")
	ids, applied, repeats, err := newSettler(j, st, lc, prefix, "otpserver", logger).apply(ctxT(t), firstEntries)
	require.NoError(t, err)
	assert.Zero(t, applied, "the group applied them before")
	assert.Equal(t, len(firstEntries), repeats)
	assert.Len(t, ids, len(firstEntries), "and acknowledges them")
	_, applied, _, err = newSettler(j, st, lc, prefix, "another-group", logger).apply(ctxT(t), firstEntries)
	require.NoError(t, err)
	assert.Equal(t, len(firstEntries), applied, "a group that never applied them settles again")
	a = sendCode(t, consumer, phone)
	assert.Equal(t, http.StatusTooManyRequests, a.status, "settling the busy call twice did not lift the next code's cooldown")
	assert.Len(t, p.srv.Calls(), 2)
	assert.Empty(t, log.String(), "nothing failed")
}

// TestStartUpChecks: otpserver checks Redis at start-up and exits 1
// naming the host, never the password; -journal needs -redis; bad
// -display and -lang are reported naming the flags; a journal
// on a Redis without persistence is reported in one WARNING line.
func TestStartUpChecks(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	base := []string{"-display", "+8675528000088", "-pretone", "p.wav", "-unverified", "-addr", "127.0.0.1:0"}
	for _, tc := range []struct {
		name string
		args []string
		want int
		says string
	}{
		{"RedisDown", []string{"-redis", "redis://:secretpw@127.0.0.1:1/0"}, exitFail, "otpserver: -redis: cannot reach Redis at 127.0.0.1:1"},
		{"JournalWithoutRedis", []string{"-journal", "redis://127.0.0.1:1/0"}, exitUsage, "-journal needs -redis"},
		{"BadDisplay", []string{"-display", "abc", "-lang", "-1"}, exitUsage, `otpserver: -display: must be "+" followed by digits`},
		{"BadLang", []string{"-lang", "-1"}, exitUsage, "otpserver: -lang: must be a positive integer"},
	} {
		var stderr bytes.Buffer
		assert.Equal(t, tc.want, run(context.Background(), append(base, tc.args...), p.getenv, io.Discard, &stderr), tc.name)
		assert.Contains(t, stderr.String(), tc.says, tc.name)
		assert.NotContains(t, stderr.String(), "secretpw", tc.name)
		assert.NotContains(t, stderr.String(), "listening on", tc.name)
	}
	var stderr bytes.Buffer
	assert.Equal(t, exitUsage, run(context.Background(), []string{"-display", "+8675528000088", "-pretone", "p.wav", "-verify-url", "not a url"}, p.getenv, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), "otpserver: -verify-url: voicecall: new handler")
	if redisErr == nil {
		// A Redis without the append-only file: one warning, then it
		// serves and settles.
		ctx, cancel := context.WithCancel(context.Background())
		w := &addrWriter{addr: make(chan string, 4)}
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, append(base, "-redis", redisSrv.URL, "-journal", redisSrv.URL), p.getenv, io.Discard, w)
		}()
		select {
		case <-w.addr:
		case <-time.After(10 * time.Second):
			t.Fatalf("otpserver did not start: %s", w)
		}
		cancel()
		assert.Equal(t, exitOK, <-done)
		assert.Equal(t, 1, strings.Count(w.String(), "otpserver: WARNING: voicecall: redisstore: redis runs without appendonly"), w.String())
		assert.Contains(t, w.String(), "settling calls from the journal as group otpserver, consumer ")

		stderr.Reset()
		args := append(base, "-redis", redisSrv.URL, "-journal", "redis://:secretpw@127.0.0.1:1/0")
		assert.Equal(t, exitFail, run(context.Background(), args, p.getenv, io.Discard, &stderr))
		assert.Contains(t, stderr.String(), "otpserver: -journal: cannot reach Redis at 127.0.0.1:1")
		assert.NotContains(t, stderr.String(), "secretpw")
	}
}

// TestHelp: -h prints the usage line, the environment and the flags
// with their defaults on stderr, and exits 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	assert.Equal(t, exitOK, run(context.Background(), []string{"-h"}, func(string) string { return "" }, &stdout, &stderr))
	assert.Empty(t, stdout.String())
	lines := strings.SplitN(stderr.String(), "\n", 3)
	require.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[0], "usage: otpserver -display NUMBER -pretone FILE"), lines[0])
	assert.Equal(t, "environment: VOICECALL_BASE_URL, VOICECALL_APP_KEY, VOICECALL_APP_SECRET (the voice verification app's), VOICECALL_OTP_KEY (the codes' MAC key, 32 characters or more)", lines[1])
	for _, want := range []string{`(default "127.0.0.1:8070")`, `(default "/voicecall/notify")`, "-journal", "-journal-group", "-consume"} {
		assert.Contains(t, lines[2], want)
	}
}
