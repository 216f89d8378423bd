// Command load measures the SDK at volume, on loopback only
// (docs/PERFORMANCE.md):
//
//   - calls: N concurrent CallVerify calls (default 1,000) on one
//     voicecall.Client against the voicetest fake platform: throughput,
//     p50/p99 latency, peak goroutines and peak heap of the process
//     (client and fake platform together);
//   - webhook: the notification Handler's throughput on a 50-record CDR
//     batch (internal/cdrbatch), with the server in a child process
//     pinned to CPU 0 with GOMAXPROCS=1 and the load generator pinned to
//     CPU 1: wrk when it is installed, a built-in Go generator
//     otherwise. A /baseline endpoint that only reads the body is
//     measured the same way, to tell a slow machine from a slow handler.
//
// Run it from the repository root:
//
//	go run ./internal/cmd/load                 # both parts, defaults
//	go run ./internal/cmd/load -part webhook -duration 10s -conns 16
//
// Every loop is bounded (a number of calls, a duration), so it stops by
// itself. It prints one block of results per part and exits non-zero if a
// call failed or a webhook answer was not 2xx.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/internal/cdrbatch"
	"github.com/voicecall-go/voicecall/voicetest"
)

// feeBatchRecords is the most CDRs Huawei's pages say one fee
// notification carries, the size of the batches sent.
const feeBatchRecords = 50

// jsonContentType is the Content-Type the platform sends and requires.
const jsonContentType = "application/json;charset=UTF-8"

// config is what the flags set.
type config struct {
	part     string        // "all", "calls" or "webhook"
	calls    int           // concurrent calls per round
	rounds   int           // rounds of calls
	duration time.Duration // length of each webhook measurement
	conns    int           // webhook connections
	gen      string        // "auto", "wrk" or "go"
	pin      bool          // run the webhook server in a pinned child process
}

func main() {
	// The child processes of the webhook part.
	switch {
	case len(os.Args) == 2 && os.Args[1] == "-serve":
		if err := serve(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "load -serve:", err)
			os.Exit(1)
		}
		return
	case len(os.Args) == 5 && os.Args[1] == "-generate":
		if err := generateChild(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "load -generate:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.StringVar(&cfg.part, "part", "all", "what to measure: all, calls or webhook")
	fs.IntVar(&cfg.calls, "calls", 1000, "concurrent CallVerify calls per round, 1-10000")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds of concurrent calls, 1-100")
	fs.DurationVar(&cfg.duration, "duration", 8*time.Second, "length of each webhook measurement, 100ms-5m")
	fs.IntVar(&cfg.conns, "conns", 16, "webhook load-generator connections, 1-1000")
	fs.StringVar(&cfg.gen, "gen", "auto", "webhook load generator: auto (wrk if installed), wrk or go")
	fs.BoolVar(&cfg.pin, "pin", true, "pin the webhook server to CPU 0 (GOMAXPROCS=1) and the generator to CPU 1 with taskset")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "load: unexpected argument %q\n", fs.Arg(0))
		return 2
	case cfg.part != "all" && cfg.part != "calls" && cfg.part != "webhook":
		fmt.Fprintln(stderr, "load: -part must be all, calls or webhook")
		return 2
	case cfg.calls < 1 || cfg.calls > 10000, cfg.rounds < 1 || cfg.rounds > 100,
		cfg.duration < 100*time.Millisecond || cfg.duration > 5*time.Minute, cfg.conns < 1 || cfg.conns > 1000:
		fmt.Fprintln(stderr, "load: a flag is out of range (see -h)")
		return 2
	case cfg.gen != "auto" && cfg.gen != "wrk" && cfg.gen != "go":
		fmt.Fprintln(stderr, "load: -gen must be auto, wrk or go")
		return 2
	}
	fmt.Fprintf(stdout, "machine: %s, %d CPUs, %s\n", cpuModel(), runtime.NumCPU(), runtime.Version())
	ok := true
	if cfg.part != "webhook" {
		if err := loadCalls(ctx, cfg, stdout); err != nil {
			fmt.Fprintln(stderr, "load: calls:", err)
			ok = false
		}
	}
	if cfg.part != "calls" {
		if err := loadWebhook(ctx, cfg, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "load: webhook:", err)
			ok = false
		}
	}
	if !ok {
		return 1
	}
	return 0
}

