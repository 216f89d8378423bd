// Command keepalive measures what turning keep-alive on costs against a
// server that closes its side after each answer without saying so, as
// Huawei's platform does (its pages say every API uses short
// connections): the share of CallVerify calls that end with an unknown
// outcome because the transport reused a connection the server had just
// closed. It is the method behind the figures in NewTransport's doc and
// docs/RELIABILITY.md; rerun it to check them on your machine:
//
//	go run ./internal/cmd/keepalive                  # defaults
//	go run ./internal/cmd/keepalive -runs 10 -seq 1000 -server raw
//
// Each run starts a server on loopback that closes silently after each
// answer: the voicetest fake platform (its default connection mode, an
// net/http server) and a minimal raw one (reads one request, writes the
// answer, closes at once: the fastest close, the worst case), as -server
// says. On each it makes, on one Client whose transport is NewTransport
// with DisableKeepAlives false:
//
//   - seq calls one after another ("sequential");
//   - bursts bursts of burst calls started at once, each burst waited
//     for before the next ("bursts").
//
// The same calls on the default transport (short connections) are the
// control: they must never fail. CallVerify is never retried after its
// request may have been sent, so every reused connection the server had
// closed shows as one unknown outcome. The figures depend on the
// machine's load (the race is between the server's FIN and the client's
// next write), so the program prints the load average and each run.
//
// Every loop is bounded (a number of runs and calls). It exits non-zero
// if a call fails for another reason or the control fails.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/voicetest"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags set.
type config struct {
	runs, seq, bursts, burst int
	server                   string // "voicetest", "raw" or "both"
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keepalive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.IntVar(&cfg.runs, "runs", 5, "runs (each on a fresh fake platform)")
	fs.IntVar(&cfg.seq, "seq", 500, "sequential calls per run")
	fs.IntVar(&cfg.bursts, "bursts", 50, "bursts per run")
	fs.IntVar(&cfg.burst, "burst", 16, "calls started at once per burst")
	fs.StringVar(&cfg.server, "server", "both", "server: voicetest, raw or both")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.server != "voicetest" && cfg.server != "raw" && cfg.server != "both" {
		fmt.Fprintln(stderr, "keepalive: -server voicetest, raw or both")
		return 2
	}
	if fs.NArg() > 0 || cfg.runs < 1 || cfg.runs > 100 || cfg.seq < 1 || cfg.seq > 100_000 ||
		cfg.bursts < 1 || cfg.bursts > 10_000 || cfg.burst < 1 || cfg.burst > 1_000 {
		fmt.Fprintln(stderr, "keepalive: -runs 1-100, -seq 1-100000, -bursts 1-10000, -burst 1-1000, no arguments")
		return 2
	}
	fmt.Fprintf(stdout, "keep-alive against a server that closes after each answer: %d runs of %d sequential calls and %d bursts of %d\n",
		cfg.runs, cfg.seq, cfg.bursts, cfg.burst)
	fmt.Fprintf(stdout, "GOMAXPROCS=%d NumCPU=%d load average %s\n", runtime.GOMAXPROCS(0), runtime.NumCPU(), loadAverage())
	for _, server := range []string{"voicetest", "raw"} {
		if cfg.server != "both" && cfg.server != server {
			continue
		}
		fmt.Fprintf(stdout, "\n== %s server\n", server)
		fmt.Fprintln(stdout, "run  sequential unknown  bursts unknown  control failures")
		var seqRates, burstRates []float64
		for r := 1; r <= cfg.runs; r++ {
			res, err := measure(ctx, cfg, server)
			if err != nil {
				fmt.Fprintln(stderr, "keepalive:", err)
				return 1
			}
			seqRates = append(seqRates, res.seq)
			burstRates = append(burstRates, res.bursts)
			fmt.Fprintf(stdout, "%-4d %-18s %-15s %d\n", r, percent(res.seq), percent(res.bursts), res.controlFailures)
			if res.controlFailures > 0 {
				fmt.Fprintln(stderr, "keepalive: short connections failed")
				return 1
			}
		}
		fmt.Fprintf(stdout, "%s: sequential %s-%s (median %s); bursts %s-%s (median %s)\n", server,
			percent(slices.Min(seqRates)), percent(slices.Max(seqRates)), percent(median(seqRates)),
			percent(slices.Min(burstRates)), percent(slices.Max(burstRates)), percent(median(burstRates)))
	}
	return 0
}

// result is one run's shares of unknown outcomes with keep-alive on, and
// the failures of the control.
type result struct {
	seq, bursts     float64
	controlFailures int
}

