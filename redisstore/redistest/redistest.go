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
}

// Start runs a redis-server on a free port of 127.0.0.1, without
// persistence (--save "" --appendonly no), and returns once it answers
// PING.
func Start() (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	var lastErr error
	for range 5 { // the port may be taken between choosing and binding it
		s, err := start(bin)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(bin string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--loglevel", "warning", "--dir", os.TempDir())
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redistest: start redis-server: %w", err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), PID: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	s.URL = "redis://" + s.Addr + "/0"
	go func() { _ = cmd.Wait(); close(s.done) }()

	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer rdb.Close()
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