// loadCalls runs cfg.rounds rounds of cfg.calls CallVerify calls started
// at once on one Client.
func loadCalls(ctx context.Context, cfg config, stdout io.Writer) error {
	// WithPorts: the fake's default port limit would refuse most calls;
	// time scale 0: calls end as soon as they are placed, so that the
	// fake does not keep 1,000 simulated calls alive between rounds.
	srv, err := voicetest.NewServer(voicetest.WithPorts(65535), voicetest.WithTimeScale(0))
	if err != nil {
		return err
	}
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		return err
	}
	defer client.Close()

	fmt.Fprintf(stdout, "\n== calls: %d concurrent CallVerify calls on one Client against voicetest, %d rounds, GOMAXPROCS=%d\n",
		cfg.calls, cfg.rounds, runtime.GOMAXPROCS(0))
	fmt.Fprintln(stdout, "round  calls/s   p50       p99       max       peak goroutines  peak heap")
	var all []time.Duration
	var total time.Duration
	for r := 1; r <= cfg.rounds; r++ {
		res, err := callRound(ctx, client, cfg.calls)
		if err != nil {
			return err
		}
		all = append(all, res.latencies...)
		total += res.elapsed
		fmt.Fprintf(stdout, "%-6d %-9.0f %-9s %-9s %-9s %-16d %.1f MiB\n", r, float64(cfg.calls)/res.elapsed.Seconds(),
			round(pct(res.latencies, 50)), round(pct(res.latencies, 99)), round(pct(res.latencies, 100)),
			res.peakGoroutines, float64(res.peakHeap)/(1<<20))
	}
	fmt.Fprintf(stdout, "all    %-9.0f %-9s %-9s %-9s (%d calls, 0 failed)\n", float64(len(all))/total.Seconds(),
		round(pct(all, 50)), round(pct(all, 99)), round(pct(all, 100)), len(all))
	return nil
}

type roundResult struct {
	elapsed        time.Duration
	latencies      []time.Duration
	peakGoroutines int
	peakHeap       uint64
}

// callRound starts n calls at once and waits for all of them, sampling
// the goroutine count and the heap every millisecond meanwhile.
func callRound(ctx context.Context, client *voicecall.Client, n int) (roundResult, error) {
	res := roundResult{latencies: make([]time.Duration, n)}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			_, errs[i] = client.CallVerify(ctx, &voicecall.CallVerifyRequest{
				DisplayNumber: "+8675528000088",
				CalleeNumber:  "+86135" + fmt.Sprintf("%08d", i),
				LanguageType:  voicecall.LanguageChinese,
				PreTone:       "pretone.wav",
				VerifyCode:    "123456",
			})
			res.latencies[i] = time.Since(t0)
		}()
	}
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		res.peakGoroutines, res.peakHeap = sample(done)
	}()
	t0 := time.Now()
	close(start)
	wg.Wait()
	res.elapsed = time.Since(t0)
	close(done)
	<-sampled
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	return res, nil
}

// sample returns the highest goroutine count and live heap (bytes in
// heap objects) seen every millisecond until done is closed.
func sample(done <-chan struct{}) (goroutines int, heap uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		goroutines = max(goroutines, runtime.NumGoroutine())
		metrics.Read(s)
		heap = max(heap, s[0].Value.Uint64())
		select {
		case <-done:
			return goroutines, heap
		case <-tick.C:
		}
	}
}

// webhookResult is one webhook measurement.
type webhookResult struct {
	requests  int64
	non2xx    int64
	errors    int64
	rps       float64
	p50, p99  time.Duration
	generator string
}

// loadWebhook measures the Handler and the baseline endpoint.
func loadWebhook(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	body := cdrbatch.Generate(feeBatchRecords)
	handlerTime, err := inProcessHandlerTime(body)
	if err != nil {
		return err
	}

	gen := cfg.gen
	if gen == "auto" {
		gen = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			gen = "wrk"
		}
	}
	_, errTaskset := exec.LookPath("taskset")
	pin := cfg.pin && errTaskset == nil && runtime.NumCPU() >= 2
	if cfg.pin && !pin {
		fmt.Fprintln(stderr, "load: taskset or a second CPU is missing: running unpinned")
	}

	var addr string
	if pin {
		a, stop, err := startPinnedServer(ctx)
		if err != nil {
			return err
		}
		defer stop()
		addr = a
	} else {
		hs, ln, err := listenWebhook()
		if err != nil {
			return err
		}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
		addr = ln.Addr().String()
	}

	where := "server and generator unpinned, in one process"
	if pin {
		where = "server: taskset -c 0, GOMAXPROCS=1; generator: taskset -c 1"
	}
	fmt.Fprintf(stdout, "\n== webhook: POST of a %d-record CDR batch (%d bytes), %s, %d connections, %s each, generator %s\n",
		feeBatchRecords, len(body), where, cfg.conns, cfg.duration, gen)
	fmt.Fprintf(stdout, "in-process handler time (httptest, this process): %s per batch\n", round(handlerTime))
	fmt.Fprintln(stdout, "endpoint   req/s     CDR/s      p50       p99       requests  non-2xx  errors")
	// The first delivery of the batch claims its records: concurrent
	// deliveries would be answered 503 (ClaimBusy) until it is done. Post
	// it once first, so that every measured request is a re-push.
	if err := postOnce(ctx, "http://"+addr+"/fee", body); err != nil {
		return err
	}
	failed := false
	for _, ep := range []string{"/fee", "/baseline"} {
		url := "http://" + addr + ep
		var res webhookResult
		if gen == "wrk" {
			res, err = runWrk(ctx, url, body, cfg, pin)
		} else {
			res, err = runGoGenerator(ctx, url, body, cfg, pin)
		}
		if err != nil {
			return err
		}
		cdrs := ""
		if ep == "/fee" {
			cdrs = strconv.FormatFloat(res.rps*feeBatchRecords, 'f', 0, 64)
		}
		fmt.Fprintf(stdout, "%-10s %-9.0f %-10s %-9s %-9s %-9d %-8d %d\n", ep, res.rps, cdrs, round(res.p50), round(res.p99),
			res.requests, res.non2xx, res.errors)
		if ep == "/fee" {
			fmt.Fprintf(stdout, "efficiency (req/s x in-process handler time): %.2f\n", res.rps*handlerTime.Seconds())
		}
		if res.non2xx != 0 || res.errors != 0 || res.requests == 0 {
			failed = true
		}
	}
	fmt.Fprintln(stdout, "check: 0 non-2xx answers and 0 errors expected")
	if failed {
		return errors.New("some answers were not 2xx, or requests failed")
	}
	return nil
}

