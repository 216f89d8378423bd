package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voicecall-go/voicecall"
)

// startServer serves h with cfg on 127.0.0.1 and returns its address.
func startServer(t *testing.T, h http.Handler, cfg Config) (string, *Server) {
	t.Helper()
	s, err := New(h, cfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close(); <-done })
	return ln.Addr().String(), s
}

// dialFrom connects to addr from the loopback address from.
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reports whether the server closes c within d (reading
// and discarding anything it sends).
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !errors.As(err, &ne) || !ne.Timeout() // EOF or reset: closed
}

// get sends one keep-alive GET on c and reads the answer's status.
func get(t *testing.T, c net.Conn, br *bufio.Reader) int {
	t.Helper()
	_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusOK)
})

func TestNewServerConfig(t *testing.T) {
	t.Parallel()
	s, err := New(okHandler, Config{})
	require.NoError(t, err)
	c := s.Config()
	assert.Equal(t, DefaultMaxConns, c.MaxConns)
	assert.Equal(t, DefaultMaxConnsPerAddr, c.MaxConnsPerAddr)
	assert.Equal(t, int64(voicecall.DefaultMaxBodyBytes), c.MaxBodyBytes)
	assert.Equal(t, int64(DefaultBodyBudget), c.BodyBudget)
	assert.Equal(t, DefaultReadHeader, c.ReadHeaderTimeout)

	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{MaxConns: -1}, "MaxConns"},
		{Config{BodyStall: -1}, "BodyStall"},
		{Config{MaxBodyBytes: 2 << 20, BodyBudget: 1 << 20}, "BodyBudget"},
		{Config{AllowedNetworks: []netip.Prefix{{}}}, "AllowedNetworks[0]"},
	} {
		_, err := New(okHandler, tc.cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
		assert.True(t, strings.HasPrefix(err.Error(), "server: "))
	}
	_, err = New(nil, Config{})
	assert.Error(t, err)
}

// blockingHandler answers / at once and blocks /block until the test
// ends.
func blockingHandler(t *testing.T) http.Handler {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	})
}

// waitStates waits until the server holds want connections per state.
func waitStates(t *testing.T, s *Server, want map[http.ConnState]int) {
	t.Helper()
	for k, v := range want {
		if v == 0 {
			delete(want, k)
		}
	}
	require.Eventually(t, func() bool {
		got := map[http.ConnState]int{}
		s.slots.mu.Lock()
		for c := range s.slots.all {
			got[c.state]++
		}
		s.slots.mu.Unlock()
		return assert.ObjectsAreEqual(want, got)
	}, 5*time.Second, time.Millisecond)
}

