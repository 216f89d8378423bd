// Command webhook receives the notifications Huawei Voice Call pushes —
// call-status events and CDR (fee) batches — with the voicecall SDK's
// [voicecall.Handler], and prints one JSON object per line on stdout for
// each status event, each CDR record and each event of an unknown type:
//
//	go run ./examples/webhook -addr 127.0.0.1:8090
//
// Every line has the keys "kind" ("status", "fee" or "unknown"), "event"
// (the eventType) and "sessionId", then the decoded fields: state codes
// and release points with their descriptions, times in RFC 3339 (UTC),
// durations in seconds. A CDR batch pushed again prints nothing new: the
// handler de-duplicates records for 8 hours.
//
// Phone numbers are printed in full on stdout, because the output is the
// application's own data, meant to be piped into its storage. The log
// lines on stderr (refused requests, failed callbacks) come from the SDK
// and keep only the last four digits of phone numbers; X-AKSK values are
// never logged.
//
// The server sets ReadHeaderTimeout 5 s, ReadTimeout 15 s, WriteTimeout
// 15 s, IdleTimeout 60 s and MaxHeaderBytes 64 KiB, and shuts down
// gracefully on SIGINT or SIGTERM. It prints "listening on http://ADDR"
// on stderr once it accepts connections.
//
// Signed pushes: with -verify-url set to the push URL exactly as given to
// the platform, and the app secret in VOICECALL_APP_SECRET (and
// optionally the app key in VOICECALL_APP_KEY), pushes without a valid
// X-AKSK header are answered 401. Huawei's documents disagree on whether
// the platform signs pushes; leave it off unless yours do.
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
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/voicecall-go/voicecall"
)

// limits are the server's timeouts and header bound
// (reliability-and-performance.md §A4).
type limits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
}

var defaultLimits = limits{
	readHeader:     5 * time.Second,  // slowloris
	read:           15 * time.Second, // slow body
	write:          15 * time.Second,
	idle:           60 * time.Second,
	maxHeaderBytes: 64 << 10,
}

const shutdownTimeout = 10 * time.Second

