package voicecall

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"
)

// recordingPath is the URI of the API that returns a recording's download
// URL, appended to the client's base URL.
const recordingPath = "/rest/provision/voice/record/v1.0"

// RecordingRequest names a recording as a CDR gives it. Recordings exist
// only for click-to-call calls made with [Click2CallRequest.Record] on an
// app that has recording enabled; calls shorter than 3 seconds have none
// (Huawei's FAQ). Files are 8 kHz A-law mono WAV.
type RecordingRequest struct {
	// FileName (fileName) is the CDR's recordObjectName; 1-128
	// characters.
	FileName string
	// RecordDomain (recordDomain) is the CDR's recordDomain; 1-128
	// characters.
	RecordDomain string
}

// Validate checks the request and returns a [*ValidationError], or nil.
func (r *RecordingRequest) Validate() error {
	var fs fieldErrors
	for _, f := range []struct{ name, v string }{{"fileName", r.FileName}, {"recordDomain", r.RecordDomain}} {
		switch {
		case f.v == "":
			fs.add(f.name, "is required")
		case !utf8.ValidString(f.v):
			fs.add(f.name, "must be valid UTF-8")
		case utf8.RuneCountInString(f.v) > 128:
			fs.add(f.name, "must be at most 128 characters")
		}
	}
	return fs.err("RecordingURL")
}

// recordingURL is the recording API: a GET, safe to resend, whose success
// answer is a 301 with the download URL in Location.
var recordingURL = endpoint{op: "RecordingURL", method: http.MethodGet, path: recordingPath, idempotent: true, redirect: true}

// RecordingURL asks the platform where to download a recording and
// returns the download URL. The platform answers with a redirect (301,
// the URL in Location); the SDK reads Location and never follows it,
// because following would send the app's X-AKSK and Authorization to the
// download host. Download the file with [Client.DownloadRecording].
//
// How long the URL stays valid is unclear: Huawei's FAQ says recordings
// are kept for 7 days, and another of Huawei's pages says the download
// address is valid for 30 minutes. Ask for the URL when you are about to
// download, not when the CDR arrives.
func (c *Client) RecordingURL(ctx context.Context, req *RecordingRequest) (string, error) {
	if req == nil {
		return "", newValidationError("RecordingURL", FieldError{Field: "request", Problem: "is nil"})
	}
	if err := req.Validate(); err != nil {
		return "", err
	}
	q := url.Values{"fileName": {req.FileName}, "recordDomain": {req.RecordDomain}}
	rep, err := c.do(ctx, &recordingURL, q, nil, "", nil)
	if err != nil {
		return "", err
	}
	if p := downloadURLProblem(rep.Location); p != "" {
		return "", newValidationError("RecordingURL", FieldError{Field: "Location", Problem: p})
	}
	return rep.Location, nil
}

// RecordingURLOf returns the download URL of a CDR's recording, whichever
// way the CDR gives it: with recordDomain and recordObjectName it asks
// the platform ([Client.RecordingURL]); with an empty recordDomain it
// returns the CDR's recordFileDownloadUrl. A CDR without a recording
// (recordFlag 0) is a [*ValidationError].
func (c *Client) RecordingURLOf(ctx context.Context, rec *FeeRecord) (string, error) {
	switch {
	case rec == nil:
		return "", newValidationError("RecordingURLOf", FieldError{Field: "record", Problem: "is nil"})
	case rec.RecordDomain != "" && rec.RecordObjectName != "":
		return c.RecordingURL(ctx, &RecordingRequest{FileName: rec.RecordObjectName, RecordDomain: rec.RecordDomain})
	case rec.RecordFileDownloadURL != "":
		if p := downloadURLProblem(rec.RecordFileDownloadURL); p != "" {
			return "", newValidationError("RecordingURLOf", FieldError{Field: "recordFileDownloadUrl", Problem: p})
		}
		return rec.RecordFileDownloadURL, nil
	}
	return "", newValidationError("RecordingURLOf", FieldError{Field: "record", Problem: "has no recording (no recordDomain and recordObjectName, no recordFileDownloadUrl)"})
}

// downloadURLProblem checks a download URL: absolute, http or https.
func downloadURLProblem(s string) string {
	u, err := url.Parse(s)
	if s == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http or https URL"
	}
	return ""
}

// DownloadRecording downloads the file at downloadURL (from
// [Client.RecordingURL] or [Client.RecordingURLOf]) into w and returns the
// number of bytes written. It sends a plain GET, with none of the app's
// credentials (no Authorization, no X-AKSK), through the client's
// transport, follows no redirect, and stops with an error wrapping
// [ErrRecordingTooLarge] once the file exceeds maxBytes
// ([DefaultMaxRecordingBytes] when maxBytes <= 0); w may then hold a
// partial file. ctx bounds the whole download: give it a deadline (the
// client's timeout does not apply, a long recording takes a while).
//
// Errors never show the URL's query, which holds the download token.
func (c *Client) DownloadRecording(ctx context.Context, downloadURL string, w io.Writer, maxBytes int64) (int64, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRecordingBytes
	}
	if p := downloadURLProblem(downloadURL); p != "" {
		return 0, newValidationError("DownloadRecording", FieldError{Field: "downloadURL", Problem: p})
	}
	u, _ := url.Parse(downloadURL)
	where := u.Scheme + "://" + u.Host
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, downloadURL, nil)
	if err != nil {
		return 0, errf("DownloadRecording: %s: %w", where, err)
	}
	req.Body = emptyBody{} // so that no transport sends the GET again on its own
	req.Header["User-Agent"] = c.userAgentValues
	hc := &http.Client{
		Transport:     c.hc.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, errf("DownloadRecording: %s: %w", where, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		return 0, errf("DownloadRecording: %s answered http status %d", where, resp.StatusCode)
	}
	if resp.ContentLength > maxBytes {
		return 0, fmt.Errorf("voicecall: DownloadRecording: %s: %d bytes announced, bound %d: %w", where, resp.ContentLength, maxBytes, ErrRecordingTooLarge)
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return n, errf("DownloadRecording: %s: after %d bytes: %w", where, n, err)
	}
	if n > maxBytes {
		return n, fmt.Errorf("voicecall: DownloadRecording: %s: more than %s bytes: %w", where, strconv.FormatInt(maxBytes, 10), ErrRecordingTooLarge)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, errf("DownloadRecording: %s: got %d of %d bytes", where, n, resp.ContentLength)
	}
	return n, nil
}
