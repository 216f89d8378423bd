package voicecall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/internal/redact"
)

// maxResponseBytes bounds how much of an answer is read; the platform's
// answers are a few hundred bytes.
const maxResponseBytes = 64 << 10

// endpoint describes one API of the platform for [Client.do].
type endpoint struct {
	op     string // the operation's name in errors, logs and hooks, e.g. "CallVerify"
	method string // http.MethodPost or http.MethodGet
	path   string // appended to the base URL, e.g. callVerifyPath
	// idempotent: a second request cannot place a second call (callStop,
	// the recording GET), so the retry policy may resend after an
	// outcome that is unknown.
	idempotent bool
	// redirect: a 3xx answer with a Location header is this API's
	// success answer (the recording GET). It is never followed.
	redirect bool
}

// reply is what a successful platform answer carried besides the
// API's own fields.
type reply struct {
	// ResultDesc is the platform's resultdesc.
	ResultDesc string
	// Location is the Location header of a redirect endpoint's answer.
	Location string
}

// sensitive is implemented by request bodies that carry values which
// must never appear in an error or a log, even when a server echoes them
// back: verification codes, phone numbers, template parameters.
type sensitive interface {
	sensitiveValues() []string
}

// answerChecker is implemented by response types that must check the
// decoded answer (CallVerify's sessionId): an error makes the outcome
// unknown.
type answerChecker interface {
	checkAnswer() error
}

// headed is implemented by response types that decode the answer's
// resultcode and resultdesc themselves, so that the answer is decoded
// once.
type headed interface {
	head() answerHead
}

