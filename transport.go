package voicecall

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// Defaults of the default transport ([NewTransport]).
const (
	defaultDialTimeout           = 3 * time.Second
	defaultTLSHandshakeTimeout   = 5 * time.Second
	defaultResponseHeaderTimeout = 8 * time.Second
)

// NewTransport returns the transport a [Client] uses when it is given no
// [WithHTTPClient]: exported so that callers can wrap it (for tracing or
// metrics) and keep its settings:
//
//	tr := voicecall.NewTransport(nil)
//	c, err := voicecall.NewClient(baseURL, key, secret,
//		voicecall.WithHTTPClient(&http.Client{Transport: wrap(tr)}))
//
// Its settings:
//
//   - one connection per request (DisableKeepAlives). Huawei's pages say
//     every API uses short connections and that the platform closes its
//     side after each answer; a kept-alive connection that the platform
//     has just closed makes the next request fail after it may have been
//     written, an outcome that can only be reported as unknown. Measured
//     with internal/cmd/keepalive against servers that close after each
//     answer, on a loaded 2-core machine: 2.6-14.8 % of sequential calls
//     and 2.9-10.5 % of calls in bursts of 16 (medians about 4 % and 6 %);
//     another machine saw 19.4 % and 29.4 %. The rate depends on the
//     machine's load and on the server, never reaches zero, and short
//     connections fail none of the same calls (docs/RELIABILITY.md).
//     Turn keep-alive on
//     (tr.DisableKeepAlives = false) only for an endpoint you have checked
//     keeps connections open;
//   - TLS certificate verification on, TLS 1.2 or later, and TLS session
//     resumption (a small session cache), which makes a short connection
//     cheap;
//   - dial, TLS handshake and response header timeouts of 3 s, 5 s
//     and 8 s;
//   - no proxy: the library never reads the environment; set Proxy
//     yourself if you need one;
//   - HTTP/1.1 only (ForceAttemptHTTP2 off, no TLSNextProto), the
//     protocol the platform documents.
//
// tlsConfig, when not nil, is cloned and used instead of the default TLS
// settings (to trust a private CA with RootCAs, say); a session cache is
// added when it has none. Certificate verification stays on unless
// tlsConfig turns it off.
func NewTransport(tlsConfig *tls.Config) *http.Transport {
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tlsConfig = tlsConfig.Clone()
	}
	if tlsConfig.ClientSessionCache == nil {
		tlsConfig.ClientSessionCache = tls.NewLRUClientSessionCache(16)
	}
	return &http.Transport{
		DialContext:            (&net.Dialer{Timeout: defaultDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        tlsConfig,
		TLSHandshakeTimeout:    defaultTLSHandshakeTimeout,
		ResponseHeaderTimeout:  defaultResponseHeaderTimeout,
		DisableKeepAlives:      true,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		// A non-nil empty map keeps the transport on HTTP/1.1 even when a
		// caller sets ForceAttemptHTTP2 or a TLS config with "h2".
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
}
