package voicecall_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/voicetest"
)

// TestConcurrentCalls: 1,000 calls from 100 goroutines on one Client
// against the fake platform (fault matrix C24): no errors, every call
// placed once, every nonce unique. Run with -race.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	const goroutines, perGoroutine = 100, 10
	srv := voicetest.Start(t, voicetest.WithPorts(65535))
	client, err := srv.NewClient()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	sessions := make(chan string, goroutines*perGoroutine)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perGoroutine {
				resp, err := client.CallVerify(ctx, &voicecall.CallVerifyRequest{
					DisplayNumber: "+8675528000088",
					CalleeNumber:  "+8613500000001",
					LanguageType:  voicecall.LanguageChinese,
					PreTone:       "pretone.wav",
					VerifyCode:    "123456",
				})
				if err != nil {
					errs <- err
					continue
				}
				sessions <- resp.SessionID
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(sessions)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for id := range sessions {
		assert.False(t, seen[id], "session %s returned twice", id)
		seen[id] = true
	}
	assert.Len(t, seen, goroutines*perGoroutine)

	reqs := srv.Requests()
	require.Len(t, reqs, goroutines*perGoroutine, "one request per call, no retries")
	nonces := map[string]bool{}
	tokens := map[string]bool{}
	for _, r := range reqs {
		assert.False(t, nonces[r.Signature.Nonce], "nonce reused")
		nonces[r.Signature.Nonce] = true
		tokens[r.Body.UserData] = true
	}
	assert.Len(t, tokens, goroutines*perGoroutine, "every call got its own correlation token")
	assert.Len(t, srv.Calls(), goroutines*perGoroutine)
}
