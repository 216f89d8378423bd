package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voicecall-go/voicecall"
)

// Defaults of [Config].
const (
	DefaultMaxConns        = 256
	DefaultMaxConnsPerAddr = 64
	DefaultBodyBudget      = 4 << 20
	DefaultBodyStall       = 250 * time.Millisecond
	DefaultReadHeader      = 5 * time.Second
	DefaultRead            = 15 * time.Second
	DefaultWrite           = 15 * time.Second
	DefaultIdle            = 60 * time.Second
	DefaultMaxHeaderBytes  = 64 << 10
)

// Config holds the limits of a [Server]. The zero value of each
// field means its default; the defaults suit a receiver of the
// platform's pushes on the open Internet.
type Config struct {
	// MaxConns bounds the connections held open at once
	// ([DefaultMaxConns], 256). When a new connection arrives at
	// the bound, the server closes one to admit it, in this order: an
	// idle keep-alive connection; a connection that has not sent a whole
	// header and from which nothing came for 50 ms (never one whose bytes
	// wait to be read, on Linux, macOS and the BSDs: a burst of
	// legitimate requests is not cut); a connection whose body received
	// nothing for BodyStall (100 ms when not a byte of it came). Within
	// each class it takes one of the client address holding the most
	// connections (never one of an address holding less than the
	// average), then the longest idle, or oldest, or longest stalled.
	//
	// When none qualifies, every connection is being served: the
	// newcomer waits on probation, closed if it sends nothing within
	// 100 ms (where the system can tell), else admitted when a slot
	// frees or a connection qualifies. Up to 1,024 wait so; beyond, new
	// connections wait in the kernel's accept queue. Accepting never
	// stops for a flood of silent connections.
	MaxConns int

	// MaxConnsPerAddr bounds the connections of one client address
	// ([DefaultMaxConnsPerAddr], 64). When a new connection
	// arrives at the bound, the server closes one of that address's to
	// admit it: an idle keep-alive one, else one whose body stalled. It
	// never closes one still sending its header for its own address (a
	// burst from one client would cut itself): the new connection is
	// closed at once instead. IPv6 addresses count by their /64 network.
	MaxConnsPerAddr int

	// AllowedNetworks, when not empty, is the only source networks whose
	// connections are served (e.g. the platform's push addresses);
	// others are closed as they are accepted, before they take a slot.
	AllowedNetworks []netip.Prefix

	// MaxBodyBytes bounds one request body; a larger one fails to read
	// (a [voicecall.Handler] answers 413). 0 means
	// [voicecall.DefaultMaxBodyBytes] (1 MiB), the Handler's own bound.
	MaxBodyBytes int64

	// BodyBudget bounds the bytes of request bodies being handled at
	// once ([DefaultBodyBudget], 4 MiB). A body costs nothing
	// until its first bytes arrive (a Content-Length costs nothing to
	// send); then it holds its declared length (at most MaxBodyBytes,
	// MaxBodyBytes when undeclared) until the handler returns. A request
	// waits for room, smaller bodies first; while it waits, bodies that
	// hold room and have received nothing for BodyStall are cut (their
	// connection is closed). A request that finds no room within
	// ReadTimeout is answered 503.
	BodyBudget int64

	// BodyStall is how long a body may receive nothing before it can be
	// cut to make room for others ([DefaultBodyStall], 250 ms). A
	// body is only cut while others wait for its room or its slot. The
	// shorter graces of MaxConns (50 ms for a header, 100 ms for a new
	// connection's first byte or a body's) are a fifth and two fifths of
	// it.
	BodyStall time.Duration

	// ReadHeaderTimeout bounds the time to read a request's header
	// ([DefaultReadHeader], 5 s): slowloris clients are cut.
	ReadHeaderTimeout time.Duration

	// ReadTimeout bounds the time to read a whole request
	// ([DefaultRead], 15 s): slow bodies are cut.
	ReadTimeout time.Duration

	// WriteTimeout bounds the time from the end of the request header
	// to the end of the answer ([DefaultWrite], 15 s).
	WriteTimeout time.Duration

	// IdleTimeout bounds the time a keep-alive connection may wait for
	// its next request ([DefaultIdle], 60 s).
	IdleTimeout time.Duration

	// MaxHeaderBytes bounds a request's header
	// ([DefaultMaxHeaderBytes], 64 KiB); a larger one is answered
	// 431.
	MaxHeaderBytes int

	// Logger receives the http.Server's own error lines (at level
	// Warn). nil discards them.
	Logger *slog.Logger
}

