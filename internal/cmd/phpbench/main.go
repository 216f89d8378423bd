// Command phpbench measures the seed's PHP client and the SDK side by
// side, in one run, against the TLS sandbox (examples/sandbox -tls), on
// loopback only:
//
//	go build -o /tmp/sandbox ./examples/sandbox
//	go run ./internal/cmd/phpbench -sandbox /tmp/sandbox
//
// (scripts/phpbench.sh does both.) It starts the sandbox as a child
// process, so that the server's CPU is not counted as the client's, then
// runs rounds of sequential CallVerify calls, interleaved so that drift
// hits every client alike:
//
//   - php: Huawei's PHP sample, unchanged, its function called -calls
//     times in one PHP process (loop.php); a new TLS connection and a full
//     handshake per call, as the sample does. Its CPU is the PHP process's
//     user+system time, less that of a PHP process making a single call
//     (the interpreter's start-up), divided by the calls after the first.
//   - php-nodelay: the same with one change to the sample's util.php
//     (TCP_NODELAY in its stream context), to show that most of PHP's
//     wall time per call is a Nagle/delayed-ACK stall (PHP writes a TLS
//     request as two records), not TLS.
//   - sdk: one voicecall.Client with its defaults (a new connection per
//     call, TLS sessions resumed) trusting the sandbox's CA through
//     voicecall.WithTLSConfig. Its CPU is this process's user+system time
//     over the calls.
//   - sdk-no-resume: the same client on a transport without a TLS session
//     cache (a full handshake per call, as PHP does), to show what
//     resumption is worth.
//
// It prints calls/s and CPU per call for each, the medians over the
// rounds, and the PHP/SDK ratios. Without php on PATH it measures the SDK
// only and says so. Exit status 1 if a call failed.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/voicecall-go/voicecall"
)

//go:embed loop.php
var loopPHP []byte

// The sandbox's default app (voicetest.DefaultAppKey and
// DefaultAppSecret; the PHP sample's data.php has the same).
const (
	appKey    = "voicetestAppKey0000000000001"
	appSecret = "voicetestAppSecret0000000001"
)

// config is what the flags set.
type config struct {
	sandbox string // path of the built examples/sandbox
	phpDir  string // examples/sandbox/php
	php     string // the php binary, "" for none
	calls   int    // calls per client per round
	rounds  int
}

func main() {
	var cfg config
	fs := flag.NewFlagSet("phpbench", flag.ContinueOnError)
	fs.StringVar(&cfg.sandbox, "sandbox", "", "path of the built examples/sandbox (go build -o PATH ./examples/sandbox); required")
	fs.StringVar(&cfg.phpDir, "php-dir", "examples/sandbox/php", "directory of the seed's PHP sample")
	fs.StringVar(&cfg.php, "php", "php", `PHP binary; "" to measure the SDK only`)
	fs.IntVar(&cfg.calls, "calls", 100, "sequential calls per client per round")
	fs.IntVar(&cfg.rounds, "rounds", 5, "interleaved rounds; the medians are reported")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	if cfg.sandbox == "" || cfg.calls < 2 || cfg.rounds < 1 {
		fmt.Fprintln(os.Stderr, "phpbench: -sandbox is required; -calls must be 2 or more, -rounds 1 or more")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "phpbench:", err)
		os.Exit(1)
	}
}

// result is one client's measurement in one round.
type result struct {
	calls int
	wall  time.Duration
	cpu   time.Duration // client CPU for the calls
}

func (r result) perSecond() float64 { return float64(r.calls) / r.wall.Seconds() }
func (r result) cpuPerCall() time.Duration {
	return r.cpu / time.Duration(r.calls)
}

