package voicetest

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/internal/redact"
)

// ControlPrefix is the path prefix of the inspection and control API and
// of the web console ([WithControlAPI]). The platform has no path under
// it, so it cannot clash with an API.
const ControlPrefix = "/_sandbox/"

// DefaultListLimit is how many items a list of the control API returns
// when the request gives no limit.
const DefaultListLimit = 100

// maxControlBody bounds the body of a control request.
const maxControlBody = 64 << 10

//go:embed console
var consoleFiles embed.FS

// WithControlAPI makes the server also serve, under [ControlPrefix], an
// inspection and control API in JSON (/_sandbox/v1/...) and a web console
// (/_sandbox/), so that what it received, placed and pushed can be seen
// and steered from any language or a browser. The API is documented in
// the repository's docs/SANDBOX.md. Requests under the prefix are not
// recorded as [Request]s. Without this option those paths are answered
// like any unknown path.
func WithControlAPI() Option {
	return func(c *config) error { c.control = true; return nil }
}

// controlMux returns the handler of the control API and console.
func (s *Server) controlMux() http.Handler {
	mux := http.NewServeMux()
	v1 := "/_sandbox/v1"
	mux.HandleFunc("GET "+v1+"/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET "+v1+"/readyz", s.ctlReady)
	mux.HandleFunc("GET "+v1+"/requests", s.ctlRequests)
	mux.HandleFunc("GET "+v1+"/calls", s.ctlCalls)
	mux.HandleFunc("GET "+v1+"/calls/{sessionId}", s.ctlCall)
	mux.HandleFunc("GET "+v1+"/deliveries", s.ctlDeliveries)
	mux.HandleFunc("POST "+v1+"/deliveries/{id}/repush", s.ctlRepush)
	mux.HandleFunc("GET "+v1+"/recordings", s.ctlRecordings)
	mux.HandleFunc("GET "+v1+"/scenarios", s.ctlScenarios)
	mux.HandleFunc("POST "+v1+"/scenarios", s.ctlSetScenario)
	mux.HandleFunc("POST "+v1+"/digits", s.ctlSetDigits)
	mux.HandleFunc("GET "+v1+"/faults", s.ctlFaults)
	mux.HandleFunc("POST "+v1+"/faults", s.ctlAddFault)
	mux.HandleFunc("DELETE "+v1+"/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		writeJSON(w, http.StatusOK, map[string]any{"faults": []faultJSON{}})
	})
	mux.HandleFunc("POST "+v1+"/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
	})
	mux.HandleFunc(v1+"/", func(w http.ResponseWriter, r *http.Request) {
		ctlError(w, http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
	})
	sub, _ := fs.Sub(consoleFiles, "console") // cannot fail: the directory is embedded
	files := http.StripPrefix(ControlPrefix, http.FileServerFS(sub))
	mux.HandleFunc(ControlPrefix, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			ctlError(w, http.StatusMethodNotAllowed, "the console is read with GET")
			return
		}
		files.ServeHTTP(w, r)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		// A page of another origin must not steer the sandbox: browsers
		// send Origin with cross-origin requests; curl and test suites
		// send none.
		if o := r.Header.Get("Origin"); o != "" {
			if u, err := url.Parse(o); err != nil || !strings.EqualFold(u.Host, r.Host) {
				ctlError(w, http.StatusForbidden, "cross-origin request refused")
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"voicetest: cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func ctlError(w http.ResponseWriter, status int, format string, a ...any) {
	writeJSON(w, status, map[string]string{"error": "voicetest: " + fmt.Sprintf(format, a...)})
}

// filter is the query of a list request.
type filter struct {
	number, session string
	since, until    time.Time
	limit           int
}

func (s *Server) parseFilter(q url.Values) (filter, error) {
	f := filter{number: q.Get("number"), session: q.Get("session"), limit: DefaultListLimit}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.since}, {"until", &f.until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, fmt.Errorf("%s: want an RFC 3339 time such as 2026-01-02T15:04:05Z", p.name)
			}
			*p.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, errors.New("limit: want a positive integer")
		}
		f.limit = min(n, s.cfg.maxRecords)
	}
	return f, nil
}

func (f filter) inTime(t time.Time) bool {
	return (f.since.IsZero() || !t.Before(f.since)) && (f.until.IsZero() || !t.After(f.until))
}

// keepLast returns the last n items of list that match.
func keepLast[T any](list []T, n int, match func(T) bool) []T {
	out := make([]T, 0, min(n, len(list)))
	for i := len(list) - 1; i >= 0 && len(out) < n; i-- {
		if match(list[i]) {
			out = append(out, list[i])
		}
	}
	slices.Reverse(out)
	return out
}

