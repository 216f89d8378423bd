package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind is what a [Proxy] does to one command.
type FaultKind int

// Fault kinds.
const (
	// DropReply: Redis runs the command; its reply is discarded and the
	// client's connection closed (the client sees EOF, not the reply).
	DropReply FaultKind = iota + 1
	// DelayReply: Redis runs the command; its reply is held for the
	// fault's Delay, then sent (a Delay longer than the client's read
	// timeout makes the client give up first).
	DelayReply
	// ResetBefore: the client's connection is reset (TCP RST) before the
	// command reaches Redis, which never runs it.
	ResetBefore
	// ResetAfter: Redis runs the command; the client's connection is
	// reset instead of the reply.
	ResetAfter
)

// String returns the kind's name, such as "DropReply".
func (k FaultKind) String() string {
	switch k {
	case DropReply:
		return "DropReply"
	case DelayReply:
		return "DelayReply"
	case ResetBefore:
		return "ResetBefore"
	case ResetAfter:
		return "ResetAfter"
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is what a [Proxy] does to one command chosen by [Proxy.Inject].
type Fault struct {
	Kind FaultKind
	// Delay is how long [DelayReply] holds the reply.
	Delay time.Duration
}

// Proxy is a TCP proxy in front of a redis-server that can drop, delay
// or cut the replies of chosen commands, the faults a client library
// meets on a real network (a lost reply, a late one, a reset), and that
// logs every command it forwards, to count round trips. It parses RESP2
// and RESP3, and handles each client connection's commands one at a
// time, in order (a pipeline is served command by command).
//
//	p, err := redistest.NewProxy(srv.Addr)
//	defer p.Close()
//	p.Inject(redistest.Command("EVALSHA"), redistest.Fault{Kind: redistest.DropReply})
//	st, err := redisstore.Open(p.URL)
type Proxy struct {
	// Addr is the proxy's host:port on 127.0.0.1; URL is "redis://" +
	// Addr + "/0".
	Addr, URL string

	target string
	ln     net.Listener
	quit   chan struct{}
	wg     sync.WaitGroup

	mu     sync.Mutex
	faults []injected
	log    [][]string
	conns  map[net.Conn]struct{}
	closed bool
}

type injected struct {
	match func(args []string) bool
	f     Fault
}

// NewProxy listens on a free port of 127.0.0.1 and forwards every
// connection to target, a redis-server's host:port. Close it when done.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("redistest: proxy: %w", err)
	}
	p := &Proxy{
		Addr:   ln.Addr().String(),
		target: target,
		ln:     ln,
		quit:   make(chan struct{}),
		conns:  make(map[net.Conn]struct{}),
	}
	p.URL = "redis://" + p.Addr + "/0"
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Command returns a match for [Proxy.Inject] that picks a command by
// its name, in any letter case ("EVALSHA", "GET").
func Command(name string) func(args []string) bool {
	return func(args []string) bool { return len(args) > 0 && strings.EqualFold(args[0], name) }
}

// Inject makes the next command for which match(args) is true meet f:
// args[0] is the command's name in upper case, the rest its arguments
// as sent. Each injected fault applies once; several may be queued, and
// a command meets the first one queued that matches it.
func (p *Proxy) Inject(match func(args []string) bool, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, injected{match: match, f: f})
}

// Pending returns how many injected faults no command has met yet.
func (p *Proxy) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.faults)
}

// Commands returns every command the proxy forwarded to Redis (or
// reset before it could), in order, since it started or since
// [Proxy.ResetLog].
func (p *Proxy) Commands() [][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]string(nil), p.log...)
}

// ResetLog empties the log of [Proxy.Commands].
func (p *Proxy) ResetLog() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = nil
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines. It is safe to call more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.quit)
	err := p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			c.Close()
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// track adds c to the connections Close closes; false once closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	c.Close()
}