// run starts the sandbox, measures each client cfg.rounds times and
// writes the report to w.
func run(ctx context.Context, cfg config, w io.Writer) error {
	tmp, err := os.MkdirTemp("", "phpbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	caPath := filepath.Join(tmp, "ca.pem")
	base, stop, err := startSandbox(ctx, cfg.sandbox, caPath)
	if err != nil {
		return err
	}
	defer stop()

	pem, err := os.ReadFile(caPath)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return errors.New("the sandbox's CA file holds no certificate")
	}
	sdk, err := voicecall.NewClient(base, appKey, appSecret, voicecall.WithTLSConfig(&tls.Config{RootCAs: pool}))
	if err != nil {
		return err
	}
	noResume, err := voicecall.NewClient(base, appKey, appSecret, voicecall.WithHTTPClient(&http.Client{
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, // no ClientSessionCache
			DisableKeepAlives: true,
		},
	}))
	if err != nil {
		return err
	}

	phpBin := ""
	if cfg.php != "" {
		if p, err := exec.LookPath(cfg.php); err == nil {
			phpBin = p
		}
	}
	loop := filepath.Join(tmp, "loop.php")
	if err := os.WriteFile(loop, loopPHP, 0o644); err != nil {
		return err
	}
	phpDir, err := filepath.Abs(cfg.phpDir)
	if err != nil {
		return err
	}
	php := func(calls int) (result, error) {
		return runPHP(ctx, phpBin, phpDir, loop, caPath, base, calls)
	}
	nodelayDir := filepath.Join(tmp, "php-nodelay")
	if err := nodelayCopy(phpDir, nodelayDir); err != nil {
		return err
	}
	phpNodelay := func(calls int) (result, error) {
		return runPHP(ctx, phpBin, nodelayDir, loop, caPath, base, calls)
	}

	fmt.Fprintf(w, "phpbench: %d sequential CallVerify calls per client per round, %d interleaved rounds, medians\n", cfg.calls, cfg.rounds)
	fmt.Fprintf(w, "server:   examples/sandbox -tls at %s (child process; a new connection per call)\n", base)
	fmt.Fprintf(w, "machine:  %d CPUs, %s, %s/%s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if phpBin != "" {
		out, _ := exec.CommandContext(ctx, phpBin, "-r", `echo PHP_VERSION, " ", OPENSSL_VERSION_TEXT;`).Output()
		fmt.Fprintf(w, "php:      %s (%s)\n", strings.TrimSpace(string(out)), phpBin)
	} else {
		fmt.Fprintf(w, "php:      not found (%q): measuring the SDK only\n", cfg.php)
	}

	// measurePHP runs f for 1 and for cfg.calls calls and returns the
	// difference (the calls after the first, without the start-up) and
	// the single call.
	measurePHP := func(f func(int) (result, error)) (result, result, error) {
		one, err := f(1)
		if err != nil {
			return result{}, result{}, err
		}
		many, err := f(cfg.calls)
		if err != nil {
			return result{}, result{}, err
		}
		return result{calls: many.calls - 1, wall: many.wall - one.wall, cpu: many.cpu - one.cpu}, one, nil
	}
	var phpRes, phpStart, ndRes, sdkRes, nrRes []result
	for i := 0; i < cfg.rounds; i++ {
		if phpBin != "" {
			r, one, err := measurePHP(php)
			if err != nil {
				return err
			}
			phpRes, phpStart = append(phpRes, r), append(phpStart, one)
			r, _, err = measurePHP(phpNodelay)
			if err != nil {
				return fmt.Errorf("php-nodelay: %w", err)
			}
			ndRes = append(ndRes, r)
		}
		r, err := runSDK(ctx, sdk, cfg.calls)
		if err != nil {
			return fmt.Errorf("sdk: %w", err)
		}
		sdkRes = append(sdkRes, r)
		r, err = runSDK(ctx, noResume, cfg.calls)
		if err != nil {
			return fmt.Errorf("sdk-no-resume: %w", err)
		}
		nrRes = append(nrRes, r)
	}

	fmt.Fprintf(w, "\n%-16s %10s %14s\n", "client", "calls/s", "CPU/call")
	row := func(name string, rs []result) (float64, time.Duration) {
		ps, cpu := medians(rs)
		fmt.Fprintf(w, "%-16s %10.0f %12.0fµs\n", name, ps, float64(cpu)/float64(time.Microsecond))
		return ps, cpu
	}
	var phpPS, ndPS float64
	var phpCPU, ndCPU time.Duration
	if phpBin != "" {
		phpPS, phpCPU = row("php", phpRes)
		ndPS, ndCPU = row("php-nodelay", ndRes)
	}
	sdkPS, sdkCPU := row("sdk", sdkRes)
	nrPS, nrCPU := row("sdk-no-resume", nrRes)
	fmt.Fprintln(w)
	if phpBin != "" {
		_, startCPU := medians(phpStart)
		fmt.Fprintf(w, "php CPU per call / sdk CPU per call:  %.2fx\n", float64(phpCPU)/float64(sdkCPU))
		fmt.Fprintf(w, "sdk calls/s / php calls/s:            %.2fx\n", sdkPS/phpPS)
		fmt.Fprintf(w, "php-nodelay CPU per call / sdk:       %.2fx (sdk calls/s / php-nodelay: %.2fx)\n", float64(ndCPU)/float64(sdkCPU), sdkPS/ndPS)
		fmt.Fprintf(w, "php process making one call (start-up included, not in the rows above): %.1f ms CPU\n", float64(startCPU)/float64(time.Millisecond))
	}
	fmt.Fprintf(w, "sdk-no-resume CPU per call / sdk:     %.2fx (calls/s %.2fx)\n", float64(nrCPU)/float64(sdkCPU), sdkPS/nrPS)
	return nil
}