// Server serves an http.Handler (typically a [voicecall.Handler]) within
// the limits of a [Config]: caps on connections in all and per client
// address, header and body timeouts, a budget of body bytes charged as
// they arrive, idle connections closed first when slots run short, and
// an optional allow-list of source networks. Create it with [New]; it
// is safe for concurrent use.
//
// The server keeps at most MaxConns + 1,024 descriptors for its
// connections; the Go runtime raises the process's soft limit of open
// files to the hard limit at start-up, which must be above that.
type Server struct {
	srv   *http.Server
	cfg   Config
	slots *slots
	bud   *budget
}

// New returns a Server that serves h within cfg's limits. It
// fails when a limit is negative or an allowed network is invalid.
func New(h http.Handler, cfg Config) (*Server, error) {
	if h == nil {
		return nil, errf("new: handler is nil")
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxConns", int64(cfg.MaxConns)}, {"MaxConnsPerAddr", int64(cfg.MaxConnsPerAddr)},
		{"MaxBodyBytes", cfg.MaxBodyBytes}, {"BodyBudget", cfg.BodyBudget}, {"BodyStall", int64(cfg.BodyStall)},
		{"ReadHeaderTimeout", int64(cfg.ReadHeaderTimeout)}, {"ReadTimeout", int64(cfg.ReadTimeout)},
		{"WriteTimeout", int64(cfg.WriteTimeout)}, {"IdleTimeout", int64(cfg.IdleTimeout)},
		{"MaxHeaderBytes", int64(cfg.MaxHeaderBytes)},
	} {
		if f.v < 0 {
			return nil, errf("new: invalid %s: must not be negative", f.name)
		}
	}
	for i, p := range cfg.AllowedNetworks {
		if !p.IsValid() {
			return nil, errf("new: invalid AllowedNetworks[%d]", i)
		}
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def64 := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.MaxConns, DefaultMaxConns)
	def(&cfg.MaxConnsPerAddr, DefaultMaxConnsPerAddr)
	def(&cfg.MaxHeaderBytes, DefaultMaxHeaderBytes)
	def64(&cfg.MaxBodyBytes, voicecall.DefaultMaxBodyBytes)
	def64(&cfg.BodyBudget, DefaultBodyBudget)
	defDur(&cfg.BodyStall, DefaultBodyStall)
	defDur(&cfg.ReadHeaderTimeout, DefaultReadHeader)
	defDur(&cfg.ReadTimeout, DefaultRead)
	defDur(&cfg.WriteTimeout, DefaultWrite)
	defDur(&cfg.IdleTimeout, DefaultIdle)
	if cfg.BodyBudget < cfg.MaxBodyBytes {
		return nil, errf("new: invalid BodyBudget: must be at least MaxBodyBytes (%d)", cfg.MaxBodyBytes)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:   cfg,
		slots: newSlots(cfg.MaxConns, cfg.MaxConnsPerAddr, cfg.BodyStall),
		bud:   newBudget(cfg.BodyBudget, cfg.BodyStall),
	}
	s.srv = &http.Server{
		Handler:           s.wrap(h),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ConnState:         s.slots.connState,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*trackedConn); ok {
				return context.WithValue(ctx, trackedConnKey{}, tc)
			}
			return ctx
		},
	}
	return s, nil
}

// Config returns the server's limits, with every default filled in.
func (s *Server) Config() Config { return s.cfg }

// Serve accepts connections on ln and serves them until [Server.Shutdown]
// or [Server.Close]; it returns [http.ErrServerClosed] then.
func (s *Server) Serve(ln net.Listener) error {
	return s.srv.Serve(newAdmitListener(ln, s))
}

// Shutdown stops accepting connections and waits, until ctx ends, for
// the requests being handled; see [http.Server.Shutdown].
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// Close closes the listeners and every connection at once.
func (s *Server) Close() error { return s.srv.Close() }

type trackedConnKey struct{}

// trackedConn is an admitted connection.
type trackedConn struct {
	net.Conn
	addr     netip.Prefix // the client address's key for MaxConnsPerAddr
	accepted time.Time
	slots    *slots

	// Guarded by slots.mu.
	state     http.ConnState
	idleSince time.Time
	busyAt    time.Time // when its bytes were last seen waiting to be read
	// waitingLight marks a connection on probation from an address
	// holding less than its fair share (counted in slots.lightWaiting).
	waitingLight bool

	// bodyWait is when the handler began waiting for body bytes that
	// have not arrived (unix nanoseconds), 0 when it is not waiting.
	bodyWait atomic.Int64
	// lastRead is when bytes last arrived (unix nanoseconds).
	lastRead atomic.Int64
	// bodyEmpty is true while the handler waits for the first byte of a
	// declared body.
	bodyEmpty atomic.Bool
}

