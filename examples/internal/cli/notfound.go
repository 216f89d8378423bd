package cli

import (
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Bounds of [NotFound]'s log.
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

// NotFound returns the handler a receiver's mux serves for every path it
// does not know: it answers 404 and logs the request on logger, once per
// path per [NotFoundEvery], so that a platform pushing to a wrong URL is
// visible in the log without a scan filling it. It remembers at most
// 1,024 paths; a path is shown up to 200 bytes.
func NotFound(logger *slog.Logger) http.Handler {
	return &notFound{log: logger, seen: make(map[string]time.Time), now: time.Now}
}

type notFound struct {
	log  *slog.Logger
	now  func() time.Time
	mu   sync.Mutex
	seen map[string]time.Time // path -> when last logged
}

func (h *notFound) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if len(path) > notFoundPathLen {
		path = path[:notFoundPathLen] + "…"
	}
	if h.first(path) {
		h.log.Warn("request to an unknown path answered 404 (is the platform's push URL right?)",
			"method", r.Method, "path", path, "remote", r.RemoteAddr)
	}
	http.NotFound(w, r)
}

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