// requestJSON is a request as the control API shows it: the X-AKSK
// header and other headers are left out.
type requestJSON struct {
	Seq        int             `json:"seq"`
	Time       time.Time       `json:"time"`
	Method     string          `json:"method"`
	Path       string          `json:"path"`
	API        API             `json:"api,omitempty"`
	AppKey     string          `json:"appKey,omitempty"`
	Callee     string          `json:"callee,omitempty"`
	Verdict    string          `json:"verdict"`
	Problems   []string        `json:"problems"`
	HTTPStatus int             `json:"httpStatus"`
	ResultCode string          `json:"resultcode,omitempty"`
	ResultDesc string          `json:"resultdesc,omitempty"`
	SessionID  string          `json:"sessionId,omitempty"`
	Location   string          `json:"location,omitempty"`
	Fault      string          `json:"fault,omitempty"`
	Query      string          `json:"query,omitempty"`
	Body       json.RawMessage `json:"body,omitempty"`
}

func toRequestJSON(r Request) requestJSON {
	j := requestJSON{Seq: r.Seq, Time: r.Time.UTC(), Method: r.Method, Path: r.Path, API: r.API, AppKey: r.AppKey,
		Callee: r.Callee(), HTTPStatus: r.HTTPStatus, ResultCode: string(r.ResultCode), ResultDesc: r.ResultDesc,
		SessionID: r.SessionID, Location: r.Location, Problems: []string{}, Query: r.Query.Encode()}
	switch {
	case r.Fault != FaultNone:
		j.Verdict, j.Fault = "fault", r.Fault.String()
	case r.ResultCode == voicecall.CodeSuccess || (r.API == APIRecording && r.Location != ""):
		j.Verdict = "accepted"
	default:
		j.Verdict = "refused"
	}
	if r.Reason != "" {
		j.Problems = append(j.Problems, r.Reason)
	}
	j.Body = rawJSON(r.RawBody)
	return j
}

// rawJSON returns b as JSON: itself when it is valid JSON, else as a
// string.
func rawJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