// Read notes when bytes arrive (a header still coming in is not a
// silent connection).
func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.lastRead.Store(time.Now().UnixNano())
	}
	return n, err
}

// Close frees c's slot, then closes it (so that a peer that sees the
// close can count on the slot being free).
func (c *trackedConn) Close() error {
	c.slots.remove(c)
	return c.Conn.Close()
}

// stalledSince returns when c's body stalled, or the zero time.
func (c *trackedConn) stalledSince() time.Time {
	if n := c.bodyWait.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// admitListener admits each accepted connection into the server's slots.
// A connection that finds every slot busy waits on probation, in its
// own goroutine (at most maxProbation at once; beyond, accepting
// waits): it is closed if it sends nothing within silentGrace, else
// admitted as soon as a slot frees or a connection qualifies to be
// closed for it.
type admitListener struct {
	net.Listener
	s        *Server
	once     sync.Once
	done     chan struct{} // closed by Close
	ready    chan net.Conn // admitted after probation
	incoming chan accepted // from the accepting goroutine
	start    sync.Once
	sem      chan struct{} // probation slots
}

type accepted struct {
	c   net.Conn
	err error
}

// maxProbation bounds the connections waiting on probation.
const maxProbation = 1024

func newAdmitListener(ln net.Listener, s *Server) *admitListener {
	return &admitListener{Listener: ln, s: s, done: make(chan struct{}), ready: make(chan net.Conn),
		incoming: make(chan accepted), sem: make(chan struct{}, maxProbation)}
}

func (l *admitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// acceptLoop accepts connections and hands them to Accept, until the
// listener is closed.
func (l *admitListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		select {
		case l.incoming <- accepted{c, err}:
		case <-l.done:
			if c != nil {
				c.Close()
			}
			return
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		// Other errors (EMFILE...) go to http.Server, which waits a
		// little before calling Accept again.
	}
}

func (l *admitListener) Accept() (net.Conn, error) {
	l.start.Do(func() { go l.acceptLoop() })
	for {
		select {
		case c := <-l.ready:
			return c, nil
		case <-l.done:
			return nil, net.ErrClosed
		case a := <-l.incoming:
			if a.err != nil {
				return nil, a.err
			}
			key, ok := addrKey(a.c.RemoteAddr())
			if ok && len(l.s.cfg.AllowedNetworks) > 0 && !allowed(l.s.cfg.AllowedNetworks, key.Addr()) {
				a.c.Close()
				continue
			}
			tc := &trackedConn{Conn: a.c, addr: key, accepted: time.Now(), slots: l.s.slots, state: http.StateNew}
			switch l.s.slots.tryAdmit(tc, tc.accepted) {
			case admitted:
				return tc, nil
			case refused:
				a.c.Close()
				continue
			}
			select { // every slot busy: probation
			case l.sem <- struct{}{}:
				go l.probation(tc)
			case <-l.done:
				a.c.Close()
				return nil, net.ErrClosed
			}
		}
	}
}

// probation waits for tc to send something (closing it if it does not
// within silentGrace), then for a slot.
func (l *admitListener) probation(tc *trackedConn) {
	released := false
	release := func() {
		if !released {
			released = true
			<-l.sem
		}
	}
	defer release()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		// Without a peek (peekSupported false) pendingData cannot tell,
		// and a newcomer waits for a slot like the others.
		pending, known := pendingData(tc.Conn)
		if pending || !known {
			break
		}
		if time.Since(tc.accepted) >= l.s.slots.silentGrace() {
			tc.Conn.Close()
			return
		}
		select {
		case <-tick.C:
		case <-l.done:
			tc.Conn.Close()
			return
		}
	}
	// Waiting for a slot: a connection from an address holding less than
	// the average looks again every 2 ms, and while it waits no other
	// address's newcomer takes a slot from a victim; others look every
	// 20 ms. So a flood from some addresses does not starve the others
	// of the slots it frees.
	if l.s.slots.waitLight(tc) {
		defer l.s.slots.doneWaiting(tc)
		tick.Reset(2 * time.Millisecond)
	} else {
		tick.Reset(20 * time.Millisecond)
	}
	for {
		switch l.s.slots.tryAdmit(tc, time.Now()) {
		case admitted:
			l.s.slots.doneWaiting(tc)
			release() // before waiting for Accept, which may wait for a probation slot
			select {
			case l.ready <- tc:
			case <-l.done:
				tc.Close()
			}
			return
		case refused:
			tc.Conn.Close()
			return
		}
		select {
		case <-l.s.slots.freed:
		case <-tick.C:
		case <-l.done:
			tc.Conn.Close()
			return
		}
	}
}

func allowed(nets []netip.Prefix, a netip.Addr) bool {
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addrKey returns the key of a client address: the IPv4 address, or
// the /64 network of an IPv6 one.
func addrKey(a net.Addr) (netip.Prefix, bool) {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Prefix{}, false
	}
	ip := ap.Addr().Unmap()
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32), true
	}
	p, _ := ip.Prefix(64)
	return p, true
}

