package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDoneWhen is the receiver issue's "Done when", end to end through
// the whole program: each of these bodies reaches its callback and is
// printed (each was lost before: answered 200 without a callback, or
// refused), and a POST to another path gets 404. The memory targets are
// TestHostileConnectionsMemory.
func TestDoneWhen(t *testing.T) {
	t.Parallel()
	stdout, stderr := newLineWriter(), newLineWriter()
	prog := startProgram(t, []string{"-path", "/notify-7f3a"}, stdout, stderr, nil)
	url := prog.url
	require.True(t, strings.HasSuffix(url, "/notify-7f3a"), url)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	post := func(url, contentType string, body []byte) int {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		require.NoError(t, err)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	const json = "application/json;charset=UTF-8"

	// eventType "FEE": a Handler with OnFee answered 200 and never called it.
	require.Equal(t, 200, post(url, json, fixture(t, "fee_eventtype_upper.json")))
	m := decode(t, stdout.next(t))
	assert.Equal(t, "fee", m["kind"])
	assert.Equal(t, "fee", m["event"], "normalised")
	assert.Equal(t, seedSession, m["sessionId"])

	// eventType "Disconnect": was an unknown event.
	require.Equal(t, 200, post(url, json, fixture(t, "status_disconnect_mixed_case.json")))
	m = decode(t, stdout.next(t))
	assert.Equal(t, "status", m["kind"])
	assert.Equal(t, "disconnect", m["event"])
	assert.Equal(t, 8101.0, m["stateCode"])

	// A status event without sessionId: was a 400, and its userData lost.
	require.Equal(t, 200, post(url, json, []byte(`{"eventType":"callout","statusInfo":{"userData":"vc0123456789abcdef0123456789abcdef","called":"+8613500000001"}}`)))
	m = decode(t, stdout.next(t))
	assert.Equal(t, "callout", m["event"])
	assert.Equal(t, "", m["sessionId"])
	assert.Equal(t, "vc0123456789abcdef0123456789abcdef", m["userData"])
	assert.Equal(t, "**********0001", m["called"])

	// Content-Type: text/plain: was a 415.
	require.Equal(t, 200, post(url, "text/plain", fixture(t, "status_callout_seed.json")))
	m = decode(t, stdout.next(t))
	assert.Equal(t, "callout", m["event"])
	assert.Equal(t, seedSession, m["sessionId"])

	// A CDR with "ulFailReason":"518": the whole batch was a 400.
	require.Equal(t, 200, post(url, json, fixture(t, "fee_string_int.json")))
	m = decode(t, stdout.next(t))
	assert.Equal(t, "1201_900_4294967295_20190124030500@callenabler245.huaweicaas.com", m["sessionId"])
	assert.Equal(t, 518.0, m["ulFailReason"])
	assert.Equal(t, "the remote user's call failed (see the Q.850 cause)", m["ulFailReasonDescription"])

	// A 51-record batch: was refused whole.
	require.Equal(t, 200, post(url, json, fixture(t, "fee_51.json")))
	seen := map[string]bool{}
	for range 51 {
		m = decode(t, stdout.next(t))
		assert.Equal(t, "fee", m["kind"])
		seen[m["sessionId"].(string)] = true
	}
	assert.Len(t, seen, 51)

	// Another path: 404, and nothing printed.
	base := strings.TrimSuffix(url, "/notify-7f3a")
	for _, other := range []string{base + "/", base + "/notify", base + "/notify-7f3a/x"} {
		assert.Equal(t, http.StatusNotFound, post(other, json, fixture(t, "status_callout_seed.json")), other)
	}
	stdout.none(t)
	assert.NotContains(t, stdout.String(), "+8613500000001", "no full phone number is printed")
	assert.NotContains(t, stdout.String(), "+86138000000", "no full phone number is printed")

	prog.stop(t)
}

// failingWriter fails every write: the printer's OnStatus then fails.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestDeadLetterFile: with -dead-letter, a status event whose callback
// failed is appended, raw, to the file, so that it can be replayed.
func TestDeadLetterFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "dead.jsonl")
	stderr := newLineWriter()
	prog := startProgram(t, []string{"-path", "/n", "-dead-letter", file}, failingWriter{}, stderr, nil)
	url := prog.url
	body := fixture(t, "status_disconnect.json")
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "kept in the dead letter")
	prog.stop(t)
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, string(body)+"\n", string(got))
	assert.Contains(t, stderr.String(), "goes to OnDeadLetter")
}