func (s *Server) ctlRequests(w http.ResponseWriter, r *http.Request) {
	f, err := s.parseFilter(r.URL.Query())
	if err != nil {
		ctlError(w, http.StatusBadRequest, "%v", err)
		return
	}
	list := keepLast(s.Requests(), f.limit, func(q Request) bool {
		if f.session != "" && q.SessionID != f.session && (q.Stop == nil || q.Stop.SessionID != f.session) {
			return false
		}
		if f.number != "" && q.Callee() != f.number && (q.Click2Call == nil || q.Click2Call.CallerNbr != f.number) {
			return false
		}
		return f.inTime(q.Time)
	})
	out := make([]requestJSON, len(list))
	for i, q := range list {
		out[i] = toRequestJSON(q)
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": out})
}

// callJSON is a call as the control API shows it.
type callJSON struct {
	SessionID      string               `json:"sessionId"`
	API            API                  `json:"api"`
	AppKey         string               `json:"appKey"`
	DisplayNbr     string               `json:"displayNbr"`
	Callee         string               `json:"callee"`
	Caller         string               `json:"caller,omitempty"`
	DisplayCallee  string               `json:"displayCallee,omitempty"`
	VerifyCode     string               `json:"verifyCode,omitempty"`
	UserData       string               `json:"userData,omitempty"`
	Scenario       Scenario             `json:"scenario"`
	CallerScenario Scenario             `json:"callerScenario,omitempty"`
	Digits         []string             `json:"digits"`
	Recording      string               `json:"recording,omitempty"`
	Stopped        bool                 `json:"stopped"`
	StatusURL      string               `json:"statusUrl,omitempty"`
	FeeURL         string               `json:"feeUrl,omitempty"`
	Start          time.Time            `json:"start"`
	End            *time.Time           `json:"end,omitempty"`
	Ended          bool                 `json:"ended"`
	StateCode      *voicecall.StateCode `json:"stateCode,omitempty"`
	Events         []eventJSON          `json:"events"`
}

type eventJSON struct {
	Type      voicecall.EventType  `json:"type"`
	Time      time.Time            `json:"time"`
	Caller    string               `json:"caller,omitempty"`
	Called    string               `json:"called,omitempty"`
	StateCode *voicecall.StateCode `json:"stateCode,omitempty"`
	Digits    string               `json:"digits,omitempty"`
}

func toCallJSON(c Call) callJSON {
	j := callJSON{SessionID: c.SessionID, API: c.API, AppKey: c.AppKey, DisplayNbr: c.DisplayNbr, Callee: c.CalleeNbr,
		Caller: c.CallerNbr, DisplayCallee: c.DisplayCalleeNbr, VerifyCode: c.VerifyCode, UserData: c.UserData,
		Scenario: c.Scenario, CallerScenario: c.CallerScenario, Digits: c.Digits, Recording: c.Recording,
		Stopped: c.Stopped, StatusURL: c.StatusURL, FeeURL: c.FeeURL, Start: c.Start.UTC(), Ended: c.Ended,
		Events: make([]eventJSON, len(c.Events))}
	if j.Digits == nil {
		j.Digits = []string{}
	}
	if c.Ended {
		end, code := c.End.UTC(), c.StateCode
		j.End, j.StateCode = &end, &code
	}
	for i, e := range c.Events {
		j.Events[i] = eventJSON{Type: e.Type, Time: e.Time.UTC(), Caller: e.Caller, Called: e.Called, StateCode: e.StateCode, Digits: e.Digits}
	}
	return j
}

func (f filter) matchCall(c Call) bool {
	if f.session != "" && c.SessionID != f.session {
		return false
	}
	if f.number != "" && c.CalleeNbr != f.number && c.CallerNbr != f.number && c.DisplayNbr != f.number && c.DisplayCalleeNbr != f.number {
		return false
	}
	return f.inTime(c.Start)
}

func (s *Server) ctlCalls(w http.ResponseWriter, r *http.Request) {
	f, err := s.parseFilter(r.URL.Query())
	if err != nil {
		ctlError(w, http.StatusBadRequest, "%v", err)
		return
	}
	list := keepLast(s.Calls(), f.limit, f.matchCall)
	out := make([]callJSON, len(list))
	for i, c := range list {
		out[i] = toCallJSON(c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": out})
}

func (s *Server) ctlCall(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sessionId")
	for _, c := range s.Calls() {
		if c.SessionID == id {
			writeJSON(w, http.StatusOK, toCallJSON(c))
			return
		}
	}
	ctlError(w, http.StatusNotFound, "no call with sessionId %q", id)
}

// deliveryJSON is a push attempt as the control API shows it (its
// headers, which carry the push's signature, are left out).
type deliveryJSON struct {
	ID         int                 `json:"id"`
	Kind       Kind                `json:"kind"`
	EventType  voicecall.EventType `json:"eventType"`
	URL        string              `json:"url"`
	SessionIDs []string            `json:"sessionIds"`
	Attempt    int                 `json:"attempt"`
	RepushOf   int                 `json:"repushOf,omitempty"`
	AppKey     string              `json:"appKey"`
	Time       time.Time           `json:"time"`
	LatencyMS  float64             `json:"latencyMs"`
	Status     int                 `json:"status"`
	OK         bool                `json:"ok"`
	Error      string              `json:"error,omitempty"`
	Answer     string              `json:"answer"`
	Body       json.RawMessage     `json:"body"`
}

func toDeliveryJSON(d Delivery) deliveryJSON {
	j := deliveryJSON{ID: d.Seq, Kind: d.Kind, EventType: d.EventType, URL: d.URL, SessionIDs: d.SessionIDs,
		Attempt: d.Attempt, RepushOf: d.RepushOf, AppKey: d.AppKey, Time: d.Time.UTC(),
		LatencyMS: float64(d.Latency.Microseconds()) / 1000, Status: d.StatusCode, OK: d.OK(),
		Answer: redact.Text(string(d.Answer), MaxDeliveryAnswer), Body: rawJSON(d.Body)}
	if d.Err != nil {
		j.Error = d.Err.Error()
	}
	if j.SessionIDs == nil {
		j.SessionIDs = []string{}
	}
	return j
}

func (s *Server) ctlDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := s.parseFilter(q)
	if err != nil {
		ctlError(w, http.StatusBadRequest, "%v", err)
		return
	}
	kind := Kind(q.Get("kind"))
	if kind != "" && kind != KindStatus && kind != KindFee {
		ctlError(w, http.StatusBadRequest, "kind: want status or fee")
		return
	}
	quoted, _ := json.Marshal(f.number)
	list := keepLast(s.Deliveries(), f.limit, func(d Delivery) bool {
		if kind != "" && d.Kind != kind {
			return false
		}
		if f.session != "" && !d.Has(f.session) {
			return false
		}
		// Status events and CDRs carry the numbers of the call.
		if f.number != "" && !strings.Contains(string(d.Body), string(quoted)) {
			return false
		}
		return f.inTime(d.Time)
	})
	out := make([]deliveryJSON, len(list))
	for i, d := range list {
		out[i] = toDeliveryJSON(d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
}

func (s *Server) ctlRepush(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id < 1 {
		ctlError(w, http.StatusBadRequest, "id: want a delivery's id, a positive integer")
		return
	}
	d, err := s.Repush(id)
	switch {
	case errors.Is(err, ErrNoDelivery):
		ctlError(w, http.StatusNotFound, "no delivery with id %d", id)
	case err != nil:
		ctlError(w, http.StatusServiceUnavailable, "%s", strings.TrimPrefix(err.Error(), "voicetest: "))
	default:
		writeJSON(w, http.StatusOK, toDeliveryJSON(d))
	}
}

func (s *Server) ctlRecordings(w http.ResponseWriter, r *http.Request) {
	f, err := s.parseFilter(r.URL.Query())
	if err != nil {
		ctlError(w, http.StatusBadRequest, "%v", err)
		return
	}
	type recJSON struct {
		SessionID string `json:"sessionId"`
		AppKey    string `json:"appKey"`
		FileName  string `json:"fileName"`
		Domain    string `json:"recordDomain"`
		Location  string `json:"location"`
		Size      int    `json:"size"`
	}
	list := keepLast(s.Recordings(), f.limit, func(rec Recording) bool { return f.session == "" || rec.SessionID == f.session })
	out := make([]recJSON, len(list))
	for i, rec := range list {
		out[i] = recJSON(rec)
	}
	writeJSON(w, http.StatusOK, map[string]any{"recordings": out})
}

func (s *Server) ctlReady(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed, free := s.closed, s.cfg.ports-s.active
	s.mu.Unlock()
	status, state := http.StatusOK, "ready"
	if closed || free <= 0 {
		status, state = http.StatusServiceUnavailable, "busy"
	}
	writeJSON(w, status, map[string]any{"status": state, "freePorts": free, "url": s.URL, "downloadUrl": s.DownloadURL})
}

// decodeControl decodes a control request's JSON body into v.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxControlBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		ctlError(w, http.StatusBadRequest, "body: want a JSON object: %v", err)
		return false
	}
	return true
}

func (s *Server) ctlScenarios(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	def, next := s.scenario, s.next
	numbers := make(map[string]Scenario, len(s.callee))
	for k, v := range s.callee {
		if k != "" {
			numbers[k] = v
		}
	}
	digits := make(map[string][]string, len(s.digits))
	for k, v := range s.digits {
		digits[k] = slices.Clone(v)
	}
	s.mu.Unlock()
	type magicJSON struct {
		Number      string   `json:"number"`
		Scenario    Scenario `json:"scenario,omitempty"`
		Digits      string   `json:"digits,omitempty"`
		Description string   `json:"description"`
	}
	magic := []magicJSON{}
	if s.cfg.magic {
		for _, m := range magicNumbers {
			magic = append(magic, magicJSON(m))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"default": def, "next": next, "numbers": numbers, "digits": digits,
		"scenarios": Scenarios(), "magicNumbers": magic})
}

func (s *Server) ctlSetScenario(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Number   string `json:"number"`
		Scenario string `json:"scenario"`
		Next     bool   `json:"next"`
	}
	if !decodeControl(w, r, &in) {
		return
	}
	if in.Next && in.Scenario == "" {
		_ = s.SetNextScenario("")
		s.ctlScenarios(w, r)
		return
	}
	sc, err := ParseScenario(in.Scenario)
	if err != nil {
		ctlError(w, http.StatusBadRequest, "scenario: %s", strings.TrimPrefix(err.Error(), "voicetest: "))
		return
	}
	switch {
	case in.Next && in.Number != "":
		ctlError(w, http.StatusBadRequest, "number: the next call's scenario is for any number; give number or next, not both")
		return
	case in.Next:
		_ = s.SetNextScenario(sc) // sc is valid
	default:
		_ = s.SetScenario(in.Number, sc)
	}
	s.ctlScenarios(w, r)
}

func (s *Server) ctlSetDigits(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Number  string   `json:"number"`
		Presses []string `json:"presses"`
	}
	if !decodeControl(w, r, &in) {
		return
	}
	for i, p := range in.Presses {
		if p == "" || strings.Trim(p, "0123456789*#") != "" {
			ctlError(w, http.StatusBadRequest, "presses[%d]: keys must be 0-9, * or #", i)
			return
		}
	}
	s.SetDigits(in.Number, in.Presses...)
	s.ctlScenarios(w, r)
}

