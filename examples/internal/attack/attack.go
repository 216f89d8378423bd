// Package attack runs hostile clients against a server in another
// process on loopback and measures, while they run, the latency of
// legitimate requests and the server's resident memory
// (docs/OPERATIONS.md). The examples. tests run it small; the command
// examples/internal/cmd/attack runs it at full size.
//
// Attack connections come from 127.0.1.1, 127.0.1.2, ... (every 127/8
// address is loopback on Linux), one per Sources, so that a server's
// per-address caps are exercised honestly; legitimate requests come from
// 127.0.0.1 alone. With Reopen, each attack connection is re-opened as
// soon as the server closes it.
package attack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is a kind of hostile connection.
type Kind string

// The attacks of the receivers' availability issue.
const (
	// DeclaredBody: a POST that declares a 1 MiB body and sends none.
	DeclaredBody Kind = "declared-body"
	// IdleKeepAlive: one GET answered, then the connection left idle.
	IdleKeepAlive Kind = "idle-keepalive"
	// Slowloris: a request header sent one byte a second, never ended.
	Slowloris Kind = "slowloris"
	// IdleConns: a connection that never sends anything.
	IdleConns Kind = "idle-conns"
	// BigBodySilence: a POST declaring 1 MiB that sends 1 MiB - 1 byte,
	// then nothing.
	BigBodySilence Kind = "big-body-silence"
)

// Kinds lists every Kind.
var Kinds = []Kind{DeclaredBody, IdleKeepAlive, Slowloris, IdleConns, BigBodySilence}

// ValidKind reports whether k is one of [Kinds].
func ValidKind(k Kind) bool { return slices.Contains(Kinds, k) }

// BodySize is the body the body attacks declare.
const BodySize = 1 << 20

// Probe sends one legitimate request with c and returns an error unless
// it was answered as it should be.
type Probe struct {
	Name  string
	Do    func(ctx context.Context, c *http.Client) error
	Every int // sent every Every-th round (0 or 1: every round)
}

// Config is one measured attack.
type Config struct {
	Addr     string        // the server's host:port
	Pid      int           // the server's process, for its RSS (0: not measured)
	Path     string        // the path attacked (default "/")
	Kind     Kind          // the attack
	Reopen   bool          // open a new connection whenever the server closes one
	Conns    int           // hostile connections held at once
	Sources  int           // source addresses of the attack (default 1 per 64 connections)
	Duration time.Duration // how long the attack runs once its connections are open
	Ramp     time.Duration // longest wait for the connections to open (default 10 s)
	Probes   []Probe       // the legitimate requests, each sent in turn every Interval
	Interval time.Duration // between two rounds of probes (default 50 ms)
	Timeout  time.Duration // a probe not answered within it is a timeout (default 5 s)
	// Attacker, when set, is the hostile program (built from
	// examples/internal/cmd/hostile) that holds the hostile connections
	// in a process of its own, as a real attacker would: in the probes'
	// process, thousands of hostile goroutines take the CPU the probes
	// need and measure the attacker's machine as much as the server.
	// Empty: the hostile connections are held in this process.
	Attacker string
}

// Result is what a run measured.
type Result struct {
	Kind             Kind
	Path             string
	Reopen           bool
	Conns            int
	Sources          int
	Opened           int64         // hostile connections opened (re-opens included)
	Requests         int           // legitimate requests sent
	Failures         int           // answered wrongly or not at all (timeouts included)
	Timeouts         int           // not answered within Timeout
	FirstError       string        // the first failure, if any
	P50, P99, Max    time.Duration // latency of the legitimate requests
	BaseRSS, PeakRSS int64         // bytes; 0 when not measured
	RSSGrowth        int64         // PeakRSS - BaseRSS
	ProbeLatencies   []time.Duration
	OpenAtStart      int64 // hostile connections open when the measurement began
}

// String formats r as one line.
func (r Result) String() string {
	reopen := ""
	if r.Reopen {
		reopen = ", re-opened"
	}
	return fmt.Sprintf("%s x%d%s from %d addresses: %d legitimate requests, %d failed (%d timeouts), p50 %s p99 %s max %s; RSS %.1f -> %.1f MiB (+%.1f); %d hostile connections opened",
		r.Kind, r.Conns, reopen, r.Sources, r.Requests, r.Failures, r.Timeouts, r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond), r.Max.Round(time.Millisecond),
		mib(r.BaseRSS), mib(r.PeakRSS), mib(r.RSSGrowth), r.Opened)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// Run runs cfg's attack, sends the probes meanwhile, and returns what it
