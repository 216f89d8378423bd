package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/voicetest"
)

func TestGenerateCerts(t *testing.T) {
	t.Parallel()
	now := time.Now()
	certs, err := generateCerts([]string{"sandbox", " 127.0.0.1", "::1", ""}, now)
	require.NoError(t, err)
	assert.Equal(t, []string{"sandbox", "127.0.0.1", "::1"}, certs.names)

	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(certs.caPEM))
	leaf, err := x509.ParseCertificate(certs.leaf.Certificate[0])
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"sandbox", true},
		{"127.0.0.1", true},
		{"::1", true},
		{"other.example", false},
		{"10.0.0.1", false},
	} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: tc.name, Roots: pool, CurrentTime: now})
		assert.Equal(t, tc.ok, err == nil, "%s: %v", tc.name, err)
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: x509.NewCertPool(), CurrentTime: now})
	assert.Error(t, err, "the leaf is trusted only through the CA")

	_, err = generateCerts([]string{" ", ""}, now)
	assert.Error(t, err)
}

// startTLSSandbox runs the sandbox with -tls on a free loopback port and
// returns its https URL, the CA file and the output lines seen so far.
func startTLSSandbox(t *testing.T, extra ...string) (string, string, <-chan string, *[]string) {
	t.Helper()
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	ctx, cancel := context.WithCancel(context.Background())
	out, ch := lines(t)
	done := make(chan error, 1)
	args := append([]string{"-tls", "-addr", "127.0.0.1:0", "-tls-ca", caPath, "-time-scale", "0"}, extra...)
	go func() { done <- run(ctx, args, out, out) }()
	var seen []string
	t.Cleanup(func() {
		cancel()
		next(t, ch, "shutting down", &seen)
		assert.NoError(t, <-done)
	})
	next(t, ch, "signed by an ephemeral CA written to "+caPath, &seen)
	php := next(t, ch, "tls: PHP:", &seen)
	assert.Contains(t, php, "openssl.cafile="+caPath)
	l := next(t, ch, "listening on https://", &seen)
	return l[strings.Index(l, "https://"):], caPath, ch, &seen
}

var verifyReq = voicecall.CallVerifyRequest{
	DisplayNumber: "+8675528000088", CalleeNumber: "+8613512345678", LanguageType: 2,
	PreTone: "pretone.wav", VerifyCode: "918273",
}

func TestSandboxTLSWithSDK(t *testing.T) {
	t.Parallel()
	base, caPath, ch, seen := startTLSSandbox(t, "-tls-hosts", "sandbox,127.0.0.1")
	assert.True(t, strings.HasPrefix(base, "https://127.0.0.1:"), base)

	pem, err := os.ReadFile(caPath)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem), "the CA file is PEM")

	client, err := voicecall.NewClient(base, voicetest.DefaultAppKey, voicetest.DefaultAppSecret,
		voicecall.WithTLSConfig(&tls.Config{RootCAs: pool}))
	require.NoError(t, err)
	for i := 0; i < 3; i++ { // one connection per call: the front forwards each
		resp, err := client.CallVerify(context.Background(), &verifyReq)
		require.NoError(t, err, "call %d", i)
		next(t, ch, "resultcode=0 sessionId="+resp.SessionID, seen)
	}

	// Verification is on: without the CA the handshake fails and nothing
	// reaches the fake platform.
	untrusting, err := voicecall.NewClient(base, voicetest.DefaultAppKey, voicetest.DefaultAppSecret)
	require.NoError(t, err)
	_, err = untrusting.CallVerify(context.Background(), &verifyReq)
	require.Error(t, err)
	var unknown x509.UnknownAuthorityError
	assert.True(t, errors.As(err, &unknown), "%v", err)
	assert.Equal(t, voicecall.OutcomeRejected, voicecall.OutcomeOf(err), "a refused certificate never sent the request")

	// The name must match too: "localhost" is not in -tls-hosts here.
	_, port, err := net.SplitHostPort(strings.TrimPrefix(base, "https://"))
	require.NoError(t, err)
	wrongName, err := voicecall.NewClient("https://localhost:"+port, voicetest.DefaultAppKey, voicetest.DefaultAppSecret,
		voicecall.WithTLSConfig(&tls.Config{RootCAs: pool}))
	require.NoError(t, err)
	_, err = wrongName.CallVerify(context.Background(), &verifyReq)
	require.Error(t, err)
	var hostErr x509.HostnameError
	assert.True(t, errors.As(err, &hostErr), "%v", err)
}

func TestSandboxTLSWithPHP(t *testing.T) {
	t.Parallel()
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php is not installed (apt-get install php-cli)")
	}
	base, caPath, ch, seen := startTLSSandbox(t, "-tls-hosts", "sandbox,127.0.0.1")
	sample := filepath.Join("php", "voiceVerificationCode.php")

	runPHP := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, php, append(args, sample)...)
		cmd.Env = append(os.Environ(), "SANDBOX_URL="+base)
		out, _ := cmd.CombinedOutput() // the sample exits 0 whatever happens
		return string(out)
	}
	out := runPHP("-d", "openssl.cafile="+caPath)
	assert.Contains(t, out, `"resultcode":"0"`, out)
	next(t, ch, "resultcode=0 sessionId=", seen)

	// Without the CA, PHP's peer verification refuses the certificate.
	out = runPHP("-d", "openssl.cafile=")
	assert.NotContains(t, out, `"resultcode"`, out)
	assert.Contains(t, out, "certificate verify failed", out)
}

func TestSandboxHelp(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	require.NoError(t, run(context.Background(), []string{"-h"}, &out, &out), "-h exits 0")
	for _, flag := range []string{"-tls", "-tls-hosts", "-tls-ca", "-addr"} {
		assert.Contains(t, out.String(), flag)
	}
}

// TestTLSFront: each TLS connection is forwarded to a backend connection
// of its own, the client sees the backend's close, and Close ends
// connections that never finished their handshake.
func TestTLSFront(t *testing.T) {
	t.Parallel()
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer backend.Close()
	accepted := make(chan struct{}, 10)
	go func() {
		for {
			c, err := backend.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			go func() {
				defer c.Close()
				buf := make([]byte, 5)
				if _, err := io.ReadFull(c, buf); err == nil {
					_, _ = c.Write(append([]byte("echo "), buf...))
				}
			}()
		}
	}()
	certs, err := generateCerts([]string{"127.0.0.1"}, time.Now())
	require.NoError(t, err)
	front, err := startTLSFront("127.0.0.1:0", backend.Addr().String(), certs.leaf)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(certs.caPEM))

	for i := 0; i < 2; i++ {
		c, err := tls.Dial("tcp", front.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		require.NoError(t, err)
		require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
		_, err = c.Write([]byte("hello"))
		require.NoError(t, err)
		got, err := io.ReadAll(c) // ends when the backend closes
		require.NoError(t, err)
		assert.Equal(t, "echo hello", string(got))
		c.Close()
	}
	assert.Len(t, accepted, 2, "a backend connection per TLS connection")

	idle, err := net.Dial("tcp", front.Addr().String()) // no handshake
	require.NoError(t, err)
	defer idle.Close()
	closed := make(chan struct{})
	go func() { front.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a connection that never did its handshake")
	}
	require.NoError(t, idle.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = idle.Read(make([]byte, 1))
	assert.Error(t, err, "the idle connection was closed")
}
