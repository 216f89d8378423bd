package voicetest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
)

// appendBounded appends v to list and drops the oldest items beyond max,
// reusing the array so that memory stays bounded.
func appendBounded[T any](list []T, v T, max int) []T {
	if len(list) >= max {
		n := copy(list, list[len(list)-max+1:])
		clear(list[n:])
		list = list[:n]
	}
	return append(list, v)
}

// appendCallLocked records a placed call; s.mu must be held.
func (s *Server) appendCallLocked(c *Call) {
	s.calls = appendBounded(s.calls, c, s.cfg.maxRecords)
}

// maxRequestBody bounds what the server reads of a request body.
const maxRequestBody = 1 << 20

// Server is a fake of the voice call platform listening on loopback. Create
// it with [NewServer] or [Start]; it is safe for concurrent use. Close it
// to stop it: Close waits for every request, call and push in progress.
type Server struct {
	// URL is the base URL of the server, e.g. "http://127.0.0.1:41234",
	// to give to voicecall.NewClient (which accepts http for loopback).
	URL string
	// DownloadURL is the base URL of the separate download host that
	// serves recordings, on another loopback port: the recording API's
	// 301 answers point there.
	DownloadURL string

	cfg    config
	apps   map[string]App
	ln     net.Listener
	srv    *http.Server
	dlLn   net.Listener
	dlSrv  *http.Server
	push   *http.Client
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu          sync.Mutex
	closed      bool
	changed     chan struct{} // closed and replaced when records change
	requests    []Request
	calls       []*Call
	deliveries  []Delivery
	faults      []*faultRule
	nonces      map[string]time.Time // app key + nonce -> when it may be used again
	noncePrune  int
	scenario    Scenario
	next        Scenario // the next call's scenario, once ("" for none)
	callee      map[string]Scenario
	digits      map[string][]string // callee -> scripted key presses
	live        map[string]*simCall // calls in progress, by session id
	recordings  map[string]*recording
	recordOrder []string
	downloads   []Download
	active      int // calls in progress
	reqSeq      int
	sessionSeq  int
	deliverySeq int
	feeGroups   map[feeKey]*feeGroup
	control     http.Handler // nil without WithControlAPI
}

// NewServer starts a server configured by opts. With no option it listens
// on a free loopback port, knows the app [DefaultAppKey] /
// [DefaultAppSecret], answers every valid request and plays the call as
// [ScenarioAnswered], pushing nothing unless the request gives a statusUrl
// or feeUrl.
func NewServer(opts ...Option) (*Server, error) {
	cfg := config{
		addr:        "127.0.0.1:0",
		skew:        DefaultClockSkew,
		locations:   []*time.Location{time.UTC, voicecall.BeijingTime()},
		scenario:    ScenarioAnswered,
		timeScale:   DefaultTimeScale,
		ports:       DefaultPorts,
		mergeWindow: DefaultMergeWindow,
		feeRetries:  DefaultFeeRetries,
		pushTimeout: DefaultPushTimeout,
		hostName:    DefaultHostName,
		clock:       time.Now,
		maxRecords:  DefaultMaxRecords,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("voicetest: %w", err)
		}
	}
	if len(cfg.apps) == 0 {
		cfg.apps = []App{{Key: DefaultAppKey, Secret: DefaultAppSecret}}
	}
	if !cfg.feeIntervalOK {
		cfg.feeInterval = time.Duration(float64(time.Hour) * cfg.timeScale)
	}
	s := &Server{
		cfg:        cfg,
		apps:       make(map[string]App, len(cfg.apps)),
		changed:    make(chan struct{}),
		nonces:     make(map[string]time.Time),
		scenario:   cfg.scenario,
		callee:     make(map[string]Scenario, len(cfg.callee)),
		digits:     make(map[string][]string, len(cfg.digits)),
		live:       make(map[string]*simCall),
		recordings: make(map[string]*recording),
		feeGroups:  make(map[feeKey]*feeGroup),
	}
	for k, v := range cfg.digits {
		s.digits[k] = v
	}
	for i, a := range cfg.apps {
		if a.SPID == "" {
			a.SPID = DefaultSPID
			cfg.apps[i] = a
		}
		s.apps[a.Key] = a
	}
	for k, v := range cfg.callee {
		s.callee[k] = v
	}
	if cfg.control {
		s.control = s.controlMux()
	}
	s.push = newPushClient(cfg.pushClient, cfg.pushTimeout, cfg.remotePushes)

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("voicetest: listen on %s: %w", cfg.addr, err)
	}
	s.ln = ln
	s.URL = "http://" + ln.Addr().String()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	s.srv.SetKeepAlivesEnabled(cfg.connMode == KeepAlive)
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	if err := s.startDownloads(host); err != nil {
		_ = ln.Close()
		s.cancel()
		return nil, fmt.Errorf("voicetest: listen for downloads: %w", err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return s, nil
}

// Start is NewServer for tests: it fails tb if the server cannot start and
// closes the server when the test and its subtests end.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := NewServer(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server: it stops listening, closes every connection,
// abandons delayed answers, calls in progress, CDRs waiting to be merged
// and retries, and waits for its goroutines to finish (each push in flight
// is cancelled, so this is quick). Recorded requests, calls and deliveries
// stay readable. Close may be called more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.notifyLocked()
		s.mu.Unlock()
		s.cancel()
		_ = s.srv.Close()
		_ = s.dlSrv.Close()
		s.wg.Wait()
		s.push.CloseIdleConnections()
	})
}

