package voicetest

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
	"time"
)

// respond sends ans on w according to the fault action and the
// connection mode.
func (s *Server) respond(w http.ResponseWriter, ans answer) {
	header := http.Header{}
	for k, v := range ans.header {
		header[k] = v
	}
	if ans.contentType != "" {
		header.Set("Content-Type", ans.contentType)
	}
	switch {
	case ans.action == FaultNone && s.cfg.connMode == KeepAlive,
		ans.action == FaultNone && s.cfg.connMode == CloseWithHeader:
		for k, v := range header {
			w.Header()[k] = v
		}
		if s.cfg.connMode == CloseWithHeader {
			w.Header().Set("Connection", "close")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(ans.body)))
		w.WriteHeader(ans.status)
		_, _ = w.Write(ans.body)
		return
	}

	// Every other case writes on the raw connection: the platform-like
	// close without a Connection header, and the faults.
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	switch ans.action {
	case FaultDrop:
		return
	case FaultReset:
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // Close sends RST
		}
		return
	case FaultTruncate:
		_, _ = conn.Write(rawResponse(ans.status, header, ans.body, len(ans.body)/2))
		return
	}
	_, _ = conn.Write(rawResponse(ans.status, header, ans.body, len(ans.body)))
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.CloseWrite() // FIN after the answer; Close follows
	}
}

// rawResponse is an HTTP/1.1 response whose Content-Length is the length
// of body but of which only body[:n] is included.
func rawResponse(status int, header http.Header, body []byte, n int) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 ")
	b.WriteString(strconv.Itoa(status))
	if t := http.StatusText(status); t != "" {
		b.WriteString(" " + t)
	}
	b.WriteString("\r\n")
	header = header.Clone()
	header.Set("Content-Length", strconv.Itoa(len(body)))
	header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	_ = header.Write(&b)
	b.WriteString("\r\n")
	b.Write(body[:n])
	return b.Bytes()
}