// faultJSON is a fault rule as the control API takes and shows it.
type faultJSON struct {
	Action     string            `json:"action"`
	Code       string            `json:"code,omitempty"`
	ResultDesc string            `json:"resultDesc,omitempty"`
	HTTPStatus int               `json:"httpStatus,omitempty"`
	Header     map[string]string `json:"header,omitempty"`
	Body       string            `json:"body,omitempty"`
	DelayMS    int64             `json:"delayMs,omitempty"`
	// Count is how many requests the rule applies to: 1 when absent, -1
	// for every matching request until the faults are cleared.
	Count  int    `json:"count"`
	API    API    `json:"api,omitempty"`
	Callee string `json:"callee,omitempty"`
	// Go is set for a rule installed with a Go predicate (FailWhen).
	Go bool `json:"go,omitempty"`
}

var faultActions = []FaultAction{FaultNone, FaultResultCode, FaultHTMLError, FaultRaw, FaultDrop, FaultReset, FaultTruncate}

func (s *Server) ctlFaults(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	out := make([]faultJSON, 0, len(s.faults))
	for _, f := range s.faults {
		j := faultJSON{Action: f.fault.Action.String(), Code: string(f.fault.Code), ResultDesc: f.fault.ResultDesc,
			HTTPStatus: f.fault.HTTPStatus, Body: string(f.fault.Body), DelayMS: f.fault.Delay.Milliseconds(),
			Count: f.left, API: f.api, Callee: f.callee, Go: f.match != nil}
		if len(f.fault.Header) > 0 {
			j.Header = make(map[string]string, len(f.fault.Header))
			for k := range f.fault.Header {
				j.Header[k] = f.fault.Header.Get(k)
			}
		}
		out = append(out, j)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"faults": out})
}

