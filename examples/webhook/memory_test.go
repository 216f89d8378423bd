//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileConns is how many connections each scenario opens at once.
const hostileConns = 2000

// TestHostileConnectionsMemory measures the receiver issue's memory
// target on the built program with its default limits (but room for
// 2,000 connections from one address; beyond its 1,024 connections they
// wait in the kernel's accept queue): 2,000 concurrent
// hostile connections (headers announcing 1 MiB and nothing more; or
// 1 MiB bodies whose record keys are all unique) add at most 64 MiB to
// its resident memory (before: 2,070 MiB and 1,986 MiB). It builds the
// program, reads VmRSS from /proc every 20 ms and logs the figures
// (docs/PERFORMANCE.md records them).
func TestHostileConnectionsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 2,000 connections and pushes 2 GB")
	}
	if raceEnabled {
		t.Skip("the race detector multiplies memory")
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < 2*hostileConns+256 {
		t.Skipf("needs %d open files (limit %d)", 2*hostileConns+256, lim.Cur)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the program")
	}
	bin := filepath.Join(t.TempDir(), "webhook")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	// Default limits, except the cap per address: all 2,000 connections
	// come from 127.0.0.1 at once and each push must be handled, where
	// the default (128 per address) would refuse the others
	// (attack_test.go measures availability with the defaults).
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-path", "/n", "-max-conns-per-addr", "4096", "-body-stall", "5s")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	cmd.Stdout = nil // discard the printed records
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(stderr)
	require.True(t, sc.Scan(), "the program printed nothing")
	url := strings.TrimPrefix(sc.Text(), "listening on http://")
	addr := strings.TrimSuffix(url, "/n")
	go func() { // drain the log
		for sc.Scan() {
			if os.Getenv("DEBUGGC") != "" && strings.HasPrefix(sc.Text(), "gc ") {
				fmt.Println(sc.Text())
			}
		}
	}()

	// Warm up with one ordinary batch, then take the baseline.
	push(t, addr, fixture(t, "fee_batch50.json"))
	base := rss(t, cmd.Process.Pid)
	t.Logf("baseline RSS %.1f MiB", mib(base))

	t.Run("headers only", func(t *testing.T) {
		peak := watch(t, cmd.Process.Pid, func() {
			var wg sync.WaitGroup
			var mu sync.Mutex
			var conns []net.Conn
			for range hostileConns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := net.DialTimeout("tcp", addr, 10*time.Second)
					if err != nil {
						return
					}
					fmt.Fprintf(c, "POST /n HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 1<<20)
					mu.Lock()
					conns = append(conns, c)
					mu.Unlock()
				}()
			}
			wg.Wait()
			time.Sleep(2 * time.Second) // hold them: the program has taken its 256
			mu.Lock()
			defer mu.Unlock()
			assert.Greater(t, len(conns), hostileConns/2, "connections opened")
			for _, c := range conns {
				c.Close()
			}
		})
		t.Logf("%d headers-only connections: peak RSS %.1f MiB, +%.1f MiB", hostileConns, mib(peak), mib(peak-base))
		assert.LessOrEqual(t, peak-base, int64(64<<20))
	})

	t.Run("1 MiB bodies with unique keys", func(t *testing.T) {
		var ok atomic.Int64
		peak := watch(t, cmd.Process.Pid, func() {
			var wg sync.WaitGroup
			for i := range hostileConns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if pushUnique(addr, i) {
						ok.Add(1)
					}
				}()
			}
			wg.Wait()
		})
		after := rss(t, cmd.Process.Pid)
		t.Logf("%d pushes of 1 MiB with unique keys (%d answered 200): peak RSS %.1f MiB, +%.1f MiB; after %.1f MiB",
			hostileConns, ok.Load(), mib(peak), mib(peak-base), mib(after))
		assert.Equal(t, int64(hostileConns), ok.Load(), "every push is handled")
		assert.LessOrEqual(t, peak-base, int64(64<<20))
	})
}

// push posts body to the program's path and checks the answer.
func push(t *testing.T, addr string, body []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	fmt.Fprintf(c, "POST /n HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	_, err = c.Write(body)
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, " 200 ")
}

// filler is the shared run of bytes the unique bodies are made of.
var filler = bytes.Repeat([]byte("x"), 64<<10)

// pushUnique streams a CDR batch of just under 1 MiB whose one record
// has a unique sessionId of about 1 MiB (the kind of key the stores once
// held whole), and reports whether it was answered 200.
func pushUnique(addr string, i int) bool {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	prefix := fmt.Sprintf(`{"eventType":"fee","feeLst":[{"icid":"CAE-%08d","calleeNum":"+8613500000001","sessionId":"%08d`, i, i)
	const suffix = `"}]}`
	n := (1<<20 - 1024) / len(filler) * len(filler)
	w := bufio.NewWriter(c)
	fmt.Fprintf(w, "POST /n HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(prefix)+n+len(suffix))
	w.WriteString(prefix)
	for written := 0; written < n; written += len(filler) {
		w.Write(filler)
	}
	w.WriteString(suffix)
	if w.Flush() != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.Contains(line, " 200 ")
}

// watch runs f and returns the highest RSS of pid seen every 20 ms while
// it ran.
func watch(t *testing.T, pid int, f func()) int64 {
	t.Helper()
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if r := rss(t, pid); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}

// rss returns the resident set size of pid, from /proc.
func rss(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Errorf("reading /proc: %v", err)
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	t.Error("no VmRSS in /proc status")
	return 0
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
