// Command webhook receives the notifications Huawei Voice Call pushes —
// call-status events and CDR (fee) batches — with the voicecall SDK's
// [voicecall.Handler], and prints one JSON object per line on stdout for
// each status event, each CDR record and each event of an unknown type:
//
//	go run ./examples/webhook -addr 127.0.0.1:8090 -path /voicecall/notify-3f9c2a7e
//
// Only -path is served, matched exactly; every other path is answered
// 404 and logged on stderr (once per path a minute), so that a platform
// pushing to a wrong URL shows. Without push
// verification anyone who knows the URL can push forged notifications, so
// give the platform a path nobody can guess (a random token, as above),
// keep it out of logs, and turn verification on when your pushes are
// signed.
//
// Every line has the keys "kind" ("status", "fee" or "unknown"), "event"
// (the eventType, normalised: "FEE" prints as "fee") and "sessionId",
// then the decoded fields: state codes and release points with their
// descriptions, times in RFC 3339 (UTC), durations in seconds, the names
// of members the SDK does not model under "extra". A CDR batch pushed again prints
// nothing new: the handler de-duplicates records for 8 hours.
//
// Phone numbers are masked to their last four digits in everything it
// prints ("**********0001"), like the SDK's own log lines on stderr;
// X-AKSK values are never logged. A real receiver stores the full
// records instead of printing them.
//
// It serves through the SDK's hardened [server.Server]; each limit is
// a flag (defaults in brackets): -max-conns connections at once [256]
// and -max-conns-per-addr per client address [64] (when full, an idle
// keep-alive connection is closed to admit a newcomer, then one still
// sending its header, then one whose body stalled; when every one is
// being served, new ones wait in the kernel's accept queue); -max-inflight bytes
// of request bodies being handled at once [4 MiB], charged when bytes
// arrive (a declared Content-Length costs nothing); -body-stall [250ms],
// how long a body holding room may receive nothing while others wait
// before it is cut; -max-body bytes per body [1 MiB], larger ones get
// 413; -max-header-bytes [64 KiB]; -read-header-timeout [5s]
// (slowloris); -read-timeout [15s] (slow bodies); -write-timeout [15s];
// -idle-timeout [60s]; -allow, a comma-separated list of source networks
// (CIDR, e.g. the platform's push addresses) outside which connections
// are closed at once [any]. docs/OPERATIONS.md gives the latency of
// legitimate pushes measured under attack with these defaults. It shuts
// down gracefully on SIGINT or SIGTERM and prints "listening on
// http://ADDR/PATH" on stderr once it accepts connections.
//
// Several instances behind a load balancer (or one that restarts) must
// share their record of handled CDRs, or a batch re-pushed to another
// instance is printed again: with -redis redis://HOST:PORT/DB every
// instance keeps it in that Redis server (module redisstore; keys under
// -redis-prefix). Without it the record lives in this process's memory.
//
// With -journal redis://HOST:PORT/DB it prints nothing: every
// notification it accepts (each status event, each CDR record) is stored
// in the notification journal on that Redis (redisstore's Journal, keys
// under -redis-prefix; docs/JOURNAL.md) before the answer 200, and a
// push it could not store is answered 503, so that nothing is
// acknowledged that is not stored (the platform re-pushes a CDR batch an
// hour later; a status event is not re-pushed). At start-up it says on
// stderr where it stores, and warns (one WARNING line) when that Redis
// runs without the append-only file, since a restart would lose what was
// acknowledged. Several receivers may share one journal. Then
//
//	go run ./examples/webhook -journal redis://localhost:6379/0 -consume printer
//
// does not serve: it reads the journal as a member of the consumer group
// printer and prints each notification once, in the lines above (every
// instance of a group shares the work; each group gets every entry). It
// records each printed entry's key in Redis before printing (SET NX, for
// 8 days), so an entry delivered again is not printed again; when it
// stops it prints on stderr how many entries it consumed and printed.
//
// It checks at start-up that the Redis of -redis or -journal answers
// (a PING, 3 s at most) and exits 1 with a message naming its host when
// it does not.
//
// This example is a module of its own (it imports go-redis through
// redisstore, which the SDK's core module does not depend on); the
// repository's go.work lets "go run ./examples/webhook" work from the
// repository's root.
//
// A status event whose callback fails is not pushed again by the
// platform: with -dead-letter FILE, the handler appends its raw body (one
// line each) to FILE so that it can be replayed.
//
// Signed pushes: Huawei's notification pages say the platform signs its
// pushes (X-AKSK). When the app secret is in VOICECALL_APP_SECRET (and
// optionally the app key in VOICECALL_APP_KEY), the program verifies
// every push and answers 401 to one without a valid X-AKSK header; it
// then needs -verify-url, the push URL exactly as given to the platform
// (the digest covers it). Both digest layouts and both readings of
// Created (UTC, or Beijing time) that Huawei's pages give are accepted.
// Without the secret, or with -unverified, it serves unsigned pushes and
// says so on stderr at start-up: anyone who can reach it can then forge
// notifications, so give it a path nobody can guess.
//
// Exit status: 0 after a graceful shutdown (or -h), 1 when serving
// failed or Redis is unreachable, 2 for bad usage.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
	"github.com/voicecall-go/voicecall/journal"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/server"
)

