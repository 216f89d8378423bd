package redisstore_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/journal"
	"github.com/voicecall-go/voicecall/redisstore"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
)

// The fault test's journal settings: a short lease so that a killed
// consumer's entries come back quickly, and room for the redeliveries
// the faults cause before an entry would become a dead letter.
var faultJournal = journal.Config{Lease: 400 * time.Millisecond, MaxAttempts: 20}

const faultGroup = "app"

// applyScript is the consumer application's storage, on the same Redis:
// it applies an entry (HINCRBY effects) only when its idempotency key is
// new (SADD applied), in one atomic step, and counts every processing.
var applyScript = redis.NewScript(`
redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
end
return 1`)

func appKeys(prefix string) []string {
	return []string{prefix + "app:applied", prefix + "app:effects", prefix + "app:processed"}
}

// journalConsumerMain is the consumer process of TestJournalFaults: the
// test binary run again as a child, TestMain calls it (instead of the
// tests) when JOURNAL_REDIS is set. It reads the journal as a member of
// group "app", applies each entry once by its key, acknowledges, and
// goes on until killed. With JOURNAL_CRASH_AFTER=k it prints CRASHPOINT
// after applying k entries, in the middle of a batch before
// acknowledging it, and waits to be killed.
func journalConsumerMain() int {
	addr, prefix, name := os.Getenv("JOURNAL_REDIS"), os.Getenv("JOURNAL_PREFIX"), os.Getenv("JOURNAL_CONSUMER")
	crashAfter, _ := strconv.Atoi(os.Getenv("JOURNAL_CRASH_AFTER"))
	st := redisstore.New(redis.NewClient(&redis.Options{Addr: addr, MinRetryBackoff: -1, MaxRetryBackoff: -1}), redisstore.WithPrefix(prefix))
	j, err := st.Journal(faultJournal)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	applied := 0
	parent := os.Getppid()
	for os.Getppid() == parent { // ends if the test process died without killing it
		es, err := j.Read(ctx, faultGroup, name, 10)
		if err != nil || len(es) == 0 {
			<-tick.C // Redis restarting, or nothing new
			continue
		}
		ids := make([]string, 0, len(es))
		for _, e := range es {
			for applyScript.Run(ctx, st.Client(), appKeys(prefix), e.Key.String()).Err() != nil {
				<-tick.C
			}
			applied++
			if crashAfter > 0 && applied == crashAfter {
				fmt.Println("CRASHPOINT")
				select {} // killed here, mid-batch, nothing acknowledged
			}
			ids = append(ids, e.ID)
		}
		for j.Ack(ctx, faultGroup, ids) != nil {
			<-tick.C
		}
	}
	return 1
}

// consumerProcess runs journalConsumerMain in a child process;
// crashAfter > 0 makes it stop at its crash point, which the returned
// channel reports.
func consumerProcess(t *testing.T, addr, prefix, name string, crashAfter int) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "JOURNAL_REDIS="+addr, "JOURNAL_PREFIX="+prefix, "JOURNAL_CONSUMER="+name,
		"JOURNAL_CRASH_AFTER="+strconv.Itoa(crashAfter))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	crashed := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "CRASHPOINT" {
				close(crashed)
			}
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, crashed
}

// faultPushes returns the platform's pushes: status events and CDR
// batches of 5, each with its records' idempotency keys.
func faultPushes(t *testing.T, status, batches int) (bodies [][]byte, keys map[string]bool) {
	t.Helper()
	keys = map[string]bool{}
	add := func(n voicecall.Notification) {
		b, err := json.Marshal(n)
		require.NoError(t, err)
		parsed, err := voicecall.ParseNotification(b)
		require.NoError(t, err)
		recs, err := parsed.JournalRecords(b)
		require.NoError(t, err)
		for _, r := range recs {
			keys[r.Key.String()] = true
		}
		bodies = append(bodies, b)
	}
	for i := range max(status, batches) {
		if i < status {
			add(voicecall.Notification{Kind: voicecall.NotificationStatus, Status: &voicecall.StatusEvent{
				Type: voicecall.EventDisconnect, SessionID: fmt.Sprintf("fault-session-%04d", i), Called: "+8613800000000",
				RawTimestamp: "2026-03-14 07:30:00", HasStateCode: true, StateCode: 0}})
		}
		if i < batches {
			fees := make([]voicecall.FeeRecord, 5)
			for k := range fees {
				fees[k] = voicecall.FeeRecord{SessionID: fmt.Sprintf("fault-cdr-%04d-%d", i, k), ICID: fmt.Sprintf("CAE-%04d-%d", i, k),
					CalleeNum: "+8613800000000", ServiceType: "003"}
			}
			add(voicecall.Notification{Kind: voicecall.NotificationFee, Fees: fees})
		}
	}
	return bodies, keys
}