// do sends one request on ep and classifies the answer. query holds GET
// parameters (or nil); body is marshalled with encoding/json (nil for no
// body); userData is the correlation token the request carries, reported
// on errors. On success it decodes the answer into out (a pointer, or
// nil).
//
// Each attempt is signed afresh. A failed attempt is retried only as the
// retry policy allows (see retry.go): when the request provably never
// left this process, when the platform refused it before processing
// (throttling, clock skew) and the policy asks for it, or, for idempotent
// endpoints, after an outcome that is unknown.
func (c *Client) do(ctx context.Context, ep *endpoint, query url.Values, body any, userData string, out any) (reply, error) {
	var start time.Time
	if c.hooks.CallEnd != nil {
		start = c.now()
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	if c.hooks.CallStart != nil {
		ctx = hookContext(ctx, c.hooks.CallStart, CallInfo{Operation: ep.op, Method: ep.method, Host: c.host, Path: ep.path})
	}

	cl := &callState{ep: ep, userData: userData, url: c.baseURL + ep.path, scrub: scrubber{secret: c.secret(), body: body}}
	if len(query) > 0 {
		cl.url += "?" + query.Encode()
	}
	var rep reply
	var err error
	if body != nil {
		cl.payload, err = marshalBody(body)
		if err != nil {
			err = newRequestError(cl, OutcomeRejected, 0, "", nil, fmt.Errorf("encoding the request: %w", err))
		}
	}
	if err == nil {
		rep, err = c.run(ctx, cl, out)
	}
	c.budget.record(healthy(err))
	if c.hooks.CallEnd != nil {
		end := CallInfo{Operation: ep.op, Method: ep.method, Host: c.host, Path: ep.path,
			Outcome: OutcomeOf(err), Attempts: cl.attempts, Duration: c.now().Sub(start), Err: err}
		if err == nil {
			end.ResultCode = CodeSuccess
		} else if apiErr := apiErrorOf(err); apiErr != nil {
			end.ResultCode = apiErr.Code
		}
		hookEnd(ctx, c.hooks.CallEnd, end)
	}
	return rep, err
}

// healthy reports whether a call's result says the platform is working:
// a success, or a considered refusal other than throttling and clock
// skew. Other failures drain the retry budget.
func healthy(err error) bool {
	if err == nil {
		return true
	}
	apiErr := apiErrorOf(err)
	return OutcomeOf(err) == OutcomeRejected && apiErr != nil && !apiErr.IsThrottled() && !apiErr.IsClockSkew()
}

// apiErrorOf returns the *APIError in err's chain, or nil.
func apiErrorOf(err error) *APIError {
	if err == nil {
		return nil
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	return nil
}

// callState is one call on an endpoint, across its attempts.
type callState struct {
	ep       *endpoint
	url      string
	payload  []byte
	userData string
	scrub    scrubber
	attempts int
	skew     time.Duration // added to the clock for Created, learnt from a clock-skew answer
}

// run makes the attempts of one call.
func (c *Client) run(ctx context.Context, cl *callState, out any) (reply, error) {
	var backoff time.Duration
	retried := retryCounts{}
	for {
		cl.attempts++
		res := c.attempt(ctx, cl, out)
		if res.err == nil {
			return res.reply, nil
		}
		kind := c.retry.classify(cl.ep, res)
		if kind == noRetry || !retried.allow(kind) || cl.attempts >= c.retry.MaxAttempts {
			return res.reply, res.err
		}
		var wait time.Duration
		if kind != retryClockSkew {
			// A clock-skew answer is resent at once, with the clock corrected.
			ceiling := c.retry.BaseDelay << (cl.attempts - 1)
			wait = time.Duration(c.jit(int64(ceiling)))
			if backoff+wait > c.retry.MaxBackoff {
				return res.reply, res.err
			}
		}
		if dl, ok := ctx.Deadline(); ok && c.now().Add(wait).After(dl) {
			return res.reply, res.err
		}
		if !c.budget.take() {
			c.debug(ctx, "voicecall: retry budget exhausted, not retrying", slog.String("op", cl.ep.op), slog.Int("attempt", cl.attempts))
			return res.reply, res.err
		}
		if kind == retryClockSkew {
			cl.skew = res.skew
		}
		backoff += wait
		c.debug(ctx, "voicecall: retrying", slog.String("op", cl.ep.op), slog.Int("attempt", cl.attempts),
			slog.String("reason", kind.String()), slog.Duration("wait", wait), slog.String("error", res.err.Error()))
		if wait > 0 && c.sleep(ctx, wait) != nil {
			return res.reply, res.err
		}
	}
}

// connTrace records whether an attempt obtained a connection (before
// that, not a byte of the request can have been written) and whether it
// was reused. A fresh one per attempt: httptrace.WithClientTrace composes
// it with any trace the caller put on the context, for this request
// alone. The HTTP/2 transport may call GotConn from another goroutine.
type connTrace struct {
	trace             httptrace.ClientTrace
	connected, reused atomic.Bool
}

// Header values every request shares, read-only.
var (
	contentTypeValues   = []string{jsonContentType}
	authorizationValues = []string{aksk.AuthorizationValue}
	acceptValues        = []string{"application/json"}
)

// attemptResult is how one HTTP attempt ended.
type attemptResult struct {
	reply reply
	err   error
	// connected: a connection was obtained, so the request may have been
	// written.
	connected bool
	// skew is the platform's clock (from the answer's Date header) minus
	// ours, when the answer carried one.
	skew time.Duration
}

// attempt makes one HTTP attempt.
func (c *Client) attempt(ctx context.Context, cl *callState, out any) attemptResult {
	start := c.now()
	n := cl.attempts
	info := AttemptInfo{Operation: cl.ep.op, Attempt: n, Method: cl.ep.method, Host: c.host, Path: cl.ep.path}
	actx := ctx
	if c.hooks.AttemptStart != nil {
		actx = hookContext(ctx, c.hooks.AttemptStart, info)
	}
	res := c.send(actx, cl, out, start, &info)
	if c.hooks.AttemptEnd != nil {
		info.Duration = c.now().Sub(start)
		info.Err = res.err
		info.ErrorClass = errorClass(res.err)
		hookEnd(actx, c.hooks.AttemptEnd, info)
	}
	c.logResult(ctx, cl, n, start, info.StatusCode, res.err)
	return res
}

// send signs, sends and reads one attempt, filling info's status and
// connection facts.
func (c *Client) send(ctx context.Context, cl *callState, out any, now time.Time, info *AttemptInfo) attemptResult {
	header, sig := c.signer.Sign(now.Add(cl.skew))
	// An answer echoes the attempt it answers: scrub that one's digest
	// and nonce.
	cl.scrub.digest, cl.scrub.nonce = sig.PasswordDigest, sig.Nonce

	tr := &connTrace{}
	tr.trace.GotConn = func(ci httptrace.GotConnInfo) {
		tr.reused.Store(ci.Reused)
		tr.connected.Store(true)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, &tr.trace), cl.ep.method, cl.url, nil)
	if err != nil {
		return attemptResult{err: newRequestError(cl, OutcomeRejected, 0, "", nil, err)}
	}
	if cl.payload != nil {
		// Not http.NewRequest's body: that sets GetBody, and a transport
		// that can rewind the body may send the request again on its own
		// (Go's HTTP/2 transport does, after a stream reset). Without
		// GetBody no transport can replay a request whose body was read.
		req.Body = io.NopCloser(bytes.NewReader(cl.payload))
		req.ContentLength = int64(len(cl.payload))
		req.Header["Content-Type"] = contentTypeValues
	} else {
		req.Body = emptyBody{} // a GET: see emptyBody
	}
	// Shared read-only slices: neither the transport nor http.Client
	// modifies a request's header values.
	req.Header["Authorization"] = authorizationValues
	req.Header["Accept"] = acceptValues
	req.Header["User-Agent"] = c.userAgentValues
	req.Header[aksk.Header] = []string{header} // written as documented, not canonicalised to X-Aksk
	if c.logger.Enabled(ctx, slog.LevelDebug) {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "voicecall: sending", slog.String("op", cl.ep.op), slog.Int("attempt", cl.attempts), slog.String("userData", cl.userData))
	}

	resp, err := c.hc.Do(req)
	info.ConnReused = tr.reused.Load()
	if err != nil {
		err = unwrapURLError(err)
		if !tr.connected.Load() {
			// No connection, so not a byte of the request was written.
			return attemptResult{err: newRequestError(cl, OutcomeRejected, 0, "", nil, err)}
		}
		if isClientCertificateRefusal(err) {
			// In TLS 1.3 the client's side of the handshake ends before
			// the server checks the client's certificate, so the request
			// is written, and the server's refusal arrives instead of the
			// answer: it never read the request.
			return attemptResult{connected: true, err: newRequestError(cl, OutcomeRejected, 0, "", nil, fmt.Errorf("the server refused the TLS handshake: %w", err))}
		}
		return attemptResult{connected: true, err: newRequestError(cl, OutcomeUnknown, 0, "", nil, fmt.Errorf("no answer after the request was sent: %w", err))}
	}
	defer resp.Body.Close()
	info.StatusCode = resp.StatusCode
	res := attemptResult{connected: true}
	ct := resp.Header.Get("Content-Type")
	if resp.StatusCode < 200 {
		// A 101's body is the connection itself: never read it.
		res.reply, res.err = classify(cl, resp.StatusCode, resp.Header, nil, out)
		return res
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	switch {
	case err != nil:
		res.err = newRequestError(cl, OutcomeUnknown, resp.StatusCode, ct, body, fmt.Errorf("reading the answer: %w", unwrapURLError(err)))
	case len(body) > maxResponseBytes:
		res.err = newRequestError(cl, OutcomeUnknown, resp.StatusCode, ct, body, fmt.Errorf("answer larger than %d bytes", maxResponseBytes))
	default:
		res.reply, res.err = classify(cl, resp.StatusCode, resp.Header, body, out)
	}
	if apiErr := apiErrorOf(res.err); apiErr != nil && apiErr.IsClockSkew() {
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			res.skew = d.Sub(c.now())
		}
	}
	return res
}

