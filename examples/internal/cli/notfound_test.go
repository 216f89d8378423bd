package cli

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestLogNotFound: a request answered 404 (an unknown path) is logged
// once per path per minute, others are not; a scan of many paths keeps
// memory bounded.
func TestLogNotFound(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	mux := http.NewServeMux()
	mux.HandleFunc("POST /voicecall/notify", func(http.ResponseWriter, *http.Request) {})
	h := LogNotFound(mux, slog.New(slog.NewTextHandler(&log, nil))).(*notFound)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h.now = func() time.Time { return now }
	get := func(path string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, nil))
		return w.Code
	}
	assert.Equal(t, http.StatusOK, get("/voicecall/notify"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/voicecall/notify", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Empty(t, log.String(), "a served path is not logged")
	assert.Equal(t, http.StatusNotFound, get("/voicecall"))
	assert.Equal(t, http.StatusNotFound, get("/voicecall"))
	assert.Equal(t, 1, strings.Count(log.String(), "path=/voicecall "), log.String())
	assert.Contains(t, log.String(), "unknown path")
	get("/other")
	assert.Equal(t, 2, strings.Count(log.String(), "\n"), "another path is logged")
	now = now.Add(NotFoundEvery)
	get("/voicecall")
	assert.Equal(t, 2, strings.Count(log.String(), "path=/voicecall "), "again after a minute")

	log.Reset()
	for i := range 5000 {
		get(fmt.Sprintf("/scan/%d", i))
	}
	assert.LessOrEqual(t, len(h.seen), notFoundPaths, "bounded memory")
	get("/" + strings.Repeat("a", 10000))
	assert.NotContains(t, log.String(), strings.Repeat("a", notFoundPathLen+1))
}