// Addr returns the address the server listens on, e.g. "127.0.0.1:41234".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Apps returns the apps the server knows, in the order they were given.
func (s *Server) Apps() []App { return append([]App(nil), s.cfg.apps...) }

// NewClient returns a voicecall client for the server's first app (by
// default [DefaultAppKey]), configured by opts.
func (s *Server) NewClient(opts ...voicecall.Option) (*voicecall.Client, error) {
	a := s.cfg.apps[0]
	return voicecall.NewClient(s.URL, a.Key, a.Secret, opts...)
}

// SetDigits scripts the keys callee presses in later voice notifications
// that collect digits: presses[i] at the i-th collection of a call, the
// last one again for any further collection. callee "" scripts every
// callee without a script of its own. No presses removes the script
// (the callee then presses [DefaultDigits]).
func (s *Server) SetDigits(callee string, presses ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(presses) == 0 {
		delete(s.digits, callee)
		return
	}
	s.digits[callee] = append([]string(nil), presses...)
}

// SetScenario sets the scenario of later calls to number (the callee, or
// either party of a click-to-call), or the default scenario when number
// is "".
func (s *Server) SetScenario(callee string, sc Scenario) error {
	if !sc.valid() {
		return fmt.Errorf("voicetest: unknown scenario %q", string(sc))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if callee == "" {
		s.scenario = sc
	} else {
		s.callee[callee] = sc
	}
	return nil
}

// SetNextScenario makes the next call placed, to any number, go as sc,
// once, whatever its number's scenario; for a click-to-call it is the
// callee's (B's) scenario. Setting it again replaces it; "" removes it.
// A request that passes every check uses it up (even one then refused
// because every port is busy); a refused or faulted one does not.
func (s *Server) SetNextScenario(sc Scenario) error {
	if sc != "" && !sc.valid() {
		return fmt.Errorf("voicetest: unknown scenario %q", string(sc))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = sc
	return nil
}

func (s *Server) now() time.Time { return s.cfg.clock() }

// spawnLocked runs f on a goroutine that Close waits for; s.mu must be
// held. It reports false, and does not run f, once the server is closed.
func (s *Server) spawnLocked(f func()) bool {
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// enter registers a request handler with the wait group.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// sleep waits for d or until the server is closed; it reports whether
// the whole d elapsed.
func (s *Server) sleep(d time.Duration) bool {
	if d <= 0 {
		return s.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// answer is what the server sends back for a request.
type answer struct {
	status      int
	contentType string
	header      http.Header
	body        []byte
	action      FaultAction
	delay       time.Duration
	call        *simCall // placed, to be started once the request is recorded
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		abandon(w) // closing: no answer rather than an empty 200
		return
	}
	defer s.wg.Done()
	if s.control != nil && strings.HasPrefix(r.URL.Path, ControlPrefix) {
		s.control.ServeHTTP(w, r)
		return
	}

	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return // the client went away; nothing to answer
	}
	s.mu.Lock()
	s.reqSeq++
	seq := s.reqSeq
	s.mu.Unlock()
	req := Request{
		Seq:     seq,
		Time:    s.now(),
		Method:  r.Method,
		Path:    r.URL.Path,
		Header:  r.Header.Clone(),
		RawBody: raw,
	}
	if r.URL.RawQuery != "" {
		req.Query = r.URL.Query()
	}
	if tok, err := aksk.Parse(r.Header.Get(aksk.Header)); err == nil {
		req.Signature = tok
	}
	ans := s.handle(&req, raw)
	s.record(req)
	if ans.call != nil {
		s.startCall(ans.call)
	}

	if ans.delay > 0 {
		t := time.NewTimer(ans.delay)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			abandon(w)
			return
		case <-r.Context().Done():
			t.Stop()
			abandon(w)
			return
		}
	}
	s.respond(w, ans)
}

// abandon closes the connection without an answer (returning from the
// handler would send an empty 200).
func abandon(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

// handle decides the answer to a request, placing the call if it is
// accepted. It fills in the answer fields of req.
func (s *Server) handle(req *Request, raw []byte) answer {
	api, method, ok := route(req.Path)
	if !ok {
		return s.refuse(req, codeInvalidRestAPI, "no such API")
	}
	req.API = api
	if req.Method != method {
		return s.refuse(req, codeInvalidRestAPI, "method must be "+method)
	}
	s.decode(req, raw) // for the fault rules to look at; checked again below

	f, faulted := s.takeFault(*req)
	if faulted {
		req.Fault = f.Action
		switch f.Action {
		case FaultResultCode:
			ans := s.refuse(req, f.Code, "fault injected")
			if f.ResultDesc != "" {
				req.ResultDesc = f.ResultDesc
				ans.body = resultJSON(f.Code, f.ResultDesc, "", nil)
			}
			if f.HTTPStatus != 0 {
				req.HTTPStatus, ans.status = f.HTTPStatus, f.HTTPStatus
			}
			ans.delay = f.Delay
			return ans
		case FaultHTMLError:
			status := f.HTTPStatus
			if status == 0 {
				status = http.StatusBadGateway
			}
			req.HTTPStatus, req.Reason = status, "fault injected"
			return answer{status: status, contentType: "text/html", body: htmlPage(status), delay: f.Delay}
		case FaultRaw:
			status := f.HTTPStatus
			if status == 0 {
				status = http.StatusOK
			}
			req.HTTPStatus, req.Reason = status, "fault injected"
			return answer{status: status, header: f.Header.Clone(), body: append([]byte(nil), f.Body...), delay: f.Delay}
		}
	}

	ans := s.process(req, raw)
	if faulted {
		ans.action, ans.delay = f.Action, f.Delay
		if f.Action != FaultNone {
			req.HTTPStatus = 0
		}
	}
	return ans
}

// decode decodes req's body (or query) for its API into req and returns
// the first problem the platform's checks find.
func (s *Server) decode(req *Request, raw []byte) (field, problem string) {
	switch req.API {
	case APICallVerify:
		req.Body, field, problem = decodeBody(raw)
	case APICallNotify:
		var b CallNotifyBody
		b, field, problem = decodeNotifyBody(raw)
		req.Notify = &b
	case APIClick2Call:
		var b Click2CallBody
		b, field, problem = decodeClick2CallBody(raw)
		req.Click2Call = &b
	case APICallStop:
		var b CallStopBody
		b, field, problem = decodeStopBody(raw)
		req.Stop = &b
	}
	return field, problem
}

// process runs the platform's checks and does what the API does.
func (s *Server) process(req *Request, raw []byte) answer {
	if req.API != APIRecording {
		if code, reason := checkContentType(req.Header.Get("Content-Type")); code != "" {
			return s.refuse(req, code, reason)
		}
	}
	app, code, reason := s.authenticate(req)
	if code != "" {
		return s.refuse(req, code, reason)
	}
	req.AppKey = app.Key
	if field, problem := s.decode(req, raw); field != "" {
		return s.invalid(req, field, problem)
	}
	start := s.now()
	var sim *simCall
	var returnIdle string
	switch req.API {
	case APICallStop:
		return s.stopCall(req, app)
	case APIRecording:
		return s.recordingURL(req, app)
	case APICallVerify:
		sim, returnIdle = s.verifyCall(app, req.Body, start), req.Body.ReturnIdlePort
	case APICallNotify:
		sim, returnIdle = s.notifyCall(app, *req.Notify, start), req.Notify.ReturnIdlePort
	case APIClick2Call:
		sim, returnIdle = s.click2CallSim(app, *req.Click2Call, start), req.Click2Call.ReturnIdlePort
	}
	idle, ok := s.place(sim)
	if !ok {
		return s.refuse(req, voicecall.CodePortLimit, "every port is busy")
	}
	return s.accept(req, sim, idle, returnIdle)
}

// refuse sets req's answer to code with its documented description.
func (s *Server) refuse(req *Request, code voicecall.ResultCode, reason string) answer {
	desc := describe(code)
	req.ResultCode, req.ResultDesc, req.Reason = code, desc, reason
	req.HTTPStatus = httpStatusFor(code)
	return answer{status: req.HTTPStatus, contentType: jsonContentType, body: resultJSON(code, desc, "", nil)}
}

func (s *Server) record(req Request) {
	s.mu.Lock()
	s.requests = appendBounded(s.requests, req, s.cfg.maxRecords)
	s.notifyLocked()
	s.mu.Unlock()
	if h := s.cfg.hooks.Request; h != nil {
		h(req)
	}
}