// postOnce posts body to url and requires a 200.
func postOnce(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", jsonContentType)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("first delivery answered %d", resp.StatusCode)
	}
	return nil
}

// webhookMux serves the Handler on /fee and a baseline on /baseline that
// reads the body and answers 200. The same batch is posted again and
// again, so after the first request its records are duplicates: this is
// the platform's re-push path (parse, then a dedup lookup per record);
// BenchmarkWebhook shows that a new batch costs about the same.
func webhookMux() (*http.ServeMux, error) {
	h, err := voicecall.NewHandler(voicecall.HandlerConfig{
		OnFee: func(context.Context, *voicecall.FeeRecord) error { return nil },
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/fee", h)
	mux.HandleFunc("/baseline", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, voicecall.DefaultMaxBodyBytes))
		w.WriteHeader(http.StatusOK)
	})
	return mux, nil
}

// listenWebhook returns the receiver's server (webhookMux) and a
// loopback listener for it.
func listenWebhook() (*http.Server, net.Listener, error) {
	mux, err := webhookMux()
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	return &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 16 << 10}, ln, nil
}

// serve is the pinned child: it listens on a loopback port, prints the
// address on out, and serves until its standard input is closed.
func serve(out io.Writer) error {
	hs, ln, err := listenWebhook()
	if err != nil {
		return err
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin) // the parent closes it to stop us
		_ = hs.Close()
	}()
	fmt.Fprintln(out, ln.Addr().String())
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startPinnedServer runs this program with -serve under taskset -c 0
// and GOMAXPROCS=1, and returns its address and a function that stops it.
func startPinnedServer(ctx context.Context) (string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, "taskset", "-c", "0", self, "-serve")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("the server process did not start: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}

// inProcessHandlerTime is the median time of the Handler on body through
// httptest, the "handler time" of the efficiency figure (§B5 BM-7).
func inProcessHandlerTime(body []byte) (time.Duration, error) {
	mux, err := webhookMux()
	if err != nil {
		return 0, err
	}
	times := make([]time.Duration, 501)
	for i := range times {
		req := httptest.NewRequest(http.MethodPost, "/fee", bytes.NewReader(body))
		req.Header.Set("Content-Type", jsonContentType)
		w := httptest.NewRecorder()
		t0 := time.Now()
		mux.ServeHTTP(w, req)
		times[i] = time.Since(t0)
		if w.Code != http.StatusOK {
			return 0, fmt.Errorf("in-process handler answered %d", w.Code)
		}
	}
	return pct(times[1:], 50), nil
}

// wrkScript makes wrk POST the body read from a file with the platform's
// Content-Type.
const wrkScript = `wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json;charset=UTF-8"
local f = assert(io.open(%q, "rb"))
wrk.body = f:read("*a")
f:close()
`

// runWrk runs wrk -t1 on url and parses its report.
func runWrk(ctx context.Context, url string, body []byte, cfg config, pin bool) (webhookResult, error) {
	dir, err := os.MkdirTemp("", "voicecall-load-")
	if err != nil {
		return webhookResult{}, err
	}
	defer os.RemoveAll(dir)
	bodyFile := filepath.Join(dir, "batch.json")
	script := filepath.Join(dir, "post.lua")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		return webhookResult{}, err
	}
	if err := os.WriteFile(script, fmt.Appendf(nil, wrkScript, bodyFile), 0o600); err != nil {
		return webhookResult{}, err
	}
	secs := max(1, int(cfg.duration.Round(time.Second)/time.Second))
	args := []string{"-t1", "-c" + strconv.Itoa(cfg.conns), "-d" + strconv.Itoa(secs) + "s", "--latency", "-s", script, url}
	name := "wrk"
	if pin {
		name, args = "taskset", append([]string{"-c", "1", "wrk"}, args...)
	}
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return webhookResult{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	return parseWrk(string(out))
}

var (
	wrkRequests = regexp.MustCompile(`(?m)^\s*(\d+) requests in`)
	wrkRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s*([\d.]+)`)
	wrkNon2xx   = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s*(\d+)`)
	wrkSocket   = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s*(50|99)%\s+([\d.]+)(us|ms|s)\b`)
)

// parseWrk reads a wrk --latency report. wrk prints the non-2xx and
// socket-error lines only when they are not zero.
func parseWrk(out string) (webhookResult, error) {
	res := webhookResult{generator: "wrk"}
	m := wrkRequests.FindStringSubmatch(out)
	r := wrkRPS.FindStringSubmatch(out)
	if m == nil || r == nil {
		return res, fmt.Errorf("cannot read the wrk report: %s", out)
	}
	res.requests, _ = strconv.ParseInt(m[1], 10, 64)
	res.rps, _ = strconv.ParseFloat(r[1], 64)
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		res.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			res.errors += n
		}
	}
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		d := time.Duration(v * float64(unit))
		if m[1] == "50" {
			res.p50 = d
		} else {
			res.p99 = d
		}
	}
	return res, nil
}

// runGoGenerator is the load generator used without wrk: cfg.conns
// keep-alive connections each posting the body in a loop for
// cfg.duration. With pin, it runs in a child process of this program
// under taskset -c 1; otherwise in this process.
func runGoGenerator(ctx context.Context, url string, body []byte, cfg config, pin bool) (webhookResult, error) {
	if !pin {
		return generate(ctx, url, body, cfg.conns, cfg.duration), nil
	}
	self, err := os.Executable()
	if err != nil {
		return webhookResult{}, err
	}
	cmd := exec.CommandContext(ctx, "taskset", "-c", "1", self, "-generate", url, strconv.Itoa(cfg.conns), cfg.duration.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return webhookResult{}, fmt.Errorf("generator process: %w", err)
	}
	return parseGenerator(out)
}

// generateChild is the pinned generator process: args are the URL, the
// number of connections and the duration; it writes its result as one
// line of fields.
func generateChild(args []string, out io.Writer) error {
	conns, err := strconv.Atoi(args[1])
	if err != nil || conns < 1 || conns > 1000 {
		return errors.New("bad connection count")
	}
	d, err := time.ParseDuration(args[2])
	if err != nil || d <= 0 || d > 5*time.Minute {
		return errors.New("bad duration")
	}
	r := generate(context.Background(), args[0], cdrbatch.Generate(feeBatchRecords), conns, d)
	_, err = fmt.Fprintf(out, "%d %d %d %f %d %d\n", r.requests, r.non2xx, r.errors, r.rps, r.p50, r.p99)
	return err
}

// generate posts body to url on conns connections for d and measures
// every request.
func generate(ctx context.Context, url string, body []byte, conns int, d time.Duration) webhookResult {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var non2xx, errs atomic.Int64
	lat := make([][]time.Duration, conns)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", jsonContentType)
				resp, err := hc.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					non2xx.Add(1)
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	t0 := time.Now()
	wg.Wait()
	elapsed := time.Since(t0)
	all := slices.Concat(lat...)
	return webhookResult{
		requests: int64(len(all)) + errs.Load(), non2xx: non2xx.Load(), errors: errs.Load(),
		rps: float64(len(all)) / elapsed.Seconds(), p50: pct(all, 50), p99: pct(all, 99), generator: "go",
	}
}

func parseGenerator(out []byte) (webhookResult, error) {
	r := webhookResult{generator: "go"}
	var p50, p99 int64
	if _, err := fmt.Sscanf(string(out), "%d %d %d %f %d %d", &r.requests, &r.non2xx, &r.errors, &r.rps, &p50, &p99); err != nil {
		return r, fmt.Errorf("cannot read the generator's result %q: %w", out, err)
	}
	r.p50, r.p99 = time.Duration(p50), time.Duration(p99)
	return r, nil
}

// pct returns the p-th percentile (nearest rank) of ds, sorting ds.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := (len(ds)*p + 99) / 100
	return ds[min(max(i-1, 0), len(ds)-1)]
}

// round keeps three significant figures or so.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
