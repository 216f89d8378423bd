package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
)

// TestTwoInstancesShareRedis is the verification-code issue's "Done
// when" for the receiver: two instances started with -redis on one Redis
// server, pushed the same 50-record batch at the same moment (and
// re-pushed whatever was not answered 200, as the platform does), print
// each record once between them; a third instance started later on the
// same Redis prints nothing for the batch pushed again.
func TestTwoInstancesShareRedis(t *testing.T) {
	t.Parallel()
	rs, err := redistest.Start()
	redistest.Need(t, err)
	t.Cleanup(rs.Close)
	prefix := "webhook-test:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"

	start := func() (url string, out *lineWriter) {
		stdout := newLineWriter()
		return startProgram(t, []string{"-path", "/n", "-redis", rs.URL, "-redis-prefix", prefix}, stdout, newLineWriter(), nil).url, stdout
	}
	urlA, outA := start()
	urlB, outB := start()

	batch := feeBatch(50)
	client := &http.Client{Timeout: 10 * time.Second}
	push := func(url string) int {
		resp, err := client.Post(url, "application/json;charset=UTF-8", strings.NewReader(string(batch)))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	codes := make([]int, 2)
	var pushers sync.WaitGroup
	gate := make(chan struct{})
	for i, url := range []string{urlA, urlB} {
		pushers.Add(1)
		go func() {
			defer pushers.Done()
			<-gate
			codes[i] = push(url)
		}()
	}
	close(gate)
	pushers.Wait()
	for i, url := range []string{urlA, urlB} {
		for try := 0; codes[i] != http.StatusOK && try < 5; try++ {
			codes[i] = push(url) // the platform re-pushes a batch not answered 200
		}
		require.Equal(t, http.StatusOK, codes[i], "instance %d", i)
	}

	printed := map[string]int{}
	drain := func(w *lineWriter) {
		for {
			select {
			case l := <-w.lines:
				m := decode(t, l)
				if m["kind"] == "fee" {
					printed[m["sessionId"].(string)]++
				}
			default:
				return
			}
		}
	}
	drain(outA)
	drain(outB)
	require.Len(t, printed, 50, "every record printed")
	for i := range 50 {
		assert.Equal(t, 1, printed[batchSessionID(i)], "record %d printed once between the two instances", i)
	}

	urlC, outC := start()
	require.Equal(t, http.StatusOK, push(urlC))
	outC.none(t)
}

// feeBatch is a CDR batch of n records, as the platform pushes it (an
// example cannot import the repository's internal/cdrbatch).
func feeBatch(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"eventType":"fee","feeLst":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"direction":0,"spId":"CaaS_Test_01","appKey":"ka4kESI5s3YyurL1wpx63s9YnEm2",`+
			`"icid":"CAE-20260314153000-%08d","sessionId":%q,"callerNum":"+8675528000088","calleeNum":"+8613500000001",`+
			`"callOutStartTime":"2026-03-14 07:29:30","callOutAnswerTime":"2026-03-14 07:29:35","callEndTime":"2026-03-14 07:30:00",`+
			`"ulFailReason":"0","serviceType":"001","hostName":"callenabler245.huaweicaas.com"}`, 12019800+i, batchSessionID(i))
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// batchSessionID is the sessionId of record i of feeBatch.
func batchSessionID(i int) string {
	return fmt.Sprintf("1201_%d_4294967295_20260314073000@callenabler245.huaweicaas.com", 1000+i)
}