// The graces of silence, all fractions of BodyStall (at its default of
// 250 ms: 50, 100 and 100 ms).
//
// newGrace is how long a new connection may send nothing before it can
// be closed for a newcomer: a client writes its request as soon as it
// is connected, but not within the same instant as the server accepts.
func (s *slots) newGrace() time.Duration { return s.stall / 5 }

// silentGrace is how long a connection that found every slot busy may
// send nothing before it is closed.
func (s *slots) silentGrace() time.Duration { return s.stall * 2 / 5 }

// emptyBodyGrace is how long a request may wait for the first byte of
// its declared body before its connection can be closed for a newcomer
// (shorter than BodyStall: a client sends its body with its header).
func (s *slots) emptyBodyGrace() time.Duration { return s.stall * 2 / 5 }

// slots holds the admitted connections.
type slots struct {
	max, perAddr int
	stall        time.Duration

	freed chan struct{} // signalled (without blocking) when a slot frees

	mu     sync.Mutex
	all    map[*trackedConn]struct{}
	byAddr map[netip.Prefix]map[*trackedConn]struct{}
	// lightWaiting counts the connections on probation from addresses
	// holding less than their fair share: while there are some, a
	// newcomer from another address takes no slot from a victim (the
	// light waiter gets it), so that a flood re-opening its connections
	// as fast as they are closed does not win every slot it frees.
	lightWaiting int
}

func newSlots(max, perAddr int, stall time.Duration) *slots {
	return &slots{max: max, perAddr: perAddr, stall: stall, freed: make(chan struct{}, 1),
		all: map[*trackedConn]struct{}{}, byAddr: map[netip.Prefix]map[*trackedConn]struct{}{}}
}

// Results of tryAdmit.
const (
	admitted = iota // c holds a slot
	refused         // c's address is at its cap with nothing to close
	full            // every slot is busy with nothing to close
)

// tryAdmit takes a slot for c, closing a connection that matters less
// when the server or c's address is at its bound.
func (s *slots) tryAdmit(c *trackedConn, now time.Time) int {
	for {
		s.mu.Lock()
		var victim *trackedConn
		switch {
		case len(s.byAddr[c.addr]) >= s.perAddr:
			if victim = s.victim(s.byAddr[c.addr], now, false, false); victim == nil {
				s.mu.Unlock()
				return refused
			}
		case len(s.all) >= s.max:
			if s.lightWaiting > 0 && !c.waitingLight {
				s.mu.Unlock()
				return full
			}
			if victim = s.victim(s.all, now, true, true); victim == nil {
				s.mu.Unlock()
				return full
			}
		default:
			s.all[c] = struct{}{}
			m := s.byAddr[c.addr]
			if m == nil {
				m = map[*trackedConn]struct{}{}
				s.byAddr[c.addr] = m
			}
			m[c] = struct{}{}
			s.mu.Unlock()
			return admitted
		}
		s.removeLocked(victim)
		s.mu.Unlock()
		victim.Conn.Close() // its slot is already free
	}
}

// victim returns the connection of set to close for a newcomer, or nil
// (see pick). A connection still sending its header whose next bytes
// have already arrived (its turn to be read has not come yet, as in a
// burst of legitimate requests) is not closed. s.mu is held.
func (s *slots) victim(set map[*trackedConn]struct{}, now time.Time, weigh, takeNew bool) *trackedConn {
	for range len(set) {
		c := s.pick(set, now, weigh, takeNew)
		if c == nil || c.state != http.StateNew {
			return c
		}
		if pending, _ := pendingData(c.Conn); !pending {
			return c
		}
		c.busyAt = now // not a candidate again for newGrace
	}
	return nil
}

