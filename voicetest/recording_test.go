package voicetest_test

import (
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/voicetest"
)

// recordedCall places a recorded click-to-call and returns its CDR.
func recordedCall(t *testing.T, srv *voicetest.Server) cdr {
	t.Helper()
	rc := newReceiver(t)
	body := click2CallBody()
	body["feeUrl"], body["recordFlag"] = b64(rc.URL), "true"
	id := placeRaw(t, srv, voicetest.Click2CallPath, body)
	_, err := srv.WaitDelivery(testCtx(t), isFee(id))
	require.NoError(t, err)
	return onlyCDR(t, rc)
}

func noRedirects() *http.Client {
	return &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func TestRecordingBehindA301(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithTimeScale(0))
	c := recordedCall(t, srv)
	assert.Equal(t, 1, c.RecordFlag)
	assert.Equal(t, c.FwdAnswerTime, c.RecordStartTime)
	assert.Equal(t, voicetest.DefaultRecordDomain, c.RecordDomain)
	assert.NotEmpty(t, c.RecordObjectName)
	assert.NotEmpty(t, c.RecordBucketName)
	assert.Empty(t, c.RecordFileDownloadURL)

	q := url.Values{"fileName": {c.RecordObjectName}, "recordDomain": {c.RecordDomain}}
	req := signedRequest(t, srv, http.MethodGet, voicetest.RecordingPath+"?"+q.Encode(), nil)
	hc := noRedirects()
	resp, err := hc.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Empty(t, body)
	loc := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, srv.DownloadURL+"/"), loc)
	assert.NotEqual(t, srv.URL, srv.DownloadURL, "a separate host")
	reqs := srv.Requests()
	assert.Equal(t, voicetest.APIRecording, reqs[len(reqs)-1].API)
	assert.Equal(t, loc, reqs[len(reqs)-1].Location)
	assert.Equal(t, c.RecordObjectName, reqs[len(reqs)-1].Query.Get("fileName"))

	// The download host serves the WAV file to a request without the
	// app's credentials...
	resp, err = hc.Get(loc)
	require.NoError(t, err)
	wav, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	require.Greater(t, len(wav), 44)
	assert.Equal(t, "RIFF", string(wav[:4]))
	assert.Equal(t, uint16(6), binary.LittleEndian.Uint16(wav[20:]), "A-law")
	recs := srv.Recordings()
	require.Len(t, recs, 1)
	assert.Equal(t, len(wav), recs[0].Size)
	assert.Equal(t, 44+14*8000, recs[0].Size, "14 s of talk at 8 kHz")

	// ...and refuses one that carries them.
	leak, err := http.NewRequest(http.MethodGet, loc, nil)
	require.NoError(t, err)
	leak.Header = req.Header.Clone()
	resp, err = hc.Do(leak)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	dl := srv.Downloads()
	require.Len(t, dl, 2)
	assert.Empty(t, dl[0].Header.Get(aksk.Header))
	assert.Equal(t, http.StatusOK, dl[0].Status)
	assert.NotEmpty(t, dl[1].Header.Get(aksk.Header))
	assert.Equal(t, http.StatusForbidden, dl[1].Status)

	// A wrong token is not served.
	resp, err = hc.Get(strings.Split(loc, "?")[0] + "?token=00")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestRecordingChecks(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithTimeScale(0))
	for _, tc := range []struct {
		query, code, field string
	}{
		{"", "1010002", "fileName"},
		{"fileName=a.wav", "1010002", "recordDomain"},
		{"fileName=a.wav&recordDomain=" + voicetest.DefaultRecordDomain, "1020001", ""},
	} {
		a := send(t, signedRequest(t, srv, http.MethodGet, voicetest.RecordingPath+"?"+tc.query, nil))
		assert.Equal(t, tc.code, a.ResultCode, tc.query)
		assert.Contains(t, a.ResultDesc, tc.field, tc.query)
	}
}

func TestRecordingOnlyWhenAskedAndLongEnough(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	srv := voicetest.Start(t, voicetest.WithTimeScale(0))
	id := placeRaw(t, srv, voicetest.Click2CallPath, func() map[string]any {
		b := click2CallBody()
		b["feeUrl"], b["recordFlag"] = b64(rc.URL), "false"
		return b
	}())
	_, err := srv.WaitDelivery(testCtx(t), isFee(id))
	require.NoError(t, err)
	assert.Equal(t, 0, onlyCDR(t, rc).RecordFlag)
	assert.Empty(t, srv.Recordings())
}

func TestRecordFileDownloadURLs(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithTimeScale(0), voicetest.WithRecordFileDownloadURLs())
	c := recordedCall(t, srv)
	assert.Empty(t, c.RecordDomain)
	require.True(t, strings.HasPrefix(c.RecordFileDownloadURL, srv.DownloadURL+"/"))
	resp, err := noRedirects().Get(c.RecordFileDownloadURL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