// measured. It returns an error only when it could not attack at all.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	if cfg.Sources <= 0 {
		cfg.Sources = max(1, (cfg.Conns+63)/64)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 50 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Ramp <= 0 {
		cfg.Ramp = 10 * time.Second
	}
	res := Result{Kind: cfg.Kind, Path: cfg.Path, Reopen: cfg.Reopen, Conns: cfg.Conns, Sources: cfg.Sources}
	if cfg.Pid > 0 {
		b, err := RSS(cfg.Pid)
		if err != nil {
			return res, err
		}
		res.BaseRSS = b
	}

	actx, stop := context.WithCancel(ctx)
	defer stop()
	var opened, open atomic.Int64
	var wg sync.WaitGroup
	if cfg.Attacker != "" {
		child, err := startAttacker(actx, cfg, &opened, &open)
		if err != nil {
			return res, err
		}
		defer child.stop()
	} else {
		for i := range cfg.Conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hostile(actx, cfg, SourceAddr(i%cfg.Sources), &opened, &open)
			}()
		}
	}
	var peak atomic.Int64
	peak.Store(res.BaseRSS)
	rssDone := make(chan struct{})
	go func() {
		defer close(rssDone)
		if cfg.Pid <= 0 {
			return
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if b, err := RSS(cfg.Pid); err == nil && b > peak.Load() {
				peak.Store(b)
			}
			select {
			case <-actx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	// The probes run from the start of the attack (its first burst is
	// the hardest) until Duration after every hostile connection was
	// opened (or Ramp ran out).
	client := &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			DisableKeepAlives: true, // each push on a new connection: the harder case
			DialContext:       (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}).DialContext,
		},
	}
	pctx, stopProbes := context.WithCancel(ctx)
	defer stopProbes()
	probesDone := make(chan struct{})
	go func() {
		defer close(probesDone)
		tick := time.NewTicker(cfg.Interval)
		defer tick.Stop()
		for round := 0; pctx.Err() == nil; round++ {
			for _, p := range cfg.Probes {
				if p.Every > 1 && round%p.Every != 0 {
					continue
				}
				start := time.Now()
				err := p.Do(ctx, client)
				d := time.Since(start)
				res.Requests++
				res.ProbeLatencies = append(res.ProbeLatencies, d)
				if err != nil {
					res.Failures++
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
						res.Timeouts++
					}
					if res.FirstError == "" {
						res.FirstError = p.Name + ": " + err.Error()
					}
				}
			}
			select {
			case <-tick.C:
			case <-pctx.Done():
			}
		}
	}()
	ramp := time.NewTimer(cfg.Ramp)
	poll := time.NewTicker(10 * time.Millisecond)
wait:
	for opened.Load() < int64(cfg.Conns) {
		select {
		case <-ramp.C:
			break wait
		case <-ctx.Done():
			break wait
		case <-poll.C:
		}
	}
	ramp.Stop()
	poll.Stop()
	res.OpenAtStart = open.Load()
	select {
	case <-time.After(cfg.Duration):
	case <-ctx.Done():
	}
	stopProbes()
	<-probesDone
	stop()
	wg.Wait()
	<-rssDone
	res.Opened = opened.Load()
	res.PeakRSS = peak.Load()
	if res.PeakRSS > res.BaseRSS && res.BaseRSS > 0 {
		res.RSSGrowth = res.PeakRSS - res.BaseRSS
	}
	lat := slices.Clone(res.ProbeLatencies)
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		res.P50 = lat[n/2]
		res.P99 = lat[min(n-1, n*99/100)]
		res.Max = lat[n-1]
	}
	return res, nil
}

// Hostile holds cfg's hostile connections (Kind, Conns from Sources
// addresses, Addr, Path, Reopen) until ctx ends, and writes a line
// "opened N open M" to w every 10 ms: the body of the hostile program
// that [Config].Attacker names.
func Hostile(ctx context.Context, cfg Config, w io.Writer) {
	if cfg.Sources <= 0 {
		cfg.Sources = max(1, (cfg.Conns+63)/64)
	}
	var opened, open atomic.Int64
	var wg sync.WaitGroup
	for i := range cfg.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hostile(ctx, cfg, SourceAddr(i%cfg.Sources), &opened, &open)
		}()
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		fmt.Fprintf(w, "opened %d open %d\n", opened.Load(), open.Load())
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	wg.Wait()
}

