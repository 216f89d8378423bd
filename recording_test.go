package voicecall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/aksk"
)

// downloadHost is a download server that records the headers it gets.
type downloadHost struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newDownloadHost(t *testing.T, size int) *downloadHost {
	t.Helper()
	d := &downloadHost{}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.headers = append(d.headers, r.Header.Clone())
		d.mu.Unlock()
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/file", http.StatusFound)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(size))
		_, _ = w.Write(bytes.Repeat([]byte{0xD5}, size))
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *downloadHost) seen() []http.Header {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]http.Header(nil), d.headers...)
}

func redirectTo(loc string) rawHandler {
	return func(conn net.Conn, _ *http.Request, _ []byte) {
		fmt.Fprintf(conn, "HTTP/1.1 301 Moved Permanently\r\nLocation: %s\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", loc)
	}
}

func TestRecordingURLWireGolden(t *testing.T) {
	t.Parallel()
	raw := wireCall(t, "HTTP/1.1 301 Moved Permanently\r\nLocation: https://obs.example.com/r.wav?t=1\r\nContent-Length: 0\r\n\r\n", func(c *Client) error {
		loc, err := c.RecordingURL(context.Background(), &RecordingRequest{FileName: "1202_1_0_x.wav", RecordDomain: "ostor.example.com"})
		if err == nil && loc != "https://obs.example.com/r.wav?t=1" {
			err = errors.New("wrong location " + loc)
		}
		return err
	})
	checkGolden(t, "recording.http", raw)
	assert.NotContains(t, string(raw), "Content-Type", "a GET without a body")
}

// TestRecordingRedirectNeverFollowed: the 301's Location is returned and
// nothing reaches the download host until DownloadRecording, which sends
// no credentials.
func TestRecordingRedirectNeverFollowed(t *testing.T) {
	t.Parallel()
	dl := newDownloadHost(t, 1000)
	api := newRawServer(t, redirectTo(dl.URL+"/file?token=secret-token"))
	c := newTestClient(t, api.URL())
	loc, err := c.RecordingURL(context.Background(), &RecordingRequest{FileName: "f.wav", RecordDomain: "d"})
	require.NoError(t, err)
	assert.Equal(t, dl.URL+"/file?token=secret-token", loc)
	assert.Empty(t, dl.seen(), "the redirect is not followed")
	q := api.Seen()[0]
	assert.NotEmpty(t, q.Header.Get(aksk.Header), "the platform request is signed")

	var buf bytes.Buffer
	n, err := c.DownloadRecording(context.Background(), loc, &buf, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(1000), n)
	assert.Equal(t, 1000, buf.Len())
	seen := dl.seen()
	require.Len(t, seen, 1)
	assert.Empty(t, seen[0].Get(aksk.Header), "no X-AKSK to the download host")
	assert.Empty(t, seen[0].Get("Authorization"), "no Authorization to the download host")

	// A redirect from the download host is not followed either.
	_, err = c.DownloadRecording(context.Background(), dl.URL+"/redirect", io.Discard, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "302")
	assert.Len(t, dl.seen(), 2)
}

func TestRecordingURLFaults(t *testing.T) {
	t.Parallel()
	t.Run("a redirect without Location is not a success", func(t *testing.T) {
		t.Parallel()
		api := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
			io.WriteString(conn, "HTTP/1.1 301 Moved Permanently\r\nContent-Length: 0\r\n\r\n")
		})
		_, err := newTestClient(t, api.URL()).RecordingURL(context.Background(), &RecordingRequest{FileName: "f", RecordDomain: "d"})
		assert.Error(t, err)
	})
	t.Run("a platform refusal", func(t *testing.T) {
		t.Parallel()
		api := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
			writeJSON(conn, 200, `{"resultcode":"1020001","resultdesc":"Parameter error."}`)
		})
		_, err := newTestClient(t, api.URL()).RecordingURL(context.Background(), &RecordingRequest{FileName: "f", RecordDomain: "d"})
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "RecordingURL", apiErr.Op)
		assert.Equal(t, int64(1), api.received.Load())
	})
	// A GET cannot place a call: after an unknown outcome it is resent.
	for _, f := range faultsAfterSending() {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			api := newRawServer(t, func(conn net.Conn, r *http.Request, b []byte) {
				if n.Add(1) == 1 {
					f.h(conn, r, b)
					return
				}
				redirectTo("https://obs.example.com/x.wav")(conn, r, b)
			})
			c := newTestClient(t, api.URL())
			noSleep(c)
			loc, err := c.RecordingURL(context.Background(), &RecordingRequest{FileName: "f", RecordDomain: "d"})
			require.NoError(t, err)
			assert.Equal(t, "https://obs.example.com/x.wav", loc)
			assert.Equal(t, int64(2), api.received.Load())
		})
	}
	t.Run("validation", func(t *testing.T) {
		t.Parallel()
		var c Client
		_, err := c.RecordingURL(context.Background(), &RecordingRequest{FileName: strings.Repeat("f", 129)})
		var verr *ValidationError
		require.ErrorAs(t, err, &verr)
		assert.True(t, verr.Has("fileName"))
		assert.True(t, verr.Has("recordDomain"))
	})
}

func TestDownloadRecordingBound(t *testing.T) {
	t.Parallel()
	dl := newDownloadHost(t, 5000)
	c := newTestClient(t, "http://127.0.0.1:1")
	var buf bytes.Buffer
	_, err := c.DownloadRecording(context.Background(), dl.URL+"/file?token=secret-token", &buf, 4096)
	require.ErrorIs(t, err, ErrRecordingTooLarge)
	assert.Zero(t, buf.Len(), "refused on the announced length, before reading")
	assert.NotContains(t, err.Error(), "secret-token", "the URL's token is never shown")

	// Without a Content-Length the bound stops the copy.
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for range 10 {
			_, _ = w.Write(bytes.Repeat([]byte{1}, 1000))
			w.(http.Flusher).Flush()
		}
	}))
	defer chunked.Close()
	buf.Reset()
	n, err := c.DownloadRecording(context.Background(), chunked.URL+"/?token=secret-token", &buf, 4096)
	require.ErrorIs(t, err, ErrRecordingTooLarge)
	assert.LessOrEqual(t, n, int64(4097))
	assert.NotContains(t, err.Error(), "secret-token")

	_, err = c.DownloadRecording(context.Background(), "file:///etc/passwd", &buf, 0)
	var verr *ValidationError
	assert.ErrorAs(t, err, &verr)
}

func TestRecordingURLOf(t *testing.T) {
	t.Parallel()
	api := newRawServer(t, redirectTo("https://obs.example.com/from-api.wav"))
	c := newTestClient(t, api.URL())
	loc, err := c.RecordingURLOf(context.Background(), &FeeRecord{RecordFlag: 1, RecordDomain: "ostor.example.com", RecordObjectName: "r.wav"})
	require.NoError(t, err)
	assert.Equal(t, "https://obs.example.com/from-api.wav", loc)
	q := api.Seen()
	require.Len(t, q, 1)

	loc, err = c.RecordingURLOf(context.Background(), &FeeRecord{RecordFlag: 1, RecordObjectName: "r.wav", RecordFileDownloadURL: "https://obs.example.com/direct.wav"})
	require.NoError(t, err)
	assert.Equal(t, "https://obs.example.com/direct.wav", loc, "recordDomain empty: the CDR's own URL")
	assert.Len(t, api.Seen(), 1, "no request for it")

	_, err = c.RecordingURLOf(context.Background(), &FeeRecord{})
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	_, err = c.RecordingURLOf(context.Background(), nil)
	require.ErrorAs(t, err, &verr)
}
