// Command otpserver is a small HTTP service that sends and checks voice
// verification codes with the voicecall SDK and its otp package: a
// reference for the whole flow.
//
//	VOICECALL_OTP_KEY=$(openssl rand -hex 32) \
//	go run ./examples/otpserver -display +8675528000088 -pretone pretone.wav -redis redis://localhost:6379/0
//
// It reads the app's credentials from VOICECALL_BASE_URL,
// VOICECALL_APP_KEY and VOICECALL_APP_SECRET, and the server key of the
// codes' MACs from VOICECALL_OTP_KEY (at least 32 characters, the same on
// every instance). Without -redis the state lives in this process (and
// without VOICECALL_OTP_KEY a random key is drawn); with -redis URL every
// instance given the same URL and key shares it, so that a load balancer
// can send each request anywhere.
//
// API:
//
//	POST /codes        {"phone":"+8613500000001"}
//	  202 {"id":"…","status":"sent"}     the platform accepted the call
//	  202 {"id":"…","status":"pending"}  the outcome is unknown; the code works if the call was placed
//	  400 {"error":…,"reason":…}  invalid number
//	  403 {"error":…,"reason":…}  destination refused by the number policy
//	  429 {"error":…,"reason":…,"retryAfter":N} with Retry-After: the guard refused; nothing was sent
//	  502 the platform refused the call, or it could not be sent
//	POST /codes/check  {"id":"…","code":"123456"}
//	  200 {"valid":true}
//	  422 {"valid":false,"attemptsLeft":N}  wrong code (counted)
//	  410 unknown, expired or used id (one answer for the three)
//	  429 checks exhausted (send a new code), or too many checks from this client (with Retry-After)
//	  400 malformed code (not the code's digits; not counted) or body
//
// Numbers are checked with libphonenumber's metadata (the numberpolicy
// module): valid numbers of the countries -countries lists (default CN),
// premium-rate, shared-cost, UAN, VoIP, personal and pager numbers
// refused; the 400 or 403 names the reason ("premium-rate number",
// "too short for CN", "country FR not allowed").
//
// The id is what the client keeps between the two requests: knowing a
// phone number is not enough to check, or to learn whether a code is
// pending. docs/VERIFICATION.md explains the guard and its defaults.
//
// The platform's notifications (status events and CDRs) are received
// under -notify-path on the same listener (default /voicecall/notify), or
// on -notify-addr when set; they settle calls whose outcome was unknown
// and let a failed call (busy, no answer, powered off) be retried at
// once. Give the platform that URL on the console, or with -notify-url
// in every call. A request to any other path is answered 404 and logged
// (once per path a minute), so that a wrong push URL shows.
//
// With -journal redis://… (and -redis), the receiver does not settle
// calls inside the request: it stores each notification in the
// notification journal on that Redis (docs/JOURNAL.md) and answers 200
// only once it is stored (503 otherwise), and a consumer goroutine, in
// consumer group -journal-group (default otpserver), reads the journal,
// settles the calls (otp's ObserveStatus and ObserveFee) and acknowledges
// the entries. It applies each entry once by its key (recorded in Redis
// for 8 days; settling a call again would change nothing anyway), and a
// notification stored while no consumer ran is applied when one runs
// again. -consume=false makes an instance only store; any instance of
// the group settles for all, since they share -redis. At start-up it
// warns (one WARNING line) when the journal's Redis runs without the
// append-only file.
//
// At start-up it checks that the Redis of -redis and -journal answers (a
// PING, 3 s at most) and exits 1 with a message naming its host when it
// does not.
//
// The client counted by -client-cap (and by its /24 or /64) is the
// request's remote IP address; behind a reverse proxy, list the proxies'
// networks with -trusted-proxies, and the client is then the address
// their X-Forwarded-For names (read from the right, skipping trusted
// addresses).
//
// Pushes are verified (X-AKSK, signed with the app secret, both digest
// layouts and both readings of Created that Huawei's pages give) against
// -verify-url, the push URLs exactly as configured at the platform
// (comma-separated; default: -notify-url). Without either it refuses to
// start, unless -unverified says to serve unsigned pushes, which it then
// announces on stderr: anyone who can reach the receiver could forge the
// notifications that settle calls.
//
// Every listener is a [vcserver.Server] (the SDK's package server)
// with its limits: -max-conns connections at once [256],
// -max-conns-per-addr per client address [64], an idle connection
// closed first to admit a new one, header and body timeouts, bodies
// charged as they arrive. With
// -notify-addr, -notify-allow (comma-separated CIDR prefixes, e.g. the
// platform's push addresses) closes other sources' connections to the
// notification listener. docs/OPERATIONS.md gives the latency of
// /notify and /codes measured under attack.
//
// It listens on 127.0.0.1:8070 by default (the sandbox takes 8080, the
// webhook 8090), prints "listening on http://ADDR" on stderr once it
// accepts connections and shuts down gracefully on SIGINT or SIGTERM.
// Exit status: 0 after a shutdown (or -h), 1 when it cannot serve or
// Redis is unreachable, 2 bad usage. It
// never prints the secret, a code or a full phone number.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
	"github.com/voicecall-go/voicecall/journal"
	"github.com/voicecall-go/voicecall/numberpolicy"
	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/redisstore"
	vcserver "github.com/voicecall-go/voicecall/server"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const (
	maxRequestBytes = 4 << 10
	shutdownTimeout = 10 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("otpserver", "otpserver -display NUMBER -pretone FILE [-redis URL [-journal URL]] [flags]",
		"VOICECALL_BASE_URL, VOICECALL_APP_KEY, VOICECALL_APP_SECRET (the voice verification app's), VOICECALL_OTP_KEY (the codes' MAC key, 32 characters or more)", stderr)
	var (
		cfg        otp.Config
		addr       = fs.String("addr", "127.0.0.1:8070", "address to listen on")
		redisURL   = fs.String("redis", "", "redis:// URL of the shared state (default: in this process)")
		prefix     = fs.String("redis-prefix", redisstore.DefaultPrefix, "prefix of the Redis keys")
		notifyAddr = fs.String("notify-addr", "", "separate address for the platform's notifications (default: the main listener)")
		notifyPath = fs.String("notify-path", "/voicecall/notify", "path of the notification receiver")
		notifyURL  = fs.String("notify-url", "", "URL sent as statusUrl and feeUrl in every call (default: the console's)")
		clientCap  = fs.Int("client-cap", otp.DefaultPerClient, "codes per client IP per hour (0: no cap)")
		cooldown   = fs.Duration("cooldown", otp.DefaultCooldown, "least time between two codes to one number")
		trusted    = fs.String("trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client (default: none, the remote address is the client)")
		recordOnly = fs.Bool("record-only", false, "the guard reports what it would refuse (in the log) without refusing")
		countries  = fs.String("countries", "CN", "comma-separated ISO 3166-1 codes of the countries whose numbers may be called")
		verifyURL  = fs.String("verify-url", "", "comma-separated push URLs as configured at the platform, to verify pushes' X-AKSK (default: -notify-url)")
		unverified = fs.Bool("unverified", false, "serve unsigned pushes (anyone who can reach the receiver can then forge notifications)")
		journalURL = fs.String("journal", "", "redis:// URL of a notification journal: /notify stores each notification there before answering 200, and a consumer settles calls from it (needs -redis)")
		group      = fs.String("journal-group", "otpserver", "with -journal: the consumer group of the instances that settle calls")
		consume    = fs.Bool("consume", true, "with -journal: settle calls from the journal in this instance (false: only append to it)")
		notifyNets = fs.String("notify-allow", "", "with -notify-addr: comma-separated source networks (CIDR) whose connections the notification listener serves (default: any)")
		limits     = vcserver.Config{MaxConns: vcserver.DefaultMaxConns, MaxConnsPerAddr: vcserver.DefaultMaxConnsPerAddr}
	)
	fs.IntVar(&limits.MaxConns, "max-conns", limits.MaxConns, "most connections at once per listener; when full, an idle one is closed to admit a new one")
	fs.IntVar(&limits.MaxConnsPerAddr, "max-conns-per-addr", limits.MaxConnsPerAddr, "most connections at once from one client address")
	fs.StringVar(&cfg.DisplayNumber, "display", "", "display number (displayNbr), e.g. +8675528000088")
	fs.StringVar(&cfg.PreTone, "pretone", "", "approved audio file played before the code")
	fs.IntVar(&cfg.LanguageType, "lang", voicecall.LanguageChinese, "language type (2: Chinese)")
	if status, ok := cli.Parse(fs, args); !ok {
		return status
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "otpserver: "+format+"\n", a...)
		return exitUsage
	}
	if cfg.DisplayNumber == "" || cfg.PreTone == "" {
		return usage("-display and -pretone are required")
	}
	if *journalURL != "" && *redisURL == "" {
		return usage("-journal needs -redis: the journal's consumer, in any instance, settles the verifications all instances share")
	}
	if *journalURL != "" && *group == "" {
		return usage("-journal-group must not be empty")
	}
	if !strings.HasPrefix(*notifyPath, "/") {
		return usage("-notify-path must start with /")
	}
	if limits.MaxConns < 1 || limits.MaxConnsPerAddr < 1 {
		return usage("-max-conns and -max-conns-per-addr must be positive")
	}
	notifyAllow, err := parseNetworks("-notify-allow", *notifyNets)
	switch {
	case err != nil:
		return usage("%v", err)
	case len(notifyAllow) > 0 && *notifyAddr == "":
		return usage("-notify-allow needs -notify-addr (the main listener serves /codes to everyone)")
	}
	pushURLs := splitList(*verifyURL)
	if len(pushURLs) == 0 {
		pushURLs = splitList(*notifyURL)
	}
	if len(pushURLs) == 0 && !*unverified {
		return usage("give -verify-url (or -notify-url), the push URL as configured at the platform, to verify pushes; or -unverified")
	}
	client, err := voicecall.NewClient(getenv("VOICECALL_BASE_URL"), getenv("VOICECALL_APP_KEY"), getenv("VOICECALL_APP_SECRET"))
	if err != nil {
		return usage("%v (set VOICECALL_BASE_URL, VOICECALL_APP_KEY and VOICECALL_APP_SECRET)", err)
	}
	cfg.Client = client
	cfg.Key = []byte(getenv("VOICECALL_OTP_KEY"))
	switch {
	case len(cfg.Key) == 0 && *redisURL != "":
		return usage("-redis needs VOICECALL_OTP_KEY, the same on every instance")
	case len(cfg.Key) == 0:
		cfg.Key = make([]byte, 32)
		_, _ = rand.Read(cfg.Key)
		fmt.Fprintln(stderr, "otpserver: VOICECALL_OTP_KEY not set: using a random key, codes do not survive a restart")
	case len(cfg.Key) < otp.MinKeyLen:
		return usage("VOICECALL_OTP_KEY must be at least %d characters", otp.MinKeyLen)
	}
	cfg.StatusURL, cfg.FeeURL = *notifyURL, *notifyURL
	proxies, err := parseNetworks("-trusted-proxies", *trusted)
	if err != nil {
		return usage("%v", err)
	}
	if *clientCap <= 0 {
		cfg.Guard.PerClient = -1
	} else {
		cfg.Guard.PerClient = *clientCap
	}
	cfg.Guard.RecordOnly = *recordOnly
	numbers, err := numberpolicy.New(numberpolicy.Config{Countries: splitList(*countries)})
	if err != nil {
		return usage("-countries: %v", err)
	}
	cfg.Numbers = numbers
	if *cooldown <= 0 {
		cfg.Guard.Cooldown = -1
	} else {
		cfg.Guard.Cooldown = *cooldown
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg.Hooks.Refused = func(_ context.Context, e otp.RefusedEvent) {
		if e.RecordOnly {
			// Not the range: with the last 4 digits other logs keep, it
			// would make a whole number.
			logger.Info("record-only: the guard would refuse", "reason", e.Detail, "country", e.Country)
		}
	}
	hcfg := voicecall.HandlerConfig{Logger: logger}
	var redisStore *redisstore.Store
	if *redisURL != "" {
		st, err := redisstore.Open(*redisURL, redisstore.WithPrefix(*prefix))
		if err != nil {
			return usage("-redis: %v", err)
		}
		defer st.Close()
		if err := cli.CheckRedis(ctx, "-redis", *redisURL, func(ctx context.Context) error { return st.Client().Ping(ctx).Err() }); err != nil {
			fmt.Fprintln(stderr, "otpserver:", err)
			return exitFail
		}
		cfg.Store = st.OTPStore()
		hcfg.Dedup = st.DedupStore(0, 0) // a CDR re-pushed to another instance is handled once
		redisStore = st
	}
	lc, err := otp.New(cfg)
	if err != nil {
		return usage("%s", flagProblems(err))
	}
	var stl *settler
	if *journalURL == "" {
		hcfg.OnStatus, hcfg.OnFee = lc.ObserveStatus, lc.ObserveFee
	} else {
		js := redisStore
		if *journalURL != *redisURL {
			if js, err = redisstore.Open(*journalURL, redisstore.WithPrefix(*prefix)); err != nil {
				return usage("-journal: %v", err)
			}
			defer js.Close()
			if err := cli.CheckRedis(ctx, "-journal", *journalURL, func(ctx context.Context) error { return js.Client().Ping(ctx).Err() }); err != nil {
				fmt.Fprintln(stderr, "otpserver:", err)
				return exitFail
			}
		}
		j, err := js.Journal(journal.Config{})
		if err != nil {
			return usage("-journal: %v", err)
		}
		if err := j.CheckDurability(ctx); err != nil {
			fmt.Fprintln(stderr, "otpserver: WARNING:", err)
		}
		hcfg.Journal, hcfg.Dedup = j, nil // the journal keeps a second copy of a record out by its key
		if *consume {
			stl = newSettler(j, js, lc, *prefix, *group, logger)
		}
	}
	if !*unverified {
		hcfg.Verification = &voicecall.PushVerification{
			AppSecret:      getenv("VOICECALL_APP_SECRET"),
			AppKey:         getenv("VOICECALL_APP_KEY"),
			URLs:           pushURLs,
			CreatedOffsets: []time.Duration{0, 8 * time.Hour}, // UTC or Beijing time: Huawei's pages give both
		}
	}
	notify, err := voicecall.NewHandler(hcfg)
	if err != nil && hcfg.Verification != nil {
		return usage("-verify-url: %v", err)
	} else if err != nil {
		return usage("%v", err)
	}

	api := &server{lc: lc, log: logger, proxies: proxies}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /codes", api.send)
	mux.HandleFunc("POST /codes/check", api.check)
	limits.Logger = logger
	mainSrv, err := vcserver.New(cli.LogNotFound(mux, logger), limits)
	if err != nil {
		return usage("%v", err)
	}
	servers := []*vcserver.Server{mainSrv}
	addrs := []string{*addr}
	if *notifyAddr == "" {
		mux.Handle(*notifyPath, notify)
	} else {
		nmux := http.NewServeMux()
		nmux.Handle(*notifyPath, notify)
		nlimits := limits
		nlimits.AllowedNetworks = notifyAllow
		ns, err := vcserver.New(cli.LogNotFound(nmux, logger), nlimits)
		if err != nil {
			return usage("%v", err)
		}
		servers = append(servers, ns)
		addrs = append(addrs, *notifyAddr)
	}
	if *unverified {
		fmt.Fprintln(stderr, "otpserver: WARNING: push signatures are NOT verified (-unverified): anyone who can reach "+*notifyPath+" can forge notifications")
	}
	if stl == nil {
		return serve(ctx, servers, addrs, stderr)
	}
	sctx, stopSettler := context.WithCancel(ctx)
	settled := make(chan struct{})
	go func() {
		defer close(settled)
		if err := stl.run(sctx); err != nil { // only an invalid consumer, which the flags' checks rule out
			logger.Error("journal: consumer not started", "err", err)
		}
	}()
	fmt.Fprintf(stderr, "settling calls from the journal as group %s, consumer %s\n", stl.group, stl.name)
	code := serve(ctx, servers, addrs, stderr)
	stopSettler()
	<-settled
	return code
}

