// Command attack runs the receivers' availability attacks at full size
// against the built example programs, each in a child process on
// loopback, and prints the latency of the legitimate requests sent
// meanwhile and the growth of the program's resident memory
// (docs/OPERATIONS.md records its output):
//
//	go run ./examples/internal/cmd/attack                 # from the repository root
//	go run ./examples/internal/cmd/attack -only otpserver -duration 3s
//
// examples/webhook, with its default limits and unverified (the
// legitimate pushes are unsigned): (a) connections that declare a 1 MiB
// body and send nothing, re-opened as the server closes them; (b)
// keep-alive connections left idle after one GET; (c) slowloris
// connections; (d) idle connections that never send a byte. Legitimate:
// a 50-record CDR batch and a status event, each on a new connection.
//
// examples/otpserver, with its default limits and push verification on,
// against the voicetest fake platform in this process: (e) connections
// that send 1 MiB - 1 byte of a 1 MiB body to /notify, then nothing; (d)
// idle connections. Legitimate: a signed status push, a signed CDR
// batch, and POST /codes for a new number.
//
// Hostile connections come from 127.0.1.1, 127.0.1.2, ... (64 per
// address), held by a child process (examples/internal/cmd/hostile, as
// from another machine; -in-process holds them in this one), legitimate
// ones from 127.0.0.1, sent by this process. It needs about 11,000 open
// files (the Go runtime raises the soft limit to the hard one). Every
// loop is bounded by -duration. The exit status is 1 when a target was
// missed (a failed or timed-out legitimate request, p99 over 1 s, RSS
// growth over 64 MiB).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/voicecall-go/voicecall/examples/internal/attack"
	"github.com/voicecall-go/voicecall/voicetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("only", "", `"webhook" or "otpserver" (default: both)`)
	duration := fs.Duration("duration", 5*time.Second, "how long each attack runs once its connections are open")
	scale := fs.Float64("scale", 1, "multiplies every number of hostile connections")
	root := fs.String("root", ".", "the repository's root")
	inProcess := fs.Bool("in-process", false, "hold the hostile connections in this process, beside the legitimate requests (default: in a child process, as from another machine)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *only != "" && *only != "webhook" && *only != "otpserver" {
		fmt.Fprintln(stderr, "attack: -only must be webhook or otpserver")
		return 2
	}
	n := func(conns int) int { return max(1, int(float64(conns)**scale)) }
	dir, err := os.MkdirTemp("", "voicecall-attack-")
	if err != nil {
		fmt.Fprintln(stderr, "attack:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	attacker := ""
	if !*inProcess {
		attacker = filepath.Join(dir, "hostile")
		if err := attack.Build(*root, "./examples/internal/cmd/hostile", attacker); err != nil {
			fmt.Fprintln(stderr, "attack:", err)
			return 1
		}
	}
	var results []attack.Result
	var failed bool
	if *only == "" || *only == "webhook" {
		rs, err := webhook(ctx, *root, dir, attacker, *duration, n)
		if err != nil {
			fmt.Fprintln(stderr, "attack:", err)
			return 1
		}
		results = append(results, rs...)
	}
	if *only == "" || *only == "otpserver" {
		rs, err := otpserver(ctx, *root, dir, attacker, *duration, n)
		if err != nil {
			fmt.Fprintln(stderr, "attack:", err)
			return 1
		}
		results = append(results, rs...)
	}
	fmt.Fprintln(stdout, "| program | attack | hostile connections (opened) | legitimate requests | failed (timeouts) | p50 | p99 | max | RSS before → peak (growth) |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		fmt.Fprintln(stdout, row(r))
		if r.Failures > 0 || r.P99 > time.Second || r.RSSGrowth > 64<<20 {
			failed = true
			fmt.Fprintf(stderr, "attack: target missed: %s (first failure: %s)\n", r, r.FirstError)
		}
	}
	if failed {
		return 1
	}
	return 0
}

func row(r attack.Result) string {
	kind := string(r.Kind)
	if r.Reopen {
		kind += ", re-opened"
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	prog := "webhook"
	if r.Path == "/notify" {
		prog = "otpserver"
	}
	return fmt.Sprintf("| %s | %s | %d from %d addresses (%d) | %d | %d (%d) | %s | %s | %s | %.1f → %.1f MiB (+%.1f) |",
		prog, kind, r.Conns, r.Sources, r.Opened, r.Requests, r.Failures, r.Timeouts, ms(r.P50), ms(r.P99), ms(r.Max),
		float64(r.BaseRSS)/(1<<20), float64(r.PeakRSS)/(1<<20), float64(r.RSSGrowth)/(1<<20))
}

func webhook(ctx context.Context, root, dir, attacker string, d time.Duration, n func(int) int) ([]attack.Result, error) {
	bin := filepath.Join(dir, "webhook")
	if err := attack.Build(root, "./examples/webhook", bin); err != nil {
		return nil, err
	}
	prog, err := attack.Start(bin, []string{"-addr", "127.0.0.1:0", "-path", "/n"}, []string{"VOICECALL_APP_SECRET="})
	if err != nil {
		return nil, err
	}
	defer prog.Stop()
	batch, err := os.ReadFile(filepath.Join(root, "testdata", "notifications", "fee_batch50.json"))
	if err != nil {
		return nil, err
	}
	status, err := os.ReadFile(filepath.Join(root, "testdata", "notifications", "status_callout_seed.json"))
	if err != nil {
		return nil, err
	}
	url := "http://" + prog.Addr() + "/n"
	probes := []attack.Probe{attack.PushProbe("fee batch", url, batch, nil), attack.PushProbe("status", url, status, nil)}
	return runAll(ctx, prog, "/n", attacker, probes, d, []attack.Config{
		{Kind: attack.DeclaredBody, Conns: n(1000), Reopen: true},
		{Kind: attack.IdleKeepAlive, Conns: n(300)},
		{Kind: attack.Slowloris, Conns: n(2000)},
		{Kind: attack.IdleConns, Conns: n(10000)},
	})
}

func otpserver(ctx context.Context, root, dir, attacker string, d time.Duration, n func(int) int) ([]attack.Result, error) {
	platform, err := voicetest.NewServer()
	if err != nil {
		return nil, err
	}
	defer platform.Close()
	app := platform.Apps()[0]
	bin := filepath.Join(dir, "otpserver")
	if err := attack.Build(root, "./examples/otpserver", bin); err != nil {
		return nil, err
	}
	const pushURL = "https://otp.example.com/notify"
	prog, err := attack.Start(bin,
		[]string{"-addr", "127.0.0.1:0", "-notify-path", "/notify", "-display", "+8675528000088", "-pretone", "p.wav", "-verify-url", pushURL, "-client-cap", "0", "-cooldown", "0"},
		[]string{"VOICECALL_BASE_URL=" + platform.URL, "VOICECALL_APP_KEY=" + app.Key, "VOICECALL_APP_SECRET=" + app.Secret,
			"VOICECALL_OTP_KEY=attack-key-0123456789abcdef0123456789"})
	if err != nil {
		return nil, err
	}
	defer prog.Stop()
	batch, err := os.ReadFile(filepath.Join(root, "testdata", "notifications", "fee_batch50.json"))
	if err != nil {
		return nil, err
	}
	base := "http://" + prog.Addr()
	sign := &attack.Signer{AppKey: app.Key, AppSecret: app.Secret, URL: pushURL}
	notify := base + "/notify"
	// POST /codes every 20th round (about 1 a second): the guard allows
	// 100 codes a minute to the whole app.
	probes := []attack.Probe{attack.PushProbe("status push", notify, []byte(`{"eventType":"callout","statusInfo":{"sessionId":"attack-probe"}}`), sign),
		attack.PushProbe("fee batch", notify, batch, sign), attack.CodesProbe(base, 20)}
	return runAll(ctx, prog, "/notify", attacker, probes, d, []attack.Config{
		{Kind: attack.BigBodySilence, Conns: n(500)},
		{Kind: attack.IdleConns, Conns: n(10000)},
	})
}

// runAll warms the program up with each probe, then runs each attack in
// turn, waiting between two for the program to close what the last one
// left.
func runAll(ctx context.Context, prog *attack.Program, path, attacker string, probes []attack.Probe, d time.Duration, attacks []attack.Config) ([]attack.Result, error) {
	for _, p := range probes {
		if err := p.Do(ctx, http.DefaultClient); err != nil {
			return nil, fmt.Errorf("warm-up %s: %w; stderr:\n%s", p.Name, err, prog.Stderr())
		}
	}
	var out []attack.Result
	for _, a := range attacks {
		a.Addr, a.Pid, a.Path, a.Duration, a.Probes, a.Attacker = prog.Addr(), prog.Pid, path, d, probes, attacker
		r, err := attack.Run(ctx, a)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}
