package main

// The -tls mode: the sandbox serves HTTPS with a certificate it makes at
// start-up, signed by an ephemeral certificate authority whose
// certificate it writes to a file for clients to trust.
//
// TLS is terminated in front of the fake platform, connection for
// connection: each accepted TLS connection is forwarded to the fake's
// plain-HTTP loopback listener over a connection of its own, and closed
// when the fake closes its side. The fake's connection behaviour (it
// closes the connection after every answer, as the platform does) is
// therefore what a TLS client sees, and a client that resumes TLS
// sessions (the SDK) can be told apart from one that does a full
// handshake per call (the PHP sample).

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// defaultTLSAddr is the address -tls listens on when -addr is not given.
const defaultTLSAddr = "127.0.0.1:8443"

// tlsFlags are the flags of the TLS mode.
type tlsFlags struct {
	enabled bool
	hosts   string
	caPath  string
}

// addTLSFlags defines -tls, -tls-hosts and -tls-ca on fs.
func addTLSFlags(fs *flag.FlagSet) *tlsFlags {
	f := &tlsFlags{}
	fs.BoolVar(&f.enabled, "tls", false, "serve HTTPS with a generated certificate (default address "+defaultTLSAddr+")")
	fs.StringVar(&f.hosts, "tls-hosts", "sandbox,localhost,127.0.0.1,::1", "with -tls: comma-separated DNS names and IP addresses the certificate is valid for")
	fs.StringVar(&f.caPath, "tls-ca", "sandbox-ca.pem", "with -tls: file the CA certificate is written to (PEM), for clients to trust")
	return f
}

// sandboxCerts is what generateCerts makes.
type sandboxCerts struct {
	leaf  tls.Certificate // the server's certificate and key, with the CA after it
	caPEM []byte          // the CA certificate, PEM-encoded
	names []string        // the names and addresses the leaf is valid for
}

// generateCerts makes an ephemeral CA and a server certificate it signs,
// valid for hosts (DNS names or IP addresses) from an hour before now for
// 30 days. The CA's private key is dropped once the leaf is signed, so
// nothing else can ever be signed with it.
func generateCerts(hosts []string, now time.Time) (*sandboxCerts, error) {
	var dns []string
	var ips []net.IP
	var names []string
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		names = append(names, h)
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, h)
		}
	}
	if len(names) == 0 {
		return nil, errors.New("-tls-hosts: no name or address")
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial := func() (*big.Int, error) { return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)) }
	caSerial, err := serial()
	if err != nil {
		return nil, err
	}
	leafSerial, err := serial()
	if err != nil {
		return nil, err
	}
	notBefore, notAfter := now.Add(-time.Hour), now.Add(30*24*time.Hour)
	caTmpl := &x509.Certificate{
		SerialNumber:          caSerial,
		Subject:               pkix.Name{Organization: []string{"voicecall sandbox"}, CommonName: "voicecall sandbox ephemeral CA"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: leafSerial,
		Subject:      pkix.Name{Organization: []string{"voicecall sandbox"}, CommonName: names[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	return &sandboxCerts{
		leaf:  tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey},
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		names: names,
	}, nil
}

// tlsFront accepts TLS connections and forwards each one to a plain TCP
// backend.
type tlsFront struct {
	ln      net.Listener
	backend string
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closed  bool
}

// startTLSFront listens on addr with cert and forwards every connection
// to backend (host:port).
func startTLSFront(addr, backend string, cert tls.Certificate) (*tlsFront, error) {
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
	ln, err := tls.Listen("tcp", addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	f := &tlsFront{ln: ln, backend: backend, conns: make(map[net.Conn]struct{})}
	f.wg.Add(1)
	go f.accept()
	return f, nil
}

// Addr is the address the front listens on.
func (f *tlsFront) Addr() net.Addr { return f.ln.Addr() }

// track records c as open, or reports false when the front is closed.
func (f *tlsFront) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *tlsFront) untrack(c net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.conns, c)
}

func (f *tlsFront) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return // closed
		}
		if !f.track(c) {
			c.Close()
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer f.untrack(c)
			f.forward(c.(*tls.Conn))
		}()
	}
}

// forward completes the handshake on c, then copies bytes both ways
// between c and a new backend connection until either side closes.
func (f *tlsFront) forward(c *tls.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		return // a client that does not trust the CA ends here
	}
	_ = c.SetDeadline(time.Time{})
	b, err := net.DialTimeout("tcp", f.backend, 5*time.Second)
	if err != nil {
		return
	}
	if !f.track(b) {
		b.Close()
		return
	}
	defer f.untrack(b)
	defer b.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(b, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, b); done <- struct{}{} }()
	<-done // the first side to close ends the pair, as a closed socket would
	c.Close()
	b.Close()
	<-done
}

// Close stops accepting, closes every open connection and waits for the
// forwarding goroutines.
func (f *tlsFront) Close() {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.ln.Close()
	f.wg.Wait()
}

// setupTLS generates the certificates, writes the CA file and starts the
// front on addr forwarding to backend. It returns the front, the
// sandbox's https URL and the lines telling clients how to trust it.
func setupTLS(tf *tlsFlags, addr, backend string) (*tlsFront, string, []string, error) {
	certs, err := generateCerts(strings.Split(tf.hosts, ","), time.Now())
	if err != nil {
		return nil, "", nil, err
	}
	caPath, err := filepath.Abs(tf.caPath)
	if err != nil {
		return nil, "", nil, err
	}
	if err := os.WriteFile(caPath, certs.caPEM, 0o644); err != nil {
		return nil, "", nil, fmt.Errorf("-tls-ca: %w", err)
	}
	front, err := startTLSFront(addr, backend, certs.leaf)
	if err != nil {
		return nil, "", nil, err
	}
	url := "https://" + front.Addr().String()
	if ap, err := netip.ParseAddrPort(front.Addr().String()); err == nil && ap.Addr().IsUnspecified() {
		// Listening on every interface: name the sandbox as the
		// certificate does (in a compose file, its service name).
		url = "https://" + net.JoinHostPort(certs.names[0], strconv.Itoa(int(ap.Port())))
	}
	help := []string{
		fmt.Sprintf("tls: certificate for %s, signed by an ephemeral CA written to %s", strings.Join(certs.names, ", "), caPath),
		fmt.Sprintf("tls: Go:   pool := x509.NewCertPool(); pool.AppendCertsFromPEM(caPEM) // os.ReadFile(%q)", caPath),
		"tls:       voicecall.NewClient(url, key, secret, voicecall.WithTLSConfig(&tls.Config{RootCAs: pool}))",
		fmt.Sprintf("tls: PHP:  SANDBOX_URL=%s php -d openssl.cafile=%s examples/sandbox/php/voiceVerificationCode.php", url, caPath),
		fmt.Sprintf("tls: curl: curl --cacert %s %s/...", caPath, url),
	}
	return front, url, help, nil
}