// medians returns the median calls/s and CPU per call of rs.
func medians(rs []result) (float64, time.Duration) {
	ps := make([]float64, len(rs))
	cpu := make([]time.Duration, len(rs))
	for i, r := range rs {
		ps[i], cpu[i] = r.perSecond(), r.cpuPerCall()
	}
	slices.Sort(ps)
	slices.Sort(cpu)
	n := len(rs)
	if n%2 == 1 {
		return ps[n/2], cpu[n/2]
	}
	return (ps[n/2-1] + ps[n/2]) / 2, (cpu[n/2-1] + cpu[n/2]) / 2
}

// startSandbox runs the sandbox binary with -tls on a free loopback port
// and returns its https URL and a function that stops it.
func startSandbox(ctx context.Context, bin, caPath string) (string, func(), error) {
	cmd := exec.CommandContext(ctx, bin, "-tls", "-addr", "127.0.0.1:0", "-tls-hosts", "127.0.0.1",
		"-tls-ca", caPath, "-time-scale", "0")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if i := strings.Index(sc.Text(), "listening on https://"); i >= 0 {
				select {
				case found <- sc.Text()[i+len("listening on "):]:
				default:
				}
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			stop()
			return "", nil, errors.New("the sandbox exited before listening")
		}
		return u, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return "", nil, errors.New("the sandbox did not start in 30 s")
	}
}

// nodelayCopy copies the PHP sample from dir to dst, setting TCP_NODELAY
// in the stream context that util.php's createOptions returns.
func nodelayCopy(dir, dst string) error {
	if err := os.Mkdir(dst, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"data.php", "util.php", "voiceVerificationCode.php"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if name == "util.php" {
			const from = "'http' => ["
			if !bytes.Contains(b, []byte(from)) {
				return fmt.Errorf("%s: no %q to add tcp_nodelay before", name, from)
			}
			b = bytes.Replace(b, []byte(from), []byte("'socket' => ['tcp_nodelay' => true], "+from), 1)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runPHP runs loop.php for calls calls and returns its wall time and the
// PHP process's CPU time.
func runPHP(ctx context.Context, php, dir, loop, caPath, base string, calls int) (result, error) {
	cmd := exec.CommandContext(ctx, php, "-d", "openssl.cafile="+caPath, loop)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SANDBOX_URL="+base, "CALLS="+strconv.Itoa(calls))
	start := time.Now()
	out, err := cmd.Output()
	wall := time.Since(start)
	if err != nil {
		return result{}, fmt.Errorf("php: %w", err)
	}
	if got := strings.TrimSpace(string(out)); got != "ok="+strconv.Itoa(calls) {
		return result{}, fmt.Errorf("php: %d calls, answered %q", calls, got)
	}
	ps := cmd.ProcessState
	return result{calls: calls, wall: wall, cpu: ps.UserTime() + ps.SystemTime()}, nil
}

// runSDK makes calls sequential CallVerify calls with c and returns their
// wall time and this process's CPU time over them.
func runSDK(ctx context.Context, c *voicecall.Client, calls int) (result, error) {
	req := &voicecall.CallVerifyRequest{
		DisplayNumber: "+8653159511234", CalleeNumber: "+8613500000001", LanguageType: 2,
		PreTone: "test.wav", VerifyCode: "1234",
	}
	runtime.GC() // start each measurement from the same heap state
	cpu0, err := selfCPU()
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	for i := 0; i < calls; i++ {
		if _, err := c.CallVerify(ctx, req); err != nil {
			return result{}, fmt.Errorf("call %d: %w", i+1, err)
		}
	}
	wall := time.Since(start)
	cpu1, err := selfCPU()
	if err != nil {
		return result{}, err
	}
	return result{calls: calls, wall: wall, cpu: cpu1 - cpu0}, nil
}

// selfCPU returns this process's user+system CPU time.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