// HostileArgs are the arguments of the hostile program for cfg.
func HostileArgs(cfg Config) []string {
	return []string{"-addr", cfg.Addr, "-path", cfg.Path, "-kind", string(cfg.Kind), "-conns", strconv.Itoa(cfg.Conns),
		"-sources", strconv.Itoa(cfg.Sources), "-reopen=" + strconv.FormatBool(cfg.Reopen)}
}

// attackerProcess is a running hostile program.
type attackerProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startAttacker runs cfg.Attacker and keeps opened and open up to date
// from its lines.
func startAttacker(ctx context.Context, cfg Config, opened, open *atomic.Int64) (*attackerProcess, error) {
	cmd := exec.Command(cfg.Attacker, HostileArgs(cfg)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("attack: start %s: %w", cfg.Attacker, err)
	}
	a := &attackerProcess{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var o, n int64
			if _, err := fmt.Sscanf(sc.Text(), "opened %d open %d", &o, &n); err == nil {
				opened.Store(o)
				open.Store(n)
			}
		}
	}()
	go func() {
		<-ctx.Done()
		_ = cmd.Process.Signal(os.Interrupt)
	}()
	return a, nil
}

// stop ends the hostile program and waits for it (killing it after 10 s).
func (a *attackerProcess) stop() {
	_ = a.cmd.Process.Signal(os.Interrupt)
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.done
	}
	_ = a.cmd.Wait()
}

// SourceAddr returns the i-th attack source address: 127.0.1.1,
// 127.0.1.2, ... 127.0.1.250, 127.0.2.1, ...
func SourceAddr(i int) net.IP {
	return net.IPv4(127, 0, byte(1+i/250), byte(1+i%250))
}

// filler is the body the body attacks send.
var filler = bytes.Repeat([]byte("x"), 64<<10)

// hostile keeps one hostile connection of cfg.Kind open from src until
// the server closes it (with cfg.Reopen, opening another then) or ctx
// ends.
func hostile(ctx context.Context, cfg Config, src net.IP, opened, open *atomic.Int64) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second}
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", cfg.Addr)
		if err != nil {
			select { // out of ports or refused: try again shortly
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		opened.Add(1)
		open.Add(1)
		hold(ctx, cfg, c)
		open.Add(-1)
		c.Close()
		if !cfg.Reopen {
			<-ctx.Done()
			return
		}
	}
}

// hold plays the attack on c until the server closes it or ctx ends.
func hold(ctx context.Context, cfg Config, c net.Conn) {
	var pending []byte // bytes still to send
	every := time.Second
	switch cfg.Kind {
	case DeclaredBody:
		pending = []byte("POST " + cfg.Path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(BodySize) + "\r\n\r\n")
	case IdleKeepAlive:
		if _, err := io.WriteString(c, "GET "+cfg.Path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
			return
		}
	case Slowloris:
		pending = []byte("POST " + cfg.Path + " HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 4096))
	case BigBodySilence:
		head := "POST " + cfg.Path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(BodySize) + "\r\n\r\n"
		if !writeAll(ctx, c, []byte(head)) {
			return
		}
		for sent := 0; sent < BodySize-1; {
			n := min(len(filler), BodySize-1-sent)
			if !writeAll(ctx, c, filler[:n]) {
				return
			}
			sent += n
		}
	}
	if cfg.Kind == DeclaredBody {
		if !writeAll(ctx, c, pending) {
			return
		}
		pending = nil
	}
	var buf [512]byte
	for ctx.Err() == nil {
		if cfg.Kind == Slowloris && len(pending) > 0 {
			_ = c.SetWriteDeadline(time.Now().Add(every))
			if _, err := c.Write(pending[:1]); err != nil {
				return
			}
			pending = pending[1:]
		}
		_ = c.SetReadDeadline(time.Now().Add(every))
		if _, err := c.Read(buf[:]); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // closed by the server
		}
	}
}

// writeAll writes b, giving up when ctx ends or the server closes.
func writeAll(ctx context.Context, c net.Conn, b []byte) bool {
	for len(b) > 0 {
		if ctx.Err() != nil {
			return false
		}
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		n, err := c.Write(b)
		b = b[n:]
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return false
		}
	}
	return true
}

// RSS returns the resident set size of process pid, from /proc.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("attack: no VmRSS in /proc status")
}