// block opens a connection from `from` whose request is being handled.
func block(t *testing.T, from, addr string) net.Conn {
	c := dialFrom(t, from, addr)
	_, err := io.WriteString(c, "GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	return c
}

func TestServerIdleClosedFirst(t *testing.T) {
	t.Parallel()
	addr, s := startServer(t, blockingHandler(t), Config{MaxConns: 3, MaxConnsPerAddr: 10})
	// Two idle keep-alive connections, one still sending its header.
	idle := make([]net.Conn, 2)
	for i := range idle {
		idle[i] = dialFrom(t, "127.0.0.1", addr)
		require.Equal(t, http.StatusOK, get(t, idle[i], bufio.NewReader(idle[i])))
		waitStates(t, s, map[http.ConnState]int{http.StateIdle: i + 1}) // idle in this order
	}
	slow := dialFrom(t, "127.0.0.1", addr)
	_, err := io.WriteString(slow, "GET / HTTP/1.1\r\n")
	require.NoError(t, err)
	waitStates(t, s, map[http.ConnState]int{http.StateIdle: 2, http.StateNew: 1})

	// Each newcomer takes the slot of the longest idle connection...
	var first net.Conn
	for i := range idle {
		c := block(t, "127.0.0.2", addr)
		if i == 0 {
			first = c
		}
		assert.True(t, closedWithin(idle[i], 2*time.Second), "idle connection %d was closed", i)
		waitStates(t, s, map[http.ConnState]int{http.StateIdle: 1 - i, http.StateNew: 1, http.StateActive: i + 1})
	}
	// ...then that of the one still sending its header...
	block(t, "127.0.0.2", addr)
	assert.True(t, closedWithin(slow, 2*time.Second), "the connection still sending its header was closed")
	waitStates(t, s, map[http.ConnState]int{http.StateActive: 3})
	// ...and when every one is being handled, a newcomer that sends
	// nothing is closed at once...
	assert.True(t, closedWithin(dialFrom(t, "127.0.0.3", addr), 2*time.Second), "the silent newcomer was closed")
	// ...and one that sent its request waits (in the kernel's accept
	// queue) until a slot frees.
	if !peekSupported {
		return
	}
	// (Its request may not have arrived when the server accepted it, and
	// then it was closed as silent: try again, a bounded number of times.)
	var waiting net.Conn
	for range 20 {
		c := dialFrom(t, "127.0.0.4", addr)
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		var one [1]byte
		_, err = c.Read(one[:])
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() { // neither answered nor closed
			waiting = c
			break
		}
		require.NotEqual(t, nil, err, "no answer while every slot is busy")
	}
	require.NotNil(t, waiting, "a newcomer with its request waits")
	first.Close() // its handler returns: a slot frees
	_ = waiting.SetReadDeadline(time.Time{})
	resp, err := http.ReadResponse(bufio.NewReader(waiting), nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestServerPerAddrCap(t *testing.T) {
	t.Parallel()
	addr, s := startServer(t, blockingHandler(t), Config{MaxConns: 100, MaxConnsPerAddr: 2})
	// 127.0.0.2 fills its two slots with requests being handled, and a
	// second address keeps an idle connection.
	block(t, "127.0.0.2", addr)
	slow := dialFrom(t, "127.0.0.2", addr)
	_, err := io.WriteString(slow, "GET / HTTP/1.1\r\n")
	require.NoError(t, err)
	other := dialFrom(t, "127.0.0.3", addr)
	br := bufio.NewReader(other)
	require.Equal(t, http.StatusOK, get(t, other, br))
	waitStates(t, s, map[http.ConnState]int{http.StateActive: 1, http.StateNew: 1, http.StateIdle: 1})
	// Its third connection is closed at once: within its own address
	// there is nothing to close instead (its connection still sending
	// its header is kept), and the other address's idle connection is
	// not its to take.
	assert.True(t, closedWithin(dialFrom(t, "127.0.0.2", addr), 2*time.Second))
	_, err = io.WriteString(slow, "Host: x\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(slow), nil)
	require.NoError(t, err, "the connection still sending its header was kept")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, get(t, other, br), "the other address is still served")
}

func TestServerAllowedNetworks(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, okHandler, Config{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.4/32")}})
	c := dialFrom(t, "127.0.0.5", addr)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.True(t, closedWithin(c, 2*time.Second), "a source outside the list is closed")
	ok := dialFrom(t, "127.0.0.4", addr)
	assert.Equal(t, http.StatusOK, get(t, ok, bufio.NewReader(ok)))
}

// post starts a POST declaring n bytes and sends body (maybe less).
func post(t *testing.T, from, addr string, n int, body string) net.Conn {
	t.Helper()
	c := dialFrom(t, from, addr)
	_, err := fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", n, body)
	require.NoError(t, err)
	return c
}

func TestServerBodyBudget(t *testing.T) {
	t.Parallel()
	const budget = 64 << 10
	cfg := Config{MaxBodyBytes: budget, BodyBudget: budget, BodyStall: 100 * time.Millisecond, ReadTimeout: 30 * time.Second}

	t.Run("declared and not sent costs nothing", func(t *testing.T) {
		t.Parallel()
		addr, s := startServer(t, okHandler, cfg)
		for range 20 { // 20 MiB declared, nothing sent
			post(t, "127.0.0.6", addr, budget, "")
		}
		start := time.Now()
		c := post(t, "127.0.0.7", addr, budget, strings.Repeat("x", budget))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Less(t, time.Since(start), cfg.BodyStall, "served without waiting for a stalled body to be cut")
		s.bud.mu.Lock()
		defer s.bud.mu.Unlock()
		assert.Zero(t, s.bud.used, "nothing held after the answer")
	})

	t.Run("a stalled holder is cut for a waiter", func(t *testing.T) {
		t.Parallel()
		addr, s := startServer(t, okHandler, cfg)
		hog := post(t, "127.0.0.8", addr, budget, strings.Repeat("x", budget-1)) // then silence
		require.Eventually(t, func() bool { s.bud.mu.Lock(); defer s.bud.mu.Unlock(); return s.bud.used == budget }, 5*time.Second, time.Millisecond)
		c := post(t, "127.0.0.9", addr, 4000, strings.Repeat("y", 4000)) // more than the first free read
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.True(t, closedWithin(hog, 2*time.Second), "the stalled body's connection was closed")
	})
}

func TestBudgetSmallestFirst(t *testing.T) {
	t.Parallel()
	b := newBudget(100, time.Hour)
	ctx := context.Background()
	first, err := b.take(ctx, 100, nil)
	require.NoError(t, err)
	got := make(chan int64, 2)
	for _, n := range []int64{80, 30} {
		go func() {
			h, err := b.take(ctx, n, nil)
			if err == nil {
				got <- n
				if n == 30 {
					b.give(h)
				}
			}
		}()
	}
	require.Eventually(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.waiters) == 2 }, 5*time.Second, time.Millisecond)
	b.give(first)
	assert.Equal(t, int64(30), <-got, "the smaller need is granted first (both do not fit)")
	assert.Equal(t, int64(80), <-got)

	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_, err = b.take(short, 100, nil)
	assert.ErrorIs(t, err, errBodyBudget, "no room within the deadline")
}

func TestServerRefusesDeclaredTooLargeUnread(t *testing.T) {
	t.Parallel()
	h, err := voicecall.NewHandler(voicecall.HandlerConfig{})
	require.NoError(t, err)
	addr, _ := startServer(t, h, Config{MaxBodyBytes: 1000, BodyBudget: 1000})
	c := dialFrom(t, "127.0.0.1", addr)
	// With "Expect: 100-continue", a body read would send "100 Continue".
	_, err = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "the final answer comes first, no 100")
}

func TestServerHeaviestAddressPaysFirst(t *testing.T) {
	t.Parallel()
	addr, s := startServer(t, blockingHandler(t), Config{MaxConns: 3, MaxConnsPerAddr: 10})
	// The longest idle connection comes from 127.0.0.1, two later ones
	// from 127.0.0.2.
	light := dialFrom(t, "127.0.0.1", addr)
	require.Equal(t, http.StatusOK, get(t, light, bufio.NewReader(light)))
	waitStates(t, s, map[http.ConnState]int{http.StateIdle: 1})
	for i := range 2 {
		c := dialFrom(t, "127.0.0.2", addr)
		require.Equal(t, http.StatusOK, get(t, c, bufio.NewReader(c)))
		waitStates(t, s, map[http.ConnState]int{http.StateIdle: i + 2})
	}
	// A newcomer takes a slot of 127.0.0.2, which holds the most.
	block(t, "127.0.0.3", addr)
	waitStates(t, s, map[http.ConnState]int{http.StateIdle: 2, http.StateActive: 1})
	s.slots.mu.Lock()
	assert.Len(t, s.slots.byAddr[netip.MustParsePrefix("127.0.0.1/32")], 1, "the light address keeps its connection")
	assert.Len(t, s.slots.byAddr[netip.MustParsePrefix("127.0.0.2/32")], 1)
	s.slots.mu.Unlock()
}

func TestPendingData(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("no peek on " + runtime.GOOS)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	c := dialFrom(t, "127.0.0.1", ln.Addr().String())
	sc, err := ln.Accept()
	require.NoError(t, err)
	defer sc.Close()
	pending, known := pendingData(sc)
	assert.True(t, known)
	assert.False(t, pending, "nothing sent")
	_, err = io.WriteString(c, "GET")
	require.NoError(t, err)
	require.Eventually(t, func() bool { p, _ := pendingData(sc); return p }, 5*time.Second, time.Millisecond)
	var b [3]byte
	_, err = io.ReadFull(sc, b[:])
	require.NoError(t, err)
	assert.Equal(t, "GET", string(b[:]), "the peek consumed nothing")
	pending, _ = pendingData(sc)
	assert.False(t, pending, "all read")
	pending, known = pendingData(tls.Client(sc, &tls.Config{}))
	assert.True(t, known, "a TLS connection is looked through")
	assert.False(t, pending)
}

// TestLightWaiterTakesTheSlot: while a connection from an address below
// its fair share waits on probation, a newcomer from a flooding address
// takes no slot from a victim, so that a flood re-opening its
// connections as fast as they are closed does not win every slot it
// frees; the light waiter takes it, then the flood may again.
func TestLightWaiterTakesTheSlot(t *testing.T) {
	t.Parallel()
	s := newSlots(2, 100, 250*time.Millisecond)
	now := time.Now()
	flood, other := netip.MustParsePrefix("127.0.1.1/32"), netip.MustParsePrefix("127.0.0.1/32")
	conn := func(addr netip.Prefix) *trackedConn {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return &trackedConn{Conn: a, addr: addr, accepted: now.Add(-time.Minute), slots: s, state: http.StateNew}
	}
	for range 2 { // the flood holds every slot with bodies that never began
		c := conn(flood)
		require.Equal(t, admitted, s.tryAdmit(c, now.Add(-time.Minute)))
		c.state = http.StateActive
		c.bodyEmpty.Store(true)
		c.bodyWait.Store(now.Add(-time.Minute).UnixNano())
	}
	light := conn(other)
	require.True(t, s.waitLight(light), "an address holding nothing is light")
	assert.False(t, s.waitLight(conn(flood)), "the flooding address is not")
	assert.Equal(t, full, s.tryAdmit(conn(flood), now), "no victim for the flood while a light connection waits")
	assert.Equal(t, admitted, s.tryAdmit(light, now), "the light waiter takes a victim's slot")
	s.doneWaiting(light)
	s.mu.Lock()
	light.state = http.StateActive // its request is being handled
	s.mu.Unlock()
	assert.Equal(t, admitted, s.tryAdmit(conn(flood), now), "with nobody light waiting, the flood may take a stalled slot again")
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Zero(t, s.lightWaiting)
	assert.Len(t, s.byAddr[other], 1)
}