// measure makes one run on a fresh server.
func measure(ctx context.Context, cfg config, server string) (result, error) {
	var newClient func(opts ...voicecall.Option) (*voicecall.Client, error)
	if server == "raw" {
		srv, err := startRawServer()
		if err != nil {
			return result{}, err
		}
		defer srv.close()
		newClient = func(opts ...voicecall.Option) (*voicecall.Client, error) {
			return voicecall.NewClient(srv.url, "keepalive-key", "keepalive-secret", opts...)
		}
	} else {
		// WithPorts: the fake's default port limit would refuse bursts;
		// time scale 0: calls end as soon as they are placed.
		srv, err := voicetest.NewServer(voicetest.WithPorts(65535), voicetest.WithTimeScale(0))
		if err != nil {
			return result{}, err
		}
		defer srv.Close()
		newClient = srv.NewClient
	}
	tr := voicecall.NewTransport(nil)
	tr.DisableKeepAlives = false
	pooled, err := newClient(voicecall.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		return result{}, err
	}
	defer pooled.Close()
	short, err := newClient()
	if err != nil {
		return result{}, err
	}
	defer short.Close()

	var res result
	unknown, err := sequential(ctx, pooled, cfg.seq)
	if err != nil {
		return res, err
	}
	res.seq = float64(unknown) / float64(cfg.seq)
	unknown, err = bursts(ctx, pooled, cfg.bursts, cfg.burst)
	if err != nil {
		return res, err
	}
	res.bursts = float64(unknown) / float64(cfg.bursts*cfg.burst)

	// The control: the same calls on short connections.
	u1, err1 := sequential(ctx, short, cfg.seq)
	u2, err2 := bursts(ctx, short, cfg.bursts, cfg.burst)
	res.controlFailures = u1 + u2
	if err1 != nil || err2 != nil {
		res.controlFailures++
	}
	return res, nil
}

// sequential makes n calls one after another and counts the unknown
// outcomes; any other failure is an error.
func sequential(ctx context.Context, c *voicecall.Client, n int) (int, error) {
	unknown := 0
	for i := range n {
		u, err := call(ctx, c, i)
		if err != nil {
			return unknown, err
		}
		unknown += u
	}
	return unknown, nil
}

// bursts makes n bursts of size calls started at once.
func bursts(ctx context.Context, c *voicecall.Client, n, size int) (int, error) {
	unknown := 0
	for b := range n {
		counts := make([]int, size)
		errs := make([]error, size)
		var wg sync.WaitGroup
		for i := range size {
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts[i], errs[i] = call(ctx, c, b*size+i)
			}()
		}
		wg.Wait()
		for i := range size {
			if errs[i] != nil {
				return unknown, errs[i]
			}
			unknown += counts[i]
		}
	}
	return unknown, nil
}

// call makes one CallVerify: 0 when accepted, 1 when its outcome is
// unknown, an error for anything else.
func call(ctx context.Context, c *voicecall.Client, i int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.CallVerify(ctx, &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088",
		CalleeNumber:  fmt.Sprintf("+86135%08d", i%100_000_000),
		LanguageType:  voicecall.LanguageChinese,
		PreTone:       "pretone.wav",
		VerifyCode:    "123456",
	})
	switch voicecall.OutcomeOf(err) {
	case voicecall.OutcomeAccepted:
		return 0, nil
	case voicecall.OutcomeUnknown:
		return 1, nil
	}
	return 0, err
}

func percent(f float64) string { return fmt.Sprintf("%.1f %%", 100*f) }

func median(fs []float64) float64 {
	s := slices.Clone(fs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// loadAverage returns /proc/loadavg's first three fields, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// rawServer answers one request per connection with CallVerify's
// success answer and closes the connection at once, without a
// "Connection: close".
type rawServer struct {
	ln  net.Listener
	url string
	wg  sync.WaitGroup
}

const rawAnswer = `{"resultcode":"0","resultdesc":"Success","sessionId":"1200_366_0_20161228102743@callenabler.home1.com"}`

func startRawServer() (*rawServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &rawServer{ln: ln, url: "http://" + ln.Addr().String()}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				if _, err := io.Copy(io.Discard, req.Body); err != nil {
					return
				}
				fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: %d\r\n\r\n%s", len(rawAnswer), rawAnswer)
			}()
		}
	}()
	return s, nil
}

func (s *rawServer) close() {
	_ = s.ln.Close()
	s.wg.Wait()
}
