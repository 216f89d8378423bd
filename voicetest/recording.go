package voicetest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
)

const (
	// DefaultRecordDomain is the recordDomain of the server's recordings.
	DefaultRecordDomain = "record.voicetest.invalid"
	recordBucket        = "voicetest-records"
	// minRecording is the shortest talk that is recorded: Huawei's FAQ
	// says calls shorter than 3 s have no recording.
	minRecording = 3 * time.Second
	// recordingBytesPerSecond is 8 kHz A-law mono.
	recordingBytesPerSecond = 8000
	// codeNoRecording answers a recording request for a file the server
	// does not have (the platform's code for it is not documented).
	codeNoRecording voicecall.ResultCode = "1020001"
)

// Recording is a recording the server made of a click-to-call.
type Recording struct {
	SessionID string
	AppKey    string
	// FileName and Domain are the CDR's recordObjectName and recordDomain,
	// the fileName and recordDomain of the download URL request.
	FileName string
	Domain   string
	// Location is the download URL the recording API answers, on the
	// server's separate download host ([Server.DownloadURL]).
	Location string
	// Size is the size of the WAV file in bytes.
	Size int
}

type recording struct {
	Recording
	name, domain, location, token string
}

// Download is one request the download host received.
type Download struct {
	Time   time.Time
	Method string
	Path   string
	// Header is a copy of the request's headers: a client must not send
	// its app credentials (Authorization, X-AKSK) here.
	Header http.Header
	// Status is the HTTP status answered: 200, 403 when the request
	// carried app credentials, 404 for an unknown file or token.
	Status int
}

// addRecording registers the recording of a call whose callee talked for
// talk.
func (s *Server) addRecording(c *Call, talk time.Duration) *recording {
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	name := strings.NewReplacer("@", "_", ".", "_").Replace(c.SessionID) + ".wav"
	token := hex.EncodeToString(tok[:])
	r := &recording{name: name, domain: DefaultRecordDomain, token: token,
		location: s.DownloadURL + "/" + recordBucket + "/" + url.PathEscape(name) + "?token=" + token}
	size := 44 + int(talk/time.Second)*recordingBytesPerSecond
	r.Recording = Recording{SessionID: c.SessionID, AppKey: c.AppKey, FileName: name, Domain: r.domain, Location: r.location, Size: size}
	s.mu.Lock()
	s.recordings[name] = r
	s.recordOrder = append(s.recordOrder, name)
	if over := len(s.recordOrder) - s.cfg.maxRecords; over > 0 {
		for _, n := range s.recordOrder[:over] {
			delete(s.recordings, n)
		}
		s.recordOrder = append(s.recordOrder[:0], s.recordOrder[over:]...)
	}
	c.Recording = name
	s.mu.Unlock()
	return r
}

// Recordings returns the recordings the server keeps, oldest first.
func (s *Server) Recordings() []Recording {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Recording, 0, len(s.recordOrder))
	for _, n := range s.recordOrder {
		out = append(out, s.recordings[n].Recording)
	}
	return out
}

// Downloads returns the requests the download host received, oldest
// first (at most [WithMaxRecords] of them).
func (s *Server) Downloads() []Download {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Download(nil), s.downloads...)
}

// recordingURL answers a recording download URL request: 301 with the
// download URL in Location and no body, as Huawei's page shows.
func (s *Server) recordingURL(req *Request, app App) answer {
	name, domain := req.Query.Get("fileName"), req.Query.Get("recordDomain")
	switch {
	case name == "":
		return s.invalid(req, "fileName", "is required")
	case utf8.RuneCountInString(name) > 128:
		return s.invalid(req, "fileName", "must be at most 128 characters")
	case domain == "":
		return s.invalid(req, "recordDomain", "is required")
	case utf8.RuneCountInString(domain) > 128:
		return s.invalid(req, "recordDomain", "must be at most 128 characters")
	}
	s.mu.Lock()
	r, ok := s.recordings[name]
	s.mu.Unlock()
	if !ok || r.domain != domain || r.AppKey != app.Key {
		return s.refuse(req, codeNoRecording, "no such recording for this app")
	}
	req.ResultCode, req.ResultDesc, req.HTTPStatus = voicecall.CodeSuccess, "", http.StatusMovedPermanently
	req.Location = r.location
	return answer{status: http.StatusMovedPermanently, header: http.Header{"Location": {r.location}, "Connection": {"close"}}}
}

// invalid refuses req with 1010002 naming the field.
func (s *Server) invalid(req *Request, field, problem string) answer {
	ans := s.refuse(req, voicecall.CodeInvalidRequest, field+": "+problem)
	desc := descInvalidRequest + " " + field + ": " + problem
	req.ResultDesc = desc
	ans.body = resultJSON(voicecall.CodeInvalidRequest, desc, "", nil)
	return ans
}

// startDownloads starts the download host on its own loopback port.
func (s *Server) startDownloads(host string) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return err
	}
	s.dlLn = ln
	s.DownloadURL = "http://" + ln.Addr().String()
	s.dlSrv = &http.Server{
		Handler:           http.HandlerFunc(s.serveDownload),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.dlSrv.Serve(ln)
	}()
	return nil
}

func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	d := Download{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
	status := http.StatusOK
	name, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, "/"+recordBucket+"/"))
	s.mu.Lock()
	rec, ok := s.recordings[name]
	s.mu.Unlock()
	switch {
	case r.Header.Get("Authorization") != "" || r.Header.Get(aksk.Header) != "":
		status = http.StatusForbidden // the app's credentials must never reach the download host
	case r.Method != http.MethodGet:
		status = http.StatusMethodNotAllowed
	case !ok || r.URL.Query().Get("token") != rec.token:
		status = http.StatusNotFound
	}
	d.Status = status
	s.mu.Lock()
	s.downloads = append(s.downloads, d)
	if over := len(s.downloads) - s.cfg.maxRecords; over > 0 {
		s.downloads = append(s.downloads[:0], s.downloads[over:]...)
	}
	s.notifyLocked()
	s.mu.Unlock()
	if h := s.cfg.hooks.Download; h != nil {
		h(d)
	}
	if status != http.StatusOK {
		http.Error(w, http.StatusText(status), status)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Length", strconv.Itoa(rec.Size))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(wavHeader(rec.Size - 44))
	silence := make([]byte, 8000)
	for i := range silence {
		silence[i] = 0xD5 // A-law silence
	}
	for left := rec.Size - 44; left > 0; left -= len(silence) {
		if _, err := w.Write(silence[:min(left, len(silence))]); err != nil {
			return
		}
	}
}

// wavHeader is the header of an 8 kHz, 8-bit A-law, mono WAV file with n
// bytes of samples (the format Huawei's FAQ gives for recordings).
func wavHeader(n int) []byte {
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+n))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 6) // A-law
	binary.LittleEndian.PutUint16(h[22:], 1)
	binary.LittleEndian.PutUint32(h[24:], 8000)
	binary.LittleEndian.PutUint32(h[28:], 8000)
	binary.LittleEndian.PutUint16(h[32:], 1)
	binary.LittleEndian.PutUint16(h[34:], 8)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(n))
	return h
}