// defaultLimits are the server's limits: the SDK's defaults.
var defaultLimits = server.Config{
	MaxConns:          server.DefaultMaxConns,
	MaxConnsPerAddr:   server.DefaultMaxConnsPerAddr,
	MaxBodyBytes:      voicecall.DefaultMaxBodyBytes,
	BodyBudget:        server.DefaultBodyBudget,
	BodyStall:         server.DefaultBodyStall,
	ReadHeaderTimeout: server.DefaultReadHeader,
	ReadTimeout:       server.DefaultRead,
	WriteTimeout:      server.DefaultWrite,
	IdleTimeout:       server.DefaultIdle,
	MaxHeaderBytes:    server.DefaultMaxHeaderBytes,
}

const shutdownTimeout = 10 * time.Second

// newServer returns the server that serves h within l.
func newServer(h http.Handler, l server.Config, logger *slog.Logger) (*server.Server, error) {
	l.Logger = logger
	return server.New(h, l)
}

// parseNetworks parses a comma-separated list of CIDR prefixes.
func parseNetworks(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("-allow: %q is not a CIDR prefix (e.g. 192.0.2.0/24)", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(cli.Exit("webhook", err, os.Stderr))
}

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := cli.NewFlagSet("webhook", "webhook [-addr ADDR] [-path PATH] [-journal URL | -redis URL] [flags]; or, to print the journal: webhook -journal URL -consume GROUP",
		"VOICECALL_APP_SECRET (the app secret: with -verify-url, pushes are verified), VOICECALL_APP_KEY (optional: the app key pushes must carry)", stderr)
	l := defaultLimits
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	path := fs.String("path", "/voicecall/notify", "the only path served (404 elsewhere); make it unguessable, e.g. /voicecall/notify-<random>")
	verifyURL := fs.String("verify-url", "", "push URL as configured at the platform; verifies X-AKSK on pushes (needs VOICECALL_APP_SECRET)")
	deadLetter := fs.String("dead-letter", "", "file to append the raw body of every status event whose callback failed")
	dedupStatus := fs.Bool("dedup-status", false, "print identical status events once")
	redisURL := fs.String("redis", "", "redis:// URL of a Redis server shared by every instance for CDR de-duplication (default: in this process's memory)")
	redisPrefix := fs.String("redis-prefix", "voicecall:", "prefix of the Redis keys (of -redis and -journal)")
	journalURL := fs.String("journal", "", "redis:// URL of a notification journal: every accepted notification is stored there before the answer 200 (503 when it cannot be), instead of printed")
	consume := fs.String("consume", "", "with -journal: do not serve; read the journal as a member of this consumer group and print each notification once")
	consumer := fs.String("consumer", "", "with -consume: this instance's name in the group (default: host-pid)")
	unverified := fs.Bool("unverified", false, "serve unsigned pushes even when VOICECALL_APP_SECRET is set (anyone can then forge notifications)")
	allow := fs.String("allow", "", "comma-separated source networks (CIDR) whose connections are served, e.g. the platform's push addresses (default: any)")
	fs.IntVar(&l.MaxConns, "max-conns", l.MaxConns, "most connections at once; when full, an idle one is closed to admit a new one")
	fs.IntVar(&l.MaxConnsPerAddr, "max-conns-per-addr", l.MaxConnsPerAddr, "most connections at once from one client address")
	fs.Int64Var(&l.BodyBudget, "max-inflight", l.BodyBudget, "most bytes of request bodies handled at once, charged as bytes arrive; further requests wait")
	fs.DurationVar(&l.BodyStall, "body-stall", l.BodyStall, "how long a body holding room may receive nothing while others wait before it is cut")
	fs.Int64Var(&l.MaxBodyBytes, "max-body", l.MaxBodyBytes, "most bytes of one request body (413 beyond)")
	fs.IntVar(&l.MaxHeaderBytes, "max-header-bytes", l.MaxHeaderBytes, "most bytes of request headers (431 beyond)")
	fs.DurationVar(&l.ReadHeaderTimeout, "read-header-timeout", l.ReadHeaderTimeout, "time to read a request's headers")
	fs.DurationVar(&l.ReadTimeout, "read-timeout", l.ReadTimeout, "time to read a whole request")
	fs.DurationVar(&l.WriteTimeout, "write-timeout", l.WriteTimeout, "time to handle a request and write the answer")
	fs.DurationVar(&l.IdleTimeout, "idle-timeout", l.IdleTimeout, "time a kept-alive connection may idle")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return cli.Usage(err)
	}
	switch {
	case fs.NArg() > 0:
		return cli.Usage(fmt.Errorf("unexpected arguments: %q", fs.Args()))
	case !strings.HasPrefix(*path, "/"):
		return cli.Usage(errors.New("-path must start with /"))
	case *consume != "" && *journalURL == "":
		return cli.Usage(errors.New("-consume needs -journal, the journal to read"))
	case *journalURL != "" && (*redisURL != "" || *deadLetter != "" || *dedupStatus):
		return cli.Usage(errors.New("-journal excludes -redis, -dead-letter and -dedup-status: the journal stores every notification and keeps a second copy of one out by its key"))
	case l.MaxConns < 1, l.MaxConnsPerAddr < 1, l.MaxBodyBytes < 1, l.BodyBudget < l.MaxBodyBytes, l.MaxHeaderBytes < 1, l.BodyStall < 1:
		return cli.Usage(errors.New("-max-conns, -max-conns-per-addr, -max-body, -max-header-bytes and -body-stall must be positive, -max-inflight at least -max-body"))
	}
	var err error
	if l.AllowedNetworks, err = parseNetworks(*allow); err != nil {
		return cli.Usage(err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	p := &printer{w: stdout}
	cfg := voicecall.HandlerConfig{
		MaxBodyBytes: l.MaxBodyBytes,
		Logger:       logger,
	}
	var j *redisstore.Journal
	var durability string // the journal's Redis is not durable: why
	switch {
	case *journalURL != "":
		st, err := openRedis(ctx, "-journal", *journalURL, *redisPrefix)
		if err != nil {
			return err
		}
		defer st.Close()
		if j, err = st.Journal(journal.Config{}); err != nil {
			return cli.Usage(err)
		}
		if *consume != "" {
			name := *consumer
			if name == "" {
				host, _ := os.Hostname()
				name = host + "-" + strconv.Itoa(os.Getpid())
			}
			c := &journalPrinter{j: j, st: st, p: p, group: *consume, name: name,
				printed: *redisPrefix + "webhook-printed:" + *consume + ":"}
			return c.run(ctx, cli.HostOf(*journalURL), stderr)
		}
		cfg.Journal = j
		if err := j.CheckDurability(ctx); err != nil {
			durability = err.Error() // said once listening
		}
	case *redisURL != "":
		st, err := openRedis(ctx, "-redis", *redisURL, *redisPrefix)
		if err != nil {
			return err
		}
		defer st.Close()
		cfg.Dedup = st.DedupStore(0, 0)
		fallthrough
	default:
		cfg.OnStatus, cfg.OnFee, cfg.OnUnknown = p.status, p.fee, p.unknown
		cfg.DedupStatus = *dedupStatus
	}
	if *deadLetter != "" {
		f, err := os.OpenFile(*deadLetter, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return cli.Usage(err)
		}
		defer f.Close()
		var mu sync.Mutex
		cfg.OnDeadLetter = func(_ context.Context, dl *voicecall.DeadLetter) error {
			mu.Lock()
			defer mu.Unlock()
			_, err := f.Write(append(dl.Body, '\n'))
			return err
		}
	}
	secret := getenv("VOICECALL_APP_SECRET")
	var warning string
	switch {
	case *unverified:
		warning = "-unverified"
	case secret == "" && *verifyURL != "":
		return cli.Usage(errors.New("-verify-url needs the app secret in VOICECALL_APP_SECRET"))
	case secret == "":
		warning = "VOICECALL_APP_SECRET is not set"
	case *verifyURL == "":
		return cli.Usage(errors.New("VOICECALL_APP_SECRET is set: give -verify-url, the push URL exactly as configured at the platform, to verify pushes (or -unverified)"))
	default:
		cfg.Verification = &voicecall.PushVerification{
			AppSecret:      secret,
			AppKey:         getenv("VOICECALL_APP_KEY"),
			URLs:           []string{*verifyURL},
			CreatedOffsets: []time.Duration{0, 8 * time.Hour}, // UTC or Beijing time: Huawei's pages give both
		}
	}
	h, err := voicecall.NewHandler(cfg)
	if err != nil && cfg.Verification != nil {
		return cli.Usage(fmt.Errorf("-verify-url: %w", err))
	} else if err != nil {
		return cli.Usage(err)
	}
	mux := http.NewServeMux()
	pattern := *path
	if strings.HasSuffix(pattern, "/") {
		pattern += "{$}" // exactly this path, not the subtree below it
	}
	mux.Handle(pattern, h)
	srv, err := newServer(cli.LogNotFound(mux, logger), l, logger)
	if err != nil {
		return cli.Usage(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "listening on http://%s%s\n", ln.Addr(), *path)
	if warning != "" {
		fmt.Fprintf(stderr, "webhook: WARNING: push signatures are NOT verified (%s): anyone who can reach this address can forge notifications\n", warning)
	}
	if j != nil {
		fmt.Fprintf(stderr, "storing notifications in the journal at %s (print them with -journal URL -consume GROUP)\n", cli.HostOf(*journalURL))
		if durability != "" {
			fmt.Fprintln(stderr, "webhook: WARNING:", durability)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// printer writes one JSON line per notification item; safe for
// concurrent use.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) print(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err = p.w.Write(b)
	return err
}

// mask keeps only the last four characters of a phone number.
func mask(number string) string {
	if number == "" {
		return ""
	}
	r := []rune(number)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}

// names returns the sorted names of the members the SDK does not model
// (their values may hold phone numbers, so they are not printed).
func names(extra map[string]json.RawMessage) []string {
	out := make([]string, 0, len(extra))
	for k := range extra {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// rfc3339 formats t, or returns "" (omitted) for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

type statusLine struct {
	Kind             string   `json:"kind"`
	Event            string   `json:"event"`
	SessionID        string   `json:"sessionId"`
	Timestamp        string   `json:"timestamp,omitempty"`
	RawTimestamp     string   `json:"rawTimestamp,omitempty"`
	UserData         string   `json:"userData,omitempty"`
	Caller           string   `json:"caller,omitempty"`
	Called           string   `json:"called,omitempty"`
	StateCode        *int     `json:"stateCode,omitempty"`
	StateCodeDesc    string   `json:"stateCodeDescription,omitempty"`
	StateDesc        string   `json:"stateDesc,omitempty"`
	PartyType        string   `json:"partyType,omitempty"`
	DigitInfo        string   `json:"digitInfo,omitempty"`
	DisplayCallerNum string   `json:"displayCallerNum,omitempty"`
	Extra            []string `json:"extra,omitempty"`
}

func (p *printer) status(_ context.Context, ev *voicecall.StatusEvent) error {
	line := statusLine{
		Kind:             "status",
		Event:            string(ev.Type),
		SessionID:        ev.SessionID,
		Timestamp:        rfc3339(ev.Timestamp),
		RawTimestamp:     ev.RawTimestamp,
		UserData:         ev.UserData,
		Caller:           mask(ev.Caller),
		Called:           mask(ev.Called),
		StateDesc:        ev.StateDesc,
		PartyType:        string(ev.PartyType),
		DigitInfo:        ev.DigitInfo,
		DisplayCallerNum: mask(ev.DisplayCallerNum),
		Extra:            names(ev.Extra),
	}
	if ev.HasStateCode {
		code := int(ev.StateCode)
		line.StateCode = &code
		line.StateCodeDesc = ev.StateCode.Description()
	}
	return p.print(line)
}

type feeLine struct {
	Kind                string   `json:"kind"`
	Event               string   `json:"event"`
	SessionID           string   `json:"sessionId"`
	ICID                string   `json:"icid,omitempty"`
	Direction           int      `json:"direction"`
	SPID                string   `json:"spId,omitempty"`
	AppKey              string   `json:"appKey,omitempty"`
	BindNum             string   `json:"bindNum,omitempty"`
	CallerNum           string   `json:"callerNum,omitempty"`
	CalleeNum           string   `json:"calleeNum,omitempty"`
	ServiceType         string   `json:"serviceType,omitempty"`
	ServiceTypeDesc     string   `json:"serviceTypeDescription,omitempty"`
	Answered            bool     `json:"answered"`
	RingSeconds         float64  `json:"ringSeconds"`
	CallSeconds         float64  `json:"callSeconds"`
	CallOutStartTime    string   `json:"callOutStartTime,omitempty"`
	CallOutAlertingTime string   `json:"callOutAlertingTime,omitempty"`
	CallOutAnswerTime   string   `json:"callOutAnswerTime,omitempty"`
	CallEndTime         string   `json:"callEndTime,omitempty"`
	FailTime            string   `json:"failTime,omitempty"`
	ULFailReason        int      `json:"ulFailReason"`
	ULFailReasonDesc    string   `json:"ulFailReasonDescription,omitempty"`
	SIPStatusCode       int      `json:"sipStatusCode,omitempty"`
	CallOutUnaswRsn     int      `json:"callOutUnaswRsn"`
	CallOutUnaswRsnDesc string   `json:"callOutUnaswRsnDescription,omitempty"`
	FwdUnaswRsn         int      `json:"fwdUnaswRsn"`
	FwdUnaswRsnDesc     string   `json:"fwdUnaswRsnDescription,omitempty"`
	FwdDisplayNum       string   `json:"fwdDisplayNum,omitempty"`
	FwdDstNum           string   `json:"fwdDstNum,omitempty"`
	FwdStartTime        string   `json:"fwdStartTime,omitempty"`
	FwdAlertingTime     string   `json:"fwdAlertingTime,omitempty"`
	FwdAnswerTime       string   `json:"fwdAnswerTime,omitempty"`
	DynIVRStartTime     string   `json:"dynIVRStartTime,omitempty"`
	DynIVRPath          string   `json:"dynIVRPath,omitempty"`
	RecordFlag          int      `json:"recordFlag"`
	RecordObjectName    string   `json:"recordObjectName,omitempty"`
	RecordDomain        string   `json:"recordDomain,omitempty"`
	TTSPlayTimes        int      `json:"ttsPlayTimes"`
	TTSTransDuration    int      `json:"ttsTransDuration"`
	HostName            string   `json:"hostName,omitempty"`
	UserData            string   `json:"userData,omitempty"`
	Extra               []string `json:"extra,omitempty"`
}

func (p *printer) fee(_ context.Context, r *voicecall.FeeRecord) error {
	return p.print(feeLine{
		Kind:                "fee",
		Event:               string(voicecall.EventFee),
		SessionID:           r.SessionID,
		ICID:                r.ICID,
		Direction:           r.Direction,
		SPID:                r.SPID,
		AppKey:              r.AppKey,
		BindNum:             mask(r.BindNum),
		CallerNum:           mask(r.CallerNum),
		CalleeNum:           mask(r.CalleeNum),
		ServiceType:         string(r.ServiceType),
		ServiceTypeDesc:     r.ServiceType.Description(),
		Answered:            r.Answered(),
		RingSeconds:         r.RingDuration().Seconds(),
		CallSeconds:         r.CallDuration().Seconds(),
		CallOutStartTime:    rfc3339(r.CallOutStartTime),
		CallOutAlertingTime: rfc3339(r.CallOutAlertingTime),
		CallOutAnswerTime:   rfc3339(r.CallOutAnswerTime),
		CallEndTime:         rfc3339(r.CallEndTime),
		FailTime:            rfc3339(r.FailTime),
		ULFailReason:        int(r.ULFailReason),
		ULFailReasonDesc:    r.ULFailReason.Description(),
		SIPStatusCode:       r.SIPStatusCode,
		CallOutUnaswRsn:     int(r.CallOutUnaswRsn),
		CallOutUnaswRsnDesc: r.CallOutUnaswRsn.Description(),
		FwdUnaswRsn:         int(r.FwdUnaswRsn),
		FwdUnaswRsnDesc:     r.FwdUnaswRsn.Description(),
		FwdDisplayNum:       mask(r.FwdDisplayNum),
		FwdDstNum:           mask(r.FwdDstNum),
		FwdStartTime:        rfc3339(r.FwdStartTime),
		FwdAlertingTime:     rfc3339(r.FwdAlertingTime),
		FwdAnswerTime:       rfc3339(r.FwdAnswerTime),
		DynIVRStartTime:     rfc3339(r.DynIVRStartTime),
		DynIVRPath:          r.DynIVRPath,
		RecordFlag:          r.RecordFlag,
		RecordObjectName:    r.RecordObjectName,
		RecordDomain:        r.RecordDomain,
		TTSPlayTimes:        r.TTSPlayTimes,
		TTSTransDuration:    r.TTSTransDuration,
		HostName:            r.HostName,
		UserData:            r.UserData,
		Extra:               names(r.Extra),
	})
}

type unknownLine struct {
	Kind      string `json:"kind"`
	Event     string `json:"event"`
	SessionID string `json:"sessionId"`
	Bytes     int    `json:"bytes"`
}

// unknown prints the event's type, its statusInfo.sessionId if it has
// one (as the known status events do), and its size: the SDK does not
// know its shape, so it cannot tell which members are phone numbers to
// mask. A real receiver stores ev.Raw.
func (p *printer) unknown(_ context.Context, ev *voicecall.UnknownEvent) error {
	var probe struct {
		StatusInfo struct {
			SessionID json.RawMessage `json:"sessionId"`
		} `json:"statusInfo"`
	}
	var sessionID string
	if json.Unmarshal(ev.Raw, &probe) == nil {
		_ = json.Unmarshal(probe.StatusInfo.SessionID, &sessionID) // stays "" unless a string
	}
	return p.print(unknownLine{Kind: "unknown", Event: string(ev.Type), SessionID: sessionID, Bytes: len(ev.Raw)})
}