// newServer returns the http.Server that serves h within l.
func newServer(h http.Handler, l limits, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.readHeader,
		ReadTimeout:       l.read,
		WriteTimeout:      l.write,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    l.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		stop()
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	verifyURL := fs.String("verify-url", "", "push URL as configured at the platform; verifies X-AKSK on pushes (needs VOICECALL_APP_SECRET)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	p := &printer{w: stdout}
	cfg := voicecall.HandlerConfig{
		OnStatus:  p.status,
		OnFee:     p.fee,
		OnUnknown: p.unknown,
		Logger:    logger,
	}
	if *verifyURL != "" {
		secret := getenv("VOICECALL_APP_SECRET")
		if secret == "" {
			return errors.New("-verify-url needs the app secret in VOICECALL_APP_SECRET")
		}
		cfg.Verification = &voicecall.PushVerification{
			AppSecret: secret,
			AppKey:    getenv("VOICECALL_APP_KEY"),
			URLs:      []string{*verifyURL},
		}
	}
	h, err := voicecall.NewHandler(cfg)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	srv := newServer(mux, defaultLimits, logger)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "listening on http://%s\n", ln.Addr())
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

// rfc3339 formats t, or returns "" (omitted) for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

type statusLine struct {
	Kind             string `json:"kind"`
	Event            string `json:"event"`
	SessionID        string `json:"sessionId"`
	Timestamp        string `json:"timestamp,omitempty"`
	RawTimestamp     string `json:"rawTimestamp,omitempty"`
	UserData         string `json:"userData,omitempty"`
	Caller           string `json:"caller,omitempty"`
	Called           string `json:"called,omitempty"`
	StateCode        *int   `json:"stateCode,omitempty"`
	StateCodeDesc    string `json:"stateCodeDescription,omitempty"`
	StateDesc        string `json:"stateDesc,omitempty"`
	PartyType        string `json:"partyType,omitempty"`
	DigitInfo        string `json:"digitInfo,omitempty"`
	DisplayCallerNum string `json:"displayCallerNum,omitempty"`
}

func (p *printer) status(_ context.Context, ev *voicecall.StatusEvent) error {
	line := statusLine{
		Kind:             "status",
		Event:            string(ev.Type),
		SessionID:        ev.SessionID,
		Timestamp:        rfc3339(ev.Timestamp),
		RawTimestamp:     ev.RawTimestamp,
		UserData:         ev.UserData,
		Caller:           ev.Caller,
		Called:           ev.Called,
		StateDesc:        ev.StateDesc,
		PartyType:        string(ev.PartyType),
		DigitInfo:        ev.DigitInfo,
		DisplayCallerNum: ev.DisplayCallerNum,
	}
	if ev.HasStateCode {
		code := int(ev.StateCode)
		line.StateCode = &code
		line.StateCodeDesc = ev.StateCode.Description()
	}
	return p.print(line)
}

type feeLine struct {
	Kind                string  `json:"kind"`
	Event               string  `json:"event"`
	SessionID           string  `json:"sessionId"`
	ICID                string  `json:"icid,omitempty"`
	Direction           int     `json:"direction"`
	SPID                string  `json:"spId,omitempty"`
	AppKey              string  `json:"appKey,omitempty"`
	BindNum             string  `json:"bindNum,omitempty"`
	CallerNum           string  `json:"callerNum,omitempty"`
	CalleeNum           string  `json:"calleeNum,omitempty"`
	ServiceType         string  `json:"serviceType,omitempty"`
	ServiceTypeDesc     string  `json:"serviceTypeDescription,omitempty"`
	Answered            bool    `json:"answered"`
	RingSeconds         float64 `json:"ringSeconds"`
	CallSeconds         float64 `json:"callSeconds"`
	CallOutStartTime    string  `json:"callOutStartTime,omitempty"`
	CallOutAlertingTime string  `json:"callOutAlertingTime,omitempty"`
	CallOutAnswerTime   string  `json:"callOutAnswerTime,omitempty"`
	CallEndTime         string  `json:"callEndTime,omitempty"`
	FailTime            string  `json:"failTime,omitempty"`
	ULFailReason        int     `json:"ulFailReason"`
	ULFailReasonDesc    string  `json:"ulFailReasonDescription,omitempty"`
	SIPStatusCode       int     `json:"sipStatusCode,omitempty"`
	CallOutUnaswRsn     int     `json:"callOutUnaswRsn"`
	CallOutUnaswRsnDesc string  `json:"callOutUnaswRsnDescription,omitempty"`
	FwdUnaswRsn         int     `json:"fwdUnaswRsn"`
	FwdUnaswRsnDesc     string  `json:"fwdUnaswRsnDescription,omitempty"`
	FwdDisplayNum       string  `json:"fwdDisplayNum,omitempty"`
	FwdDstNum           string  `json:"fwdDstNum,omitempty"`
	FwdStartTime        string  `json:"fwdStartTime,omitempty"`
	FwdAlertingTime     string  `json:"fwdAlertingTime,omitempty"`
	FwdAnswerTime       string  `json:"fwdAnswerTime,omitempty"`
	DynIVRStartTime     string  `json:"dynIVRStartTime,omitempty"`
	DynIVRPath          string  `json:"dynIVRPath,omitempty"`
	RecordFlag          int     `json:"recordFlag"`
	RecordObjectName    string  `json:"recordObjectName,omitempty"`
	RecordDomain        string  `json:"recordDomain,omitempty"`
	TTSPlayTimes        int     `json:"ttsPlayTimes"`
	TTSTransDuration    int     `json:"ttsTransDuration"`
	HostName            string  `json:"hostName,omitempty"`
	UserData            string  `json:"userData,omitempty"`
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
		BindNum:             r.BindNum,
		CallerNum:           r.CallerNum,
		CalleeNum:           r.CalleeNum,
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
		FwdDisplayNum:       r.FwdDisplayNum,
		FwdDstNum:           r.FwdDstNum,
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
	})
}

type unknownLine struct {
	Kind      string          `json:"kind"`
	Event     string          `json:"event"`
	SessionID string          `json:"sessionId"`
	Raw       json.RawMessage `json:"raw"`
}

func (p *printer) unknown(_ context.Context, ev *voicecall.UnknownEvent) error {
	// The SDK does not know the event's shape; take statusInfo.sessionId
	// if the event has one, as the known status events do.
	var probe struct {
		StatusInfo struct {
			SessionID json.RawMessage `json:"sessionId"`
		} `json:"statusInfo"`
	}
	var sessionID string
	if json.Unmarshal(ev.Raw, &probe) == nil {
		_ = json.Unmarshal(probe.StatusInfo.SessionID, &sessionID) // stays "" unless a string
	}
	return p.print(unknownLine{Kind: "unknown", Event: string(ev.Type), SessionID: sessionID, Raw: ev.Raw})
}