// pick returns the connection of set to close for a newcomer, or nil:
// an idle one, else one still sending its header (when takeNew), else
// one whose body stalled; within that class, one of the address holding the most
// connections (so that a flood from some addresses is not paid for by
// the others; weigh says to compare), the longest idle or stalled or
// the oldest. s.mu is held.
func (s *slots) pick(set map[*trackedConn]struct{}, now time.Time, weigh, takeNew bool) *trackedConn {
	var best *trackedConn
	var bestRank, bestLoad int
	var bestAt time.Time
	fair := len(s.all) / max(1, len(s.byAddr))
	for c := range set {
		var rank int
		var at time.Time
		switch c.state {
		case http.StateIdle:
			rank, at = 0, c.idleSince
		case http.StateNew:
			at = c.accepted
			if n := c.lastRead.Load(); n != 0 {
				at = time.Unix(0, n) // a header still coming in
			}
			if !takeNew || now.Sub(at) < s.newGrace() || now.Sub(c.busyAt) < s.newGrace() {
				continue
			}
			rank = 1
		case http.StateActive:
			grace := s.stall
			if c.bodyEmpty.Load() {
				grace = s.emptyBodyGrace()
			}
			if at = c.stalledSince(); at.IsZero() || now.Sub(at) < grace {
				continue
			}
			rank = 2
		default:
			continue
		}
		load := 0
		if weigh { // (within one address, every load is the same)
			if load = len(s.byAddr[c.addr]); load < fair {
				continue // an address below its fair share keeps its connections
			}
		}
		if best == nil || rank < bestRank || rank == bestRank && (load > bestLoad || load == bestLoad && at.Before(bestAt)) {
			best, bestRank, bestLoad, bestAt = c, rank, load, at
		}
	}
	return best
}

// waitLight registers c, on probation, as a light waiter (when its
// address holds less than its fair share) and reports whether it did;
// doneWaiting undoes it.
func (s *slots) waitLight(c *trackedConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byAddr[c.addr])*max(1, len(s.byAddr)) >= len(s.all) {
		return false
	}
	c.waitingLight = true
	s.lightWaiting++
	return true
}

func (s *slots) doneWaiting(c *trackedConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.waitingLight {
		c.waitingLight = false
		s.lightWaiting--
	}
}

func (s *slots) remove(c *trackedConn) {
	s.mu.Lock()
	s.removeLocked(c)
	s.mu.Unlock()
}

func (s *slots) removeLocked(c *trackedConn) {
	if _, ok := s.all[c]; !ok {
		return
	}
	delete(s.all, c)
	m := s.byAddr[c.addr]
	delete(m, c)
	if len(m) == 0 {
		delete(s.byAddr, c.addr)
	}
	select {
	case s.freed <- struct{}{}:
	default:
	}
}

func (s *slots) connState(nc net.Conn, st http.ConnState) {
	c, ok := nc.(*trackedConn)
	if !ok {
		return
	}
	switch st {
	case http.StateClosed, http.StateHijacked:
		s.remove(c)
		return
	}
	s.mu.Lock()
	c.state = st
	if st == http.StateIdle {
		c.idleSince = time.Now()
	}
	s.mu.Unlock()
}

// errBodyBudget is the answer to a request that found no room.
var errBodyBudget = errors.New("server: busy: no room for the request body")

// wrap returns h behind the body budget and the body size bound.
func (s *Server) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tc, _ := r.Context().Value(trackedConnKey{}).(*trackedConn)
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			h.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > s.cfg.MaxBodyBytes {
			// Refused unread (no "100 Continue" is sent): the handler
			// answers from Content-Length, or fails its first read.
			h.ServeHTTP(w, withBody(r, tooLarge{limit: s.cfg.MaxBodyBytes}))
			return
		}
		body := &trackedBody{rc: http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), conn: tc}
		// The first bytes cost nothing: a connection that declares a
		// body and sends nothing holds no room.
		var first [512]byte
		if tc != nil {
			tc.bodyEmpty.Store(true)
		}
		n, err := body.Read(first[:])
		if tc != nil {
			tc.bodyEmpty.Store(false)
		}
		need := r.ContentLength
		if need < 0 || need > s.cfg.MaxBodyBytes {
			need = s.cfg.MaxBodyBytes
		}
		var h0 *holder
		if n > 0 && err == nil {
			deadline := time.Now().Add(s.cfg.ReadTimeout)
			ctx, cancel := context.WithDeadline(r.Context(), deadline)
			h0, err = s.bud.take(ctx, need, tc)
			cancel()
			if err != nil {
				w.Header().Set("Connection", "close")
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			defer s.bud.give(h0)
		}
		h.ServeHTTP(w, withBody(r, &prefixBody{head: first[:n], err: err, rest: body}))
	})
}