// next logs args and takes the first injected fault that matches it.
func (p *Proxy) next(args []string) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = append(p.log, args)
	for i, in := range p.faults {
		if in.match(args) {
			p.faults = append(p.faults[:i], p.faults[i+1:]...)
			return in.f, true
		}
	}
	return Fault{}, false
}

// serve forwards one client connection's commands one at a time.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	defer p.untrack(client)
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(server) {
		server.Close()
		return
	}
	defer p.untrack(server)
	cr, sr := bufio.NewReader(client), bufio.NewReader(server)
	for {
		raw, args, err := readCommand(cr)
		if err != nil {
			return
		}
		f, faulty := p.next(args)
		if faulty && f.Kind == ResetBefore {
			reset(client)
			return
		}
		if _, err := server.Write(raw); err != nil {
			return
		}
		reply, err := readReply(sr, nil)
		if err != nil {
			return
		}
		if faulty {
			switch f.Kind {
			case DropReply:
				return
			case ResetAfter:
				reset(client)
				return
			case DelayReply:
				t := time.NewTimer(f.Delay)
				select {
				case <-t.C:
				case <-p.quit:
					t.Stop()
					return
				}
			}
		}
		if _, err := client.Write(reply); err != nil {
			return
		}
	}
}

// reset closes c with a TCP RST instead of a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// maxBulk bounds one bulk string the proxy reads (Redis's own default
// proto-max-bulk-len is 512 MB; tests send far less).
const maxBulk = 64 << 20

// readCommand reads one command: a RESP array of bulk strings, or an
// inline command (a line of words). It returns the raw bytes to forward
// and the arguments, the name upper-cased.
func readCommand(r *bufio.Reader) (raw []byte, args []string, err error) {
	line, err := readLine(r)
	if err != nil {
		return nil, nil, err
	}
	raw = append(raw, line...)
	if line[0] != '*' {
		args = strings.Fields(string(line))
	} else {
		n, err := strconv.Atoi(string(line[1 : len(line)-2]))
		if err != nil || n < 0 || n > 1<<20 {
			return nil, nil, errors.New("bad command array")
		}
		for range n {
			l, err := readLine(r)
			if err != nil {
				return nil, nil, err
			}
			if l[0] != '$' {
				return nil, nil, errors.New("command argument is not a bulk string")
			}
			raw = append(raw, l...)
			b, err := readBulk(r, l)
			if err != nil {
				return nil, nil, err
			}
			raw = append(raw, b...)
			args = append(args, string(b[:len(b)-2]))
		}
	}
	if len(args) == 0 {
		return nil, nil, errors.New("empty command")
	}
	args[0] = strings.ToUpper(args[0])
	return raw, args, nil
}

// readReply appends one whole RESP2 or RESP3 reply to buf.
func readReply(r *bufio.Reader, buf []byte) ([]byte, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	buf = append(buf, line...)
	body := string(line[1 : len(line)-2])
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return buf, nil
	case '$', '=', '!':
		if body == "-1" {
			return buf, nil
		}
		b, err := readBulk(r, line)
		if err != nil {
			return nil, err
		}
		return append(buf, b...), nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(body)
		if err != nil || n > 1<<24 {
			return nil, fmt.Errorf("bad aggregate length %q", body)
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for range n { // n == -1 (a null array) reads nothing
			if buf, err = readReply(r, buf); err != nil {
				return nil, err
			}
		}
		if line[0] == '|' { // attributes precede the reply they describe
			return readReply(r, buf)
		}
		return buf, nil
	}
	return nil, fmt.Errorf("unknown RESP type %q", line[0])
}

// readLine reads one line with its CRLF.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, errors.New("bad RESP line")
	}
	return append([]byte(nil), line...), nil
}

// readBulk reads the data of a bulk header line ("$5\r\n") and its CRLF.
func readBulk(r *bufio.Reader, header []byte) ([]byte, error) {
	n, err := strconv.Atoi(string(header[1 : len(header)-2]))
	if err != nil || n < 0 || n > maxBulk {
		return nil, fmt.Errorf("bad bulk length %q", header)
	}
	b := make([]byte, n+2)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}