// flagOf names the flag of each field of the call otp places.
var flagOf = map[string]string{"displayNbr": "-display", "preTone": "-pretone", "languageType": "-lang"}

// flagProblems says err in terms of flags when it is a ValidationError
// of fields the flags set.
func flagProblems(err error) string {
	var verr *voicecall.ValidationError
	if !errors.As(err, &verr) {
		return err.Error()
	}
	var out []string
	for _, f := range verr.Fields {
		name, ok := flagOf[f.Field]
		if !ok {
			return err.Error()
		}
		out = append(out, name+": "+f.Problem)
	}
	return strings.Join(out, "; ")
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parseNetworks parses flag's comma-separated list of CIDR prefixes
// ("" for none).
func parseNetworks(flag, list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range splitList(list) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a CIDR prefix (e.g. 192.0.2.0/24)", flag, f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// serve runs every server until ctx is done or one fails.
func serve(ctx context.Context, servers []*vcserver.Server, addrs []string, stderr io.Writer) int {
	lns := make([]net.Listener, 0, len(addrs))
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			fmt.Fprintln(stderr, "otpserver:", err)
			return exitFail
		}
		lns = append(lns, ln)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		fmt.Fprintf(stderr, "listening on http://%s\n", lns[i].Addr())
		go func() { errc <- srv.Serve(lns[i]) }()
	}
	code := exitOK
	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "otpserver:", err)
		code = exitFail
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(sctx)
	}
	return code
}

