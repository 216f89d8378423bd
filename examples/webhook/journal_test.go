package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
)

// consumerProgram runs the program in consumer mode (-journal URL
// -consume GROUP) until the end of the test, and waits for its first
// stderr line.
func consumerProgram(t *testing.T, url, prefix, group string, stdout, stderr *lineWriter) *program {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &program{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.err = run(ctx, []string{"-journal", url, "-redis-prefix", prefix, "-consume", group}, stdout, stderr, func(string) string { return "" })
	}()
	t.Cleanup(func() { p.wait(t) })
	first := stderr.next(t)
	require.True(t, strings.HasPrefix(first, "consuming group "+group+" as "), first)
	return p
}

// TestJournalRedisDown is issue 22's "Done when" for the receiver:
// with -journal, every push is answered 200 only once stored, 503 (never
// 200) while Redis is down, 200 again once it is back; then the program
// in consumer mode prints every notification acknowledged, once, and
// nothing for a batch pushed again.
func TestJournalRedisDown(t *testing.T) {
	t.Parallel()
	rs, err := redistest.StartAOF(t.TempDir())
	redistest.Need(t, err)
	t.Cleanup(rs.Close)
	prefix := "webhook-journal:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	stdout, stderr := newLineWriter(), newLineWriter()
	prog := startProgram(t, []string{"-journal", rs.URL, "-redis-prefix", prefix}, stdout, stderr, nil)
	client := &http.Client{Timeout: 10 * time.Second}
	push := func(body []byte) int {
		resp, err := client.Post(prog.url, "application/json;charset=UTF-8", bytes.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, push(fixture(t, "status_callout_seed.json")))
	require.Equal(t, http.StatusOK, push(feeBatch(50)))

	rs.Kill()
	for _, body := range [][]byte{fixture(t, "status_disconnect.json"), feeBatch(50), fixture(t, "fee_seed.json")} {
		assert.Equal(t, http.StatusServiceUnavailable, push(body), "Redis down: not stored, not acknowledged")
	}
	require.NoError(t, rs.Restart())
	code := 0
	for try := 0; code != http.StatusOK && try < 20; try++ {
		code = push(fixture(t, "status_disconnect.json")) // the platform does not re-push status events; a test may
	}
	require.Equal(t, http.StatusOK, code, "Redis back: stored again")
	require.Equal(t, http.StatusOK, push(feeBatch(50)), "the batch again: stored once")
	stdout.none(t)
	prog.stop(t)
	assert.Contains(t, stderr.String(), "storing notifications in the journal at "+rs.Addr)
	assert.NotContains(t, stderr.String(), "WARNING: voicecall: redisstore", "Redis with the append-only file: no warning")

	// The consumer prints the 52 stored notifications, once.
	out, errOut := newLineWriter(), newLineWriter()
	cons := consumerProgram(t, rs.URL, prefix, "printer", out, errOut)
	got := map[string]int{}
	for range 52 {
		m := decode(t, out.next(t))
		got[m["kind"].(string)+" "+m["event"].(string)+" "+m["sessionId"].(string)]++
	}
	assert.Equal(t, 1, got["status callout "+seedSession])
	assert.Equal(t, 1, got["status disconnect 1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com"])
	for i := range 50 {
		assert.Equal(t, 1, got["fee fee "+batchSessionID(i)], "record %d", i)
	}
	cons.stop(t)
	out.none(t)
	assert.Contains(t, errOut.String(), "consumed 52 entries: printed 52, skipped 0 already printed")

	// Another instance of the group: everything was acknowledged.
	out2, errOut2 := newLineWriter(), newLineWriter()
	consumerProgram(t, rs.URL, prefix, "printer", out2, errOut2).stop(t)
	out2.none(t)
	assert.Contains(t, errOut2.String(), "consumed 0 entries")
}

// TestJournalStartUp: a Redis without persistence is reported with one
// WARNING line; an unreachable Redis stops the program with a message
// naming its host, never its password; -consume needs -journal.
func TestJournalStartUp(t *testing.T) {
	t.Parallel()
	rs, err := redistest.Start()
	redistest.Need(t, err)
	t.Cleanup(rs.Close)
	stdout, stderr := newLineWriter(), newLineWriter()
	startProgram(t, []string{"-journal", rs.URL}, stdout, stderr, nil).stop(t)
	assert.Equal(t, 1, strings.Count(stderr.String(), "webhook: WARNING: voicecall: redisstore: redis runs without appendonly"), stderr.String())

	env := func(string) string { return "" }
	for _, flagName := range []string{"-journal", "-redis"} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"-addr", "127.0.0.1:0", flagName, "redis://:secretpw@127.0.0.1:1/0"}, &out, &errOut, env)
		var usage cli.UsageError
		require.Error(t, err)
		assert.False(t, errors.As(err, &usage), "exit 1, not bad usage")
		assert.ErrorContains(t, err, flagName+": cannot reach Redis at 127.0.0.1:1")
		assert.NotContains(t, err.Error()+errOut.String(), "secretpw")
		assert.NotContains(t, errOut.String(), "listening on")
	}
	var out, errOut bytes.Buffer
	var usage cli.UsageError
	for _, args := range [][]string{{"-consume", "g"}, {"-journal", rs.URL, "-redis", rs.URL}, {"-journal", rs.URL, "-dead-letter", "f"}} {
		err := run(context.Background(), args, &out, &errOut, env)
		assert.ErrorAs(t, err, &usage, args)
	}
}