// emptyBody is the body of a request that carries none (the GETs of
// [Client.RecordingURL] and [Client.DownloadRecording]). Not nil and not
// http.NoBody: Go's transports send again, on their own and unseen by
// the retry policy, a request whose body is nil, NoBody or rewindable
// (GetBody), when it is a GET or carries an Idempotency-Key: HTTP/1
// after a kept-alive connection fails, HTTP/2 after a stream is reset or
// refused or the connection goes away (one GET once reached a server
// that resets every stream about 1,600 times in 2 s). A body they cannot
// rewind makes them return the error instead, so every request on the
// wire is an attempt the retry policy counted. On the wire nothing
// changes for HTTP/1 (the transport finds the body empty and sends
// none); HTTP/2 ends the request with an empty DATA frame.
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyBody) Close() error             { return nil }

// answerHead is the part of every platform answer that classification
// reads.
type answerHead struct {
	ResultCode string `json:"resultcode"`
	ResultDesc string `json:"resultdesc"`
}

// classify turns an HTTP answer into a reply or an error, the same way
// for every API. It never returns a nil error unless the status is 2xx
// and resultcode is "0" (or, for a redirect endpoint, the answer is a
// redirect with a Location), and the answer decodes into out.
func classify(cl *callState, status int, header http.Header, body []byte, out any) (reply, error) {
	ct := header.Get("Content-Type")
	fail := func(outcome Outcome, err error) (reply, error) {
		return reply{}, newRequestError(cl, outcome, status, ct, body, err)
	}
	switch {
	case status < 200:
		// 101 Switching Protocols is the only 1xx a client returns: no
		// platform answer, and the request was sent.
		return fail(OutcomeUnknown, fmt.Errorf("informational http status %d is not an answer", status))
	case status < 400 && status >= 300:
		if loc := header.Get("Location"); cl.ep.redirect && loc != "" {
			return reply{Location: loc}, nil
		}
		return fail(OutcomeRejected, errors.New("redirect not followed: check the base URL"))
	}
	var head answerHead
	decodedOut := false
	if h, ok := out.(headed); ok && json.Unmarshal(body, out) == nil {
		head, decodedOut = h.head(), true
	}
	var decodeErr error
	if !decodedOut {
		// Without a headed response, or when the API's fields did not
		// decode (the head may still tell a rejection), read the head alone.
		decodeErr = json.Unmarshal(body, &head)
	}
	switch {
	case status == http.StatusTooManyRequests && (decodeErr != nil || head.ResultCode == ""):
		// Refused before processing, by the platform or a gateway in front.
		return fail(OutcomeRejected, errThrottled)
	case isHTML(ct):
		return fail(OutcomeUnknown, errors.New("the answer is an HTML page, not a platform answer"))
	case decodeErr != nil:
		return fail(OutcomeUnknown, fmt.Errorf("the answer is not a platform answer: %w", jsonProblemError(decodeErr)))
	case head.ResultCode == "":
		return fail(OutcomeUnknown, errors.New("the answer has no resultcode"))
	}
	if code := ResultCode(head.ResultCode); code != CodeSuccess {
		apiErr := &APIError{Op: cl.ep.op, HTTPStatus: status, Code: ResultCode(sanitizeCode(head.ResultCode)),
			Description: cl.scrub.snippet([]byte(head.ResultDesc)), Body: cl.scrub.snippet(body), UserData: cl.userData}
		if status >= 500 {
			return fail(OutcomeUnknown, apiErr)
		}
		return reply{}, apiErr
	}
	if status >= 300 {
		return fail(OutcomeUnknown, fmt.Errorf("resultcode 0 with http status %d", status))
	}
	if out != nil && !decodedOut {
		if err := json.Unmarshal(body, out); err != nil {
			return fail(OutcomeUnknown, fmt.Errorf("the answer has resultcode 0 but does not decode: %w", jsonProblemError(err)))
		}
	}
	if ch, ok := out.(answerChecker); ok {
		if err := ch.checkAnswer(); err != nil {
			return fail(OutcomeUnknown, err)
		}
	}
	return reply{ResultDesc: head.ResultDesc}, nil
}

