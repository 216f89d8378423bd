// Package redistest starts a throwaway redis-server for tests, the way
// net/http/httptest starts an HTTP server: on a free loopback port, with
// persistence off, stopped by its process id.
//
//	var srv *redistest.Server
//	var srvErr error
//
//	func TestMain(m *testing.M) {
//		srv, srvErr = redistest.Start()
//		code := m.Run()
//		srv.Close()
//		os.Exit(code)
//	}
//
//	func TestSomething(t *testing.T) {
//		redistest.Need(t, srvErr) // skips without redis-server, fails in CI
//		st, err := redisstore.Open(srv.URL)
//		...
//	}
//
// It needs the redis-server binary (Debian's package redis-server) in
// PATH.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotInstalled is returned by [Start] when redis-server is not in
// PATH.
var ErrNotInstalled = errors.New("redistest: redis-server not found in PATH: install it (Debian: apt-get install redis-server) to run the Redis tests")

// Server is a running redis-server.
type Server struct {
	// Addr is its host:port on loopback; URL is "redis://" + Addr + "/0".
	Addr, URL string
	// PID is the process id of the redis-server.
	PID int

	cmd  *exec.Cmd
	done chan struct{}
	bin  string
	port int
	args []string
}

// Start runs a redis-server on a free port of 127.0.0.1, without
// persistence (--save "" --appendonly no), and returns once it answers
// PING.
func Start() (*Server, error) {
	return startFree(func(int) []string { return []string{"--save", "", "--appendonly", "no", "--dir", os.TempDir()} })
}

// StartAOF runs a redis-server on a free port of 127.0.0.1 with the
// append-only file on and synced at every write (--appendonly yes
// --appendfsync always), in dir (a t.TempDir(), say), so that
// [Server.Restart] loses nothing the server acknowledged.
func StartAOF(dir string) (*Server, error) {
	return startFree(func(int) []string {
		return []string{"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dir}
	})
}

// startFree starts a server with args(port) on a free port, trying
// again when the port was taken between choosing and binding it.
func startFree(args func(port int) []string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	var lastErr error
	for range 5 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("redistest: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		s, err := start(bin, port, args(port))
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// start runs redis-server on port with args and waits for PING.
func start(bin string, port int, args []string) (*Server, error) {
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--daemonize", "no", "--loglevel", "warning"}, args...)
	cmd := exec.Command(bin, all...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redistest: start redis-server: %w", err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), PID: cmd.Process.Pid, cmd: cmd, done: make(chan struct{}), bin: bin, port: port, args: args}
	s.URL = "redis://" + s.Addr + "/0"
	go func() { _ = cmd.Wait(); close(s.done) }()

	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer rdb.Close()
	var err error
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for range 1000 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("redistest: redis-server exited on start (port %d taken?)", port)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			break
		}
	}
	s.Close()
	return nil, fmt.Errorf("redistest: redis-server did not answer on %s: %w", s.Addr, err)
}

// Restart kills the server (SIGKILL, a crash: nothing is flushed that
// was not already) and starts it again on the same port with the same
// options, loading what it persisted (nothing without persistence, all
// it acknowledged with [StartAOF]). It updates PID.
func (s *Server) Restart() error {
	s.Kill()
	var err error
	for range 50 { // the port may take a moment to be free again
		var n *Server
		if n, err = start(s.bin, s.port, s.args); err == nil {
			s.PID, s.cmd, s.done = n.PID, n.cmd, n.done
			return nil
		}
		time.Sleep(20 * time.Millisecond) // a bounded retry of bind, not a wait for an event
	}
	return err
}

// Kill stops the server with SIGKILL and waits for it to exit.
func (s *Server) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Close stops the server (SIGTERM, then SIGKILL after 10 s) and waits
// for it to exit. It is safe on a nil Server.
func (s *Server) Close() {
	if s == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Need ends tb when startErr (from [Start]) is not nil: with a skip that
// says how to run the tests, or, when the environment variable CI is
// "true", with a failure, so that CI never silently skips them.
func Need(tb testing.TB, startErr error) {
	tb.Helper()
	if startErr == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("CI=true but the Redis tests cannot run: %v", startErr)
	}
	tb.Skipf("skipping: %v", startErr)
}