type server struct {
	lc      *otp.Lifecycle
	log     *slog.Logger
	proxies []netip.Prefix // trusted reverse proxies
}

type codeRequest struct {
	Phone string `json:"phone"`
	ID    string `json:"id"`
	Code  string `json:"code"`
}

func (s *server) decode(w http.ResponseWriter, r *http.Request) (codeRequest, bool) {
	var req codeRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	dec.DisallowUnknownFields() // a misspelt field is named, not ignored
	if err := dec.Decode(&req); err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"error": "body must be a JSON object", "reason": fmt.Sprintf("%.120s", err.Error())})
		return req, false
	}
	return req, true
}

func (s *server) send(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	if req.Phone == "" {
		reply(w, http.StatusBadRequest, map[string]any{"error": "invalid phone number", "reason": `missing: the body needs "phone"`})
		return
	}
	sent, err := s.lc.Send(r.Context(), req.Phone, s.client(r))
	var (
		refused *otp.RefusedError
		dest    *otp.DestinationError
		apiErr  *voicecall.APIError
	)
	switch {
	case err == nil && sent.Outcome == voicecall.OutcomeUnknown:
		reply(w, http.StatusAccepted, map[string]any{"id": sent.ID, "status": "pending", "expiresAt": sent.ExpiresAt.UTC().Format(time.RFC3339)})
	case err == nil:
		reply(w, http.StatusAccepted, map[string]any{"id": sent.ID, "status": "sent", "expiresAt": sent.ExpiresAt.UTC().Format(time.RFC3339)})
	case errors.As(err, &dest) && errors.Is(err, otp.ErrDestinationNotAllowed):
		reply(w, http.StatusForbidden, map[string]any{"error": "destination not allowed", "reason": dest.Reason})
	case errors.As(err, &dest):
		reply(w, http.StatusBadRequest, map[string]any{"error": "invalid phone number", "reason": dest.Reason})
	case errors.Is(err, otp.ErrInvalidNumber):
		reply(w, http.StatusBadRequest, map[string]any{"error": "invalid phone number", "reason": "not a telephone number"})
	case errors.As(err, &refused):
		secs := otp.RetryAfterSeconds(refused.RetryAfter)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		reply(w, http.StatusTooManyRequests, map[string]any{"error": "too many codes", "reason": refused.Reason.String(), "retryAfter": secs})
	case errors.As(err, &apiErr):
		s.log.Warn("platform rejected the call", "resultcode", string(apiErr.Code), "resultdesc", apiErr.Description)
		reply(w, http.StatusBadGateway, map[string]any{"error": "the platform rejected the call", "resultcode": string(apiErr.Code)})
	case isRequestError(err):
		s.log.Warn("call not sent", "err", err)
		reply(w, http.StatusBadGateway, map[string]any{"error": "the call could not be sent"})
	default:
		s.log.Error("send failed", "err", err)
		reply(w, http.StatusInternalServerError, map[string]any{"error": "internal error"})
	}
}

