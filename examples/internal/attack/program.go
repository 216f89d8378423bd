package attack

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// Program is a server program running as a child process.
type Program struct {
	URL    string // from its "listening on URL" line on stderr
	Pid    int
	cmd    *exec.Cmd
	stderr *lineLog
}

// Build builds the main package pkg (e.g. "." or "./examples/webhook")
// of the module in dir into bin.
func Build(dir, pkg, bin string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("attack: no go tool to build %s: %w", pkg, err)
	}
	cmd := exec.Command(goTool, "build", "-o", bin, pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("attack: go build %s: %w\n%s", pkg, err, out)
	}
	return nil
}

// Start runs bin with args and env (added to this process's
// environment), and waits (at most 30 s) for its first "listening on"
// line on stderr. Its stdout is discarded.
func Start(bin string, args, env []string) (*Program, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Program{Pid: cmd.Process.Pid, cmd: cmd, stderr: &lineLog{}}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			p.stderr.add(line)
			if u, ok := strings.CutPrefix(line, "listening on "); ok && !sent {
				sent = true
				first <- u
			}
		}
		if !sent {
			close(first)
		}
		_, _ = io.Copy(io.Discard, errPipe)
	}()
	select {
	case u, ok := <-first:
		if !ok {
			_ = cmd.Wait()
			return nil, fmt.Errorf("attack: %s exited: %s", bin, p.stderr.String())
		}
		p.URL = u
		return p, nil
	case <-time.After(30 * time.Second):
		p.Stop()
		return nil, errors.New("attack: no listening line within 30 s: " + p.stderr.String())
	}
}

// Addr returns the host:port of the program's URL.
func (p *Program) Addr() string {
	a := strings.TrimPrefix(p.URL, "http://")
	if i := strings.IndexByte(a, '/'); i >= 0 {
		a = a[:i]
	}
	return a
}

// Stderr returns what the program printed on stderr so far.
func (p *Program) Stderr() string { return p.stderr.String() }

// Stop interrupts the program and waits for it (killing it after 15 s),
// and returns how it exited (nil for status 0).
func (p *Program) Stop() error {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		return errors.New("attack: killed after 15 s without exiting")
	}
}

// lineLog keeps the last lines of a program's stderr.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
	if len(l.lines) > 200 {
		l.lines = slices.Clone(l.lines[len(l.lines)-100:])
	}
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