func (s *Server) ctlAddFault(w http.ResponseWriter, r *http.Request) {
	var in faultJSON
	in.Count = 1
	if !decodeControl(w, r, &in) {
		return
	}
	var f Fault
	found := false
	for _, a := range faultActions {
		if strings.EqualFold(in.Action, a.String()) {
			f.Action, found = a, true
		}
	}
	if !found {
		names := make([]string, len(faultActions))
		for i, a := range faultActions {
			names[i] = a.String()
		}
		ctlError(w, http.StatusBadRequest, "action: want one of %s", strings.Join(names, ", "))
		return
	}
	f.Code, f.ResultDesc, f.HTTPStatus = voicecall.ResultCode(in.Code), in.ResultDesc, in.HTTPStatus
	if in.Body != "" {
		f.Body = []byte(in.Body)
	}
	if len(in.Header) > 0 {
		f.Header = make(http.Header, len(in.Header))
		for k, v := range in.Header {
			f.Header.Set(k, v)
		}
	}
	if in.DelayMS < 0 || in.DelayMS > int64(time.Hour/time.Millisecond) {
		ctlError(w, http.StatusBadRequest, "delayMs: want 0 to 3600000")
		return
	}
	f.Delay = time.Duration(in.DelayMS) * time.Millisecond
	if in.Count == 0 || in.Count < -1 {
		ctlError(w, http.StatusBadRequest, "count: want a positive number of requests, or -1 for all")
		return
	}
	if in.API != "" {
		if _, _, ok := routeOfAPI(in.API); !ok {
			ctlError(w, http.StatusBadRequest, "api: want callVerify, callnotify, click2Call, callStop or record")
			return
		}
	}
	if in.Go {
		ctlError(w, http.StatusBadRequest, "go: only Go code installs predicate rules")
		return
	}
	if err := s.addFault(faultRule{fault: f, left: in.Count, api: in.API, callee: in.Callee}); err != nil {
		ctlError(w, http.StatusBadRequest, "%s", strings.TrimPrefix(err.Error(), "voicetest: "))
		return
	}
	s.ctlFaults(w, r)
}

// routeOfAPI reports whether api is one of the server's APIs.
func routeOfAPI(api API) (string, string, bool) {
	for _, p := range []string{CallVerifyPath, CallNotifyPath, Click2CallPath, CallStopPath, RecordingPath} {
		if a, m, ok := route(p); ok && a == api {
			return p, m, true
		}
	}
	return "", "", false
}