// isRequestError reports whether err is CallVerify's own: a request
// that was never sent (an error of the lifecycle's stores is not).
func isRequestError(err error) bool {
	var rerr *voicecall.RequestError
	return errors.As(err, &rerr)
}

func (s *server) check(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	err := s.lc.Check(r.Context(), req.ID, req.Code, s.client(r))
	var (
		wrong   *otp.WrongCodeError
		refused *otp.RefusedError
	)
	switch {
	case err == nil:
		reply(w, http.StatusOK, map[string]any{"valid": true})
	case errors.As(err, &wrong):
		reply(w, http.StatusUnprocessableEntity, map[string]any{"valid": false, "attemptsLeft": wrong.AttemptsLeft})
	case errors.Is(err, otp.ErrMalformedCode):
		reply(w, http.StatusBadRequest, map[string]any{"valid": false, "error": "malformed code: must be the code's digits"})
	case errors.Is(err, otp.ErrTooManyChecks):
		reply(w, http.StatusTooManyRequests, map[string]any{"valid": false, "error": "too many checks: ask for a new code"})
	case errors.As(err, &refused):
		secs := otp.RetryAfterSeconds(refused.RetryAfter)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		reply(w, http.StatusTooManyRequests, map[string]any{"valid": false, "error": "too many checks from this client", "retryAfter": secs})
	case errors.Is(err, otp.ErrNoCode):
		reply(w, http.StatusGone, map[string]any{"valid": false, "error": "unknown, expired or used verification"})
	default:
		s.log.Error("check failed", "err", err)
		reply(w, http.StatusInternalServerError, map[string]any{"error": "internal error"})
	}
}

// client returns the address of the client of r: the remote address,
// or, when that is a trusted proxy, the last address of
// X-Forwarded-For that is not a trusted proxy (the one the nearest
// trusted proxy saw; anything left of it may be forged by the client).
func (s *server) client(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(addr) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host // a malformed hop: trust nothing further left
		}
		if !s.trusted(a) {
			return a.Unmap().String()
		}
	}
	return host
}

func (s *server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func reply(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