// jsonProblemError describes a JSON decoding error without quoting the
// input: encoding/json's texts can carry a value from the answer.
func jsonProblemError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Errorf("field %q has the wrong JSON type (%s)", typeErr.Field, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("malformed JSON at byte %d", syntaxErr.Offset)
	}
	return errors.New("malformed JSON")
}

// marshalBody encodes a request body as encoding/json does, without
// escaping <, > and & (the platform expects them verbatim).
func marshalBody(body any) ([]byte, error) {
	out, err := json.Marshal(body)
	if err != nil || !bytes.Contains(out, []byte(`\u00`)) {
		// No escape that SetEscapeHTML(false) would write differently
		// (<, > and & are the only ones, all \u00xx): the same bytes.
		return out, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// errThrottled is the cause of a bare 429.
var errThrottled = errors.New("too many requests")

// requestError builds the error of a failed attempt, with a bounded,
// sanitised and scrubbed snippet of the answer's body.
func newRequestError(cl *callState, outcome Outcome, status int, contentType string, body []byte, err error) *RequestError {
	return &RequestError{Op: cl.ep.op, Outcome: outcome, Attempts: cl.attempts, HTTPStatus: status, ContentType: contentType,
		Body: cl.scrub.snippet(body), UserData: cl.userData, Err: err}
}

// unwrapURLError drops the *url.Error layer, whose text repeats the
// method and URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// isHTML reports whether a Content-Type's media type is text/html (any
// case, parameters ignored).
func isHTML(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/html")
}

// sanitizeCode keeps a result code printable; codes are short decimal
// strings, anything else is cut and cleaned.
func sanitizeCode(s string) string {
	if len(s) <= 16 && allDigits(s) {
		return s
	}
	return snippet([]byte(s))
}

// debug logs at debug level when the logger wants it.
func (c *Client) debug(ctx context.Context, msg string, attrs ...slog.Attr) {
	if c.logger.Enabled(ctx, slog.LevelDebug) {
		c.logger.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
	}
}

func (c *Client) logResult(ctx context.Context, cl *callState, n int, start time.Time, status int, err error) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", cl.ep.op), slog.Int("attempt", n), slog.String("userData", cl.userData),
		slog.Duration("elapsed", c.now().Sub(start)),
	}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if err == nil {
		attrs = append(attrs, slog.String("resultcode", string(CodeSuccess)))
	} else if apiErr := apiErrorOf(err); apiErr != nil {
		attrs = append(attrs, slog.String("resultcode", string(apiErr.Code)))
	}
	if err != nil {
		attrs = append(attrs, slog.String("outcome", OutcomeOf(err).String()), slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "voicecall: result", attrs...)
}

// scrubber removes the values of one call that must never be shown
// (the secret, the attempt's digest and nonce, the request's sensitive
// values) from text that came back from the network, before it goes
// into an error or a log. It gathers the request's values only when an
// error needs them.
type scrubber struct {
	secret        string
	body          any
	digest, nonce string // of the latest attempt
}

// snippet returns a bounded, sanitised copy of b with every recorded
// value replaced by "[redacted]", in whatever form b shows it.
func (s *scrubber) snippet(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	text := string(b[:min(len(b), 4*maxSnippet)])
	vs := []string{s.secret, s.digest, s.nonce}
	if sb, ok := s.body.(sensitive); ok {
		vs = append(vs, sb.sensitiveValues()...)
	}
	// Also in the forms an echo may transform them into: escaped, digits
	// spaced out, numbers in national format (see redact.Scrub).
	return snippet([]byte(redact.Scrub(text, vs)))
}