// TestJournalFaults pushes notifications to two receivers (Handlers
// with the Redis journal) while two consumer processes read the journal
// as one group; one consumer is killed with SIGKILL in the middle of a
// batch (a third takes its place), and Redis (with the append-only
// file) is killed and restarted in the middle of the stream. Every
// notification acknowledged with 200 must be processed at least once
// and applied exactly once, none lost.
func TestJournalFaults(t *testing.T) {
	redistestNeed(t)
	srv, err := redistest.StartAOF(t.TempDir())
	require.NoError(t, err)
	defer srv.Close()
	prefix := "fault:"

	// Two receivers, each with its own client, as two instances.
	var receivers []*httptest.Server
	for range 2 {
		st, err := redisstore.Open(srv.URL, redisstore.WithPrefix(prefix))
		require.NoError(t, err)
		defer st.Close()
		j, err := st.Journal(faultJournal)
		require.NoError(t, err)
		h, err := voicecall.NewHandler(voicecall.HandlerConfig{Journal: j})
		require.NoError(t, err)
		rs := httptest.NewServer(h)
		defer rs.Close()
		receivers = append(receivers, rs)
	}

	aCmd, crashed := consumerProcess(t, srv.Addr, prefix, "consumer-a", 15)
	consumerProcess(t, srv.Addr, prefix, "consumer-b", 0)

	bodies, keys := faultPushes(t, 60, 40)
	var ok200, refused atomic.Int64
	push := func(i int, body []byte) {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for range 1000 { // the platform pushes again until it gets 200
			resp, err := receivers[i%2].Client().Post(receivers[i%2].URL, "application/json;charset=UTF-8", bytes.NewReader(body))
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ok200.Add(1)
					return
				}
				require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
				refused.Add(1)
			}
			<-tick.C
		}
		t.Errorf("push %d never acknowledged", i)
	}
	var wg sync.WaitGroup
	half := len(bodies) / 2
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < half; i += 2 {
				push(i, bodies[i])
			}
		}()
	}
	wg.Wait()

	// Consumer A dies in the middle of a batch; C replaces it.
	select {
	case <-crashed:
	case <-time.After(20 * time.Second):
		t.Fatal("consumer-a never reached its crash point")
	}
	require.NoError(t, aCmd.Process.Kill()) // SIGKILL

	restarted := make(chan error, 1)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := half + w; i < len(bodies); i += 2 {
				if i == half+10 { // Redis crashes mid-stream and comes back
					srv.Kill()
					resp, err := receivers[0].Client().Post(receivers[0].URL, "application/json;charset=UTF-8", bytes.NewReader(bodies[i]))
					if assert.NoError(t, err) {
						resp.Body.Close()
						assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "a push while Redis is down")
						refused.Add(1)
					}
					restarted <- srv.Restart()
				}
				push(i, bodies[i])
				if i%7 == 0 { // the platform re-pushes some batches
					push(i, bodies[i])
				}
			}
		}()
	}
	consumerProcess(t, srv.Addr, prefix, "consumer-c", 0)
	wg.Wait()
	require.NoError(t, <-restarted)

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ctx := t.Context()
	var effects map[string]string
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		effects, err = rdb.HGetAll(ctx, appKeys(prefix)[1]).Result()
		if err == nil && len(effects) >= len(keys) {
			break
		}
		<-tick.C
	}
	processed, err := rdb.HGetAll(ctx, appKeys(prefix)[2]).Result()
	require.NoError(t, err)
	total := 0
	for _, v := range processed {
		n, _ := strconv.Atoi(v)
		total += n
	}
	lost, twice := 0, 0
	for k := range keys {
		switch effects[k] {
		case "1":
		case "":
			lost++
		default:
			twice++
		}
	}
	entries, err := rdb.XLen(ctx, prefix+"{journal}:entries").Result()
	require.NoError(t, err)
	dead, err := rdb.XLen(ctx, prefix+"{journal}:dead:"+faultGroup).Result()
	require.NoError(t, err)
	t.Logf("pushes: %d acknowledged (200), %d refused (503) while Redis was down; records: %d distinct, %d in the journal; "+
		"processed %d times (%d redeliveries), applied %d, lost %d, applied twice %d, dead letters %d",
		ok200.Load(), refused.Load(), len(keys), entries, total, total-len(effects), len(effects), lost, twice, dead)
	assert.Zero(t, lost, "records lost")
	assert.Zero(t, twice, "records applied more than once")
	assert.Len(t, effects, len(keys), "only pushed records are applied")
	assert.Len(t, processed, len(keys))
	assert.Zero(t, dead)
	assert.Positive(t, refused.Load(), "the Redis restart was seen by the receivers")
	assert.Greater(t, total, len(keys), "the killed consumer's entries were processed again")
}
