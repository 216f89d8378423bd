package cli

import (
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Bounds of [LogNotFound]'s log.
const (
	// NotFoundEvery is the least time between two lines about one path.
	NotFoundEvery = time.Minute
	// notFoundPaths is how many paths it remembers: beyond, the oldest
	// half of the period is forgotten, and paths not remembered are
	// logged again (memory stays bounded under a scan of random paths).
	notFoundPaths = 1024
	// notFoundPathLen is how much of a path a line shows.
	notFoundPathLen = 200
)

// LogNotFound returns next, logging on logger each request it answers
// 404 (a path the receiver does not serve), once per path per
// [NotFoundEvery], so that a platform pushing to a wrong URL is visible
// in the log without a scan filling it. It remembers at most 1,024
// paths; a path is shown up to 200 bytes.
func LogNotFound(next http.Handler, logger *slog.Logger) http.Handler {
	return &notFound{next: next, log: logger, seen: make(map[string]time.Time), now: time.Now}
}

type notFound struct {
	next http.Handler
	log  *slog.Logger
	now  func() time.Time
	mu   sync.Mutex
	seen map[string]time.Time // path -> when last logged
}

func (h *notFound) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	h.next.ServeHTTP(sw, r)
	if sw.status != http.StatusNotFound {
		return
	}
	path := r.URL.Path
	if len(path) > notFoundPathLen {
		path = path[:notFoundPathLen] + "…"
	}
	if h.first(path) {
		h.log.Warn("request to an unknown path answered 404 (is the platform's push URL right?)",
			"method", r.Method, "path", path, "remote", r.RemoteAddr)
	}
}

// statusWriter records the status of the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// first reports whether path was not logged within NotFoundEvery, and
// records it.
func (h *notFound) first(path string) bool {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if last, ok := h.seen[path]; ok && now.Sub(last) < NotFoundEvery {
		return false
	}
	if len(h.seen) >= notFoundPaths {
		for p, last := range h.seen {
			if now.Sub(last) >= NotFoundEvery/2 {
				delete(h.seen, p)
			}
		}
		if len(h.seen) >= notFoundPaths {
			clear(h.seen) // a flood within half a period: start again
		}
	}
	h.seen[path] = now
	return true
}
