package redisstore_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/voicecall-go/voicecall/redisstore"
)

// The tests share one redis-server, started by TestMain on a free
// loopback port with persistence off and stopped by its PID; each test
// writes under its own key prefix.
var (
	redisAddr string
	noRedis   string // why the Redis tests cannot run
)

func TestMain(m *testing.M) {
	stop, err := startRedis()
	if err != nil {
		noRedis = err.Error()
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func startRedis() (stop func(), err error) {
	stop = func() {}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return stop, fmt.Errorf("redis-server not found in PATH: install it (Debian: apt-get install redis-server) to run the Redis tests, or run .ci/run, which does")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return stop, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning", "--dir", os.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		return stop, err
	}
	if err := cmd.Start(); err != nil {
		return stop, fmt.Errorf("start redis-server: %w", err)
	}
	go func() { // drain its log so that it never blocks
		s := bufio.NewScanner(out)
		for s.Scan() {
		}
	}()
	stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			redisAddr = addr
			return stop, nil
		}
		if time.Now().After(deadline) || i > 1000 {
			stop()
			return func() {}, fmt.Errorf("redis-server did not answer on %s: %w", addr, err)
		}
		time.Sleep(10 * time.Millisecond) // the server is starting: poll, bounded
	}
}

// needRedis skips (outside CI) or fails (in CI) a test when there is no
// redis-server.
func needRedis(t testing.TB) {
	t.Helper()
	if noRedis == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but the Redis tests cannot run: %s", noRedis)
	}
	t.Skipf("skipping: %s", noRedis)
}

// roundTrips counts the commands go-redis sends, a pipeline counting
// once.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

// newStore returns a Store on the test server under a fresh prefix, and
// its round-trip counter.
func newStore(t testing.TB) (*redisstore.Store, *roundTrips) {
	t.Helper()
	needRedis(t)
	var b [8]byte
	_, _ = rand.Read(b[:])
	st, err := redisstore.Open("redis://"+redisAddr+"/0", redisstore.WithPrefix("test:"+hex.EncodeToString(b[:])+":"))
	if err != nil {
		t.Fatal(err)
	}
	rt := &roundTrips{}
	st.Client().AddHook(rt)
	t.Cleanup(func() { _ = st.Close() })
	return st, rt
}
