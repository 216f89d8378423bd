package voicetest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
)

// maxPushAnswer bounds what is read of a receiver's answer.
const maxPushAnswer = 64 << 10

// newPushClient returns the client that pushes notifications: a copy of
// hc when given, else one with its own transport, never following
// redirects, with one connection per push (as the platform's short
// connections) so that nothing lingers after Close. Unless remote is
// true, the own transport dials loopback addresses only (see
// [WithRemotePushes]).
func newPushClient(hc *http.Client, timeout time.Duration, remote bool) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
		if c.Timeout == 0 {
			c.Timeout = timeout
		}
	} else {
		c = http.Client{
			Timeout: timeout,
			Transport: &http.Transport{
				Proxy:                  nil,
				DialContext:            pushDialer(remote),
				TLSHandshakeTimeout:    3 * time.Second,
				ResponseHeaderTimeout:  timeout,
				DisableKeepAlives:      true,
				MaxResponseHeaderBytes: 64 << 10,
			},
		}
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// ErrRemotePush is the error of a push refused because its address is
// not loopback and [WithRemotePushes] was not given (a [Delivery]'s Err
// wraps it).
var ErrRemotePush = errors.New("voicetest: not pushing to a non-loopback address (see WithRemotePushes)")

// pushDialer dials with a timeout; unless remote, only loopback hosts
// ("localhost" or a loopback IP literal), checked before any name lookup
// so that a test never sends a packet off the machine.
func pushDialer(remote bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 3 * time.Second}
	if remote {
		return d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if ip, err := netip.ParseAddr(host); !strings.EqualFold(host, "localhost") && (err != nil || !ip.Unmap().IsLoopback()) {
			return nil, ErrRemotePush
		}
		return d.DialContext(ctx, network, addr)
	}
}

// pushStatus sends one status event; status events are never retried.
func (s *Server) pushStatus(app App, url string, ev statusWire) {
	body, err := json.Marshal(ev)
	if err != nil {
		return // cannot happen: plain strings and ints
	}
	s.post(app, Delivery{Kind: KindStatus, EventType: ev.EventType, URL: url, SessionIDs: []string{ev.StatusInfo.SessionID}, Body: body, Attempt: 1})
}

// feeKey groups CDRs that may share a push: same receiver, same app, same
// end time.
type feeKey struct {
	url, appKey, endTime string
}

type feeGroup struct {
	app  App
	cdrs []cdrWire
	full chan struct{} // closed when the group reaches MaxBatch
}

// queueCDR adds a CDR to the batch of its end time, pushing the batch
// when it is full or when the merge window ends.
func (s *Server) queueCDR(app App, url string, cdr cdrWire) {
	key := feeKey{url: url, appKey: app.Key, endTime: cdr.CallEndTime}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.feeGroups[key]
	if g == nil {
		g = &feeGroup{app: app, full: make(chan struct{})}
		if !s.spawnLocked(func() { s.flushAfter(key, g) }) {
			return
		}
		s.feeGroups[key] = g
	}
	g.cdrs = append(g.cdrs, cdr)
	if len(g.cdrs) >= MaxBatch {
		delete(s.feeGroups, key)
		close(g.full)
	}
}

// flushAfter waits for the merge window (or a full batch) and pushes the
// batch, retrying as the platform does.
func (s *Server) flushAfter(key feeKey, g *feeGroup) {
	t := time.NewTimer(s.cfg.mergeWindow)
	select {
	case <-t.C:
	case <-g.full:
		t.Stop()
	case <-s.ctx.Done():
		t.Stop()
		return
	}
	s.mu.Lock()
	if s.feeGroups[key] == g {
		delete(s.feeGroups, key)
	}
	cdrs := g.cdrs
	s.mu.Unlock()

	body, err := json.Marshal(feeWire{EventType: voicecall.EventFee, FeeLst: cdrs})
	if err != nil {
		return
	}
	sessions := make([]string, len(cdrs))
	for i, c := range cdrs {
		sessions[i] = c.SessionID
	}
	for attempt := 1; attempt <= 1+s.cfg.feeRetries; attempt++ {
		if attempt > 1 && !s.sleep(s.cfg.feeInterval) {
			return
		}
		if d := s.post(g.app, Delivery{Kind: KindFee, EventType: voicecall.EventFee, URL: key.url, SessionIDs: sessions, Body: body, Attempt: attempt}); d.OK() {
			return
		}
		if s.ctx.Err() != nil {
			return
		}
	}
}

// post makes one push attempt of d (Kind, EventType, URL, SessionIDs,
// Body, Attempt and RepushOf set) for app and records it.
func (s *Server) post(app App, d Delivery) Delivery {
	url := d.URL
	d.AppKey, d.Time = app.Key, time.Now()
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.pushTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.Body))
	if err == nil {
		req.Header.Set("Content-Type", jsonContentType)
		req.Header.Set("User-Agent", "voicetest")
		if s.cfg.signLayout != 0 {
			created := aksk.FormatCreated(s.now(), s.cfg.signLocation)
			var nonce string
			if nonce, err = aksk.NewNonce(); err == nil {
				req.Header.Set("Authorization", aksk.AuthorizationValue)
				req.Header[aksk.Header] = []string{`UsernameToken Username="` + app.Key +
					`",PasswordDigest="` + pushDigest(app.Secret, url, nonce, created, s.cfg.signLayout) +
					`",Nonce="` + nonce + `",Created="` + created + `"`}
			}
		}
		d.Header = req.Header.Clone()
	}
	if err == nil {
		var resp *http.Response
		if resp, err = s.push.Do(req); err == nil {
			d.StatusCode = resp.StatusCode
			d.Answer, _ = io.ReadAll(io.LimitReader(resp.Body, MaxDeliveryAnswer))
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxPushAnswer))
			_ = resp.Body.Close()
		}
	}
	d.Latency = time.Since(d.Time)
	d.Err = err
	s.mu.Lock()
	s.deliverySeq++
	d.Seq = s.deliverySeq
	s.deliveries = appendBounded(s.deliveries, d, s.cfg.maxRecords)
	s.notifyLocked()
	s.mu.Unlock()
	if h := s.cfg.hooks.Delivery; h != nil {
		h(d)
	}
	return d
}

// pushDigest is Base64(HMAC-SHA256(secret, message)) with the message laid
// out as Huawei's notification pages say (written here, not borrowed from
// the SDK's verifier).
func pushDigest(secret, url, nonce, created string, layout aksk.PushLayout) string {
	msg := url + nonce + created
	if layout == aksk.PushLayoutNewline {
		msg = url + "\n" + nonce + "\n" + created
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