// withBody returns a shallow copy of r reading body.
func withBody(r *http.Request, body io.ReadCloser) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	r2.Body = body
	return r2
}

// tooLarge is the body of a request that declares more than the bound.
type tooLarge struct{ limit int64 }

func (b tooLarge) Read([]byte) (int, error) { return 0, &http.MaxBytesError{Limit: b.limit} }
func (tooLarge) Close() error               { return nil }

// trackedBody marks its connection as waiting for the client while a
// Read blocks.
type trackedBody struct {
	rc   io.ReadCloser
	conn *trackedConn
}

func (b *trackedBody) Read(p []byte) (int, error) {
	if b.conn == nil {
		return b.rc.Read(p)
	}
	b.conn.bodyWait.Store(time.Now().UnixNano())
	n, err := b.rc.Read(p)
	b.conn.bodyWait.Store(0)
	return n, err
}

func (b *trackedBody) Close() error { return b.rc.Close() }

// prefixBody returns head (and then err, if any) before reading rest.
type prefixBody struct {
	head []byte
	err  error
	rest io.ReadCloser
}

func (b *prefixBody) Read(p []byte) (int, error) {
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.rest.Read(p)
}

func (b *prefixBody) Close() error { return b.rest.Close() }

// budget is the room for request bodies.
type budget struct {
	max   int64
	stall time.Duration

	mu      sync.Mutex
	used    int64
	holders map[*holder]struct{}
	waiters []*waiter // in the order of need, smallest first
}

type holder struct {
	n    int64
	conn *trackedConn
}

type waiter struct {
	h       *holder
	granted chan struct{}
}

func newBudget(max int64, stall time.Duration) *budget {
	return &budget{max: max, stall: stall, holders: map[*holder]struct{}{}}
}

// take waits until n bytes are free (smaller needs are served first),
// cutting stalled holders meanwhile, or until ctx ends.
func (b *budget) take(ctx context.Context, n int64, c *trackedConn) (*holder, error) {
	h := &holder{n: n, conn: c}
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.max {
		b.used += n
		b.holders[h] = struct{}{}
		b.mu.Unlock()
		return h, nil
	}
	w := &waiter{h: h, granted: make(chan struct{})}
	i := 0
	for i < len(b.waiters) && b.waiters[i].h.n <= n {
		i++
	}
	b.waiters = append(b.waiters, nil)
	copy(b.waiters[i+1:], b.waiters[i:])
	b.waiters[i] = w
	b.grantLocked()
	b.mu.Unlock()

	tick := time.NewTicker(max(b.stall/4, time.Millisecond))
	defer tick.Stop()
	for {
		b.cutStalled()
		select {
		case <-w.granted:
			return h, nil
		case <-tick.C:
		case <-ctx.Done():
			b.mu.Lock()
			defer b.mu.Unlock()
			select {
			case <-w.granted: // granted meanwhile: keep it
				return h, nil
			default:
			}
			for i, x := range b.waiters {
				if x == w {
					b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
					break
				}
			}
			b.grantLocked() // a smaller need may fit now
			return nil, errBodyBudget
		}
	}
}

// grantLocked grants the waiters that fit, smallest need first.
func (b *budget) grantLocked() {
	for len(b.waiters) > 0 && b.used+b.waiters[0].h.n <= b.max {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.used += w.h.n
		b.holders[w.h] = struct{}{}
		close(w.granted)
	}
}

func (b *budget) give(h *holder) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.holders[h]; !ok {
		return
	}
	delete(b.holders, h)
	b.used -= h.n
	b.grantLocked()
}

// cutStalled closes the connections of holders whose body has received
// nothing for b.stall; their handlers then fail and give their room back.
func (b *budget) cutStalled() {
	now := time.Now()
	var cut []*trackedConn
	b.mu.Lock()
	for h := range b.holders {
		if h.conn == nil {
			continue
		}
		if at := h.conn.stalledSince(); !at.IsZero() && now.Sub(at) >= b.stall {
			cut = append(cut, h.conn)
		}
	}
	b.mu.Unlock()
	for _, c := range cut {
		_ = c.Close()
	}
}

// errf returns an error whose text is prefixed "server: ".
func errf(format string, args ...any) error { return fmt.Errorf("server: "+format, args...) }
