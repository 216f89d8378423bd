package voicecall_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/voicetest"
)

// Play a text-to-speech template and collect one key press. The digits
// the callee pressed arrive in a collectInfo status event.
func ExampleClient_CallNotify() {
	platform, _ := voicetest.NewServer(voicetest.WithTimeScale(0), voicetest.WithCalleeDigits("+8613500000001", "1"))
	defer platform.Close()
	client, _ := platform.NewClient()

	resp, err := client.CallNotify(context.Background(), &voicecall.CallNotifyRequest{
		DisplayNumber: "+8675528000088",
		CalleeNumber:  "+8613500000001",
		PlayInfoList: []voicecall.PlayInfo{{
			TemplateID:    "meeting-reminder",
			TemplateParas: []string{"Friday", "10"},
			CollectDigits: 1, // press 1 to confirm
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	call, _ := platform.WaitCall(context.Background(), func(c voicetest.Call) bool { return c.SessionID == resp.SessionID && c.Ended })
	fmt.Println(strings.HasPrefix(resp.SessionID, "1201_"), call.Digits)
	// Output: true [1]
}

// Call A, then B, and bridge them; stop the call once it is up.
func ExampleClient_Click2Call() {
	platform, _ := voicetest.NewServer(voicetest.WithScenario(voicetest.ScenarioLongCall))
	defer platform.Close()
	client, _ := platform.NewClient()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	resp, err := client.Click2Call(ctx, &voicecall.Click2CallRequest{
		DisplayNumber:         "+8675528000088",
		CallerNumber:          "+8613500000011",
		DisplayCalleeNumber:   "+8675528000088",
		CalleeNumber:          "+8613500000022",
		MaxDuration:           30, // minutes, from B's answer
		LastMinuteTo:          voicecall.LastMinuteToBoth,
		CalleeMedia:           voicecall.CalleeMediaAll,
		PartyTypeInDisconnect: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = client.CallStop(ctx, &voicecall.CallStopRequest{SessionID: resp.SessionID})
	fmt.Println(err)
	call, _ := platform.WaitCall(ctx, func(c voicetest.Call) bool { return c.SessionID == resp.SessionID && c.Ended })
	fmt.Println(call.StateCode)
	// Output:
	// <nil>
	// 8017 (hang-up requested by the user or SP)
}

// Download the recording of a click-to-call named in its CDR.
func ExampleClient_RecordingURLOf() {
	platform, _ := voicetest.NewServer(voicetest.WithTimeScale(0))
	defer platform.Close()
	client, _ := platform.NewClient()
	ctx := context.Background()

	resp, _ := client.Click2Call(ctx, &voicecall.Click2CallRequest{DisplayNumber: "+8675528000088", CallerNumber: "+8613500000011",
		DisplayCalleeNumber: "+8675528000088", CalleeNumber: "+8613500000022", Record: true})
	platform.WaitCall(ctx, func(c voicetest.Call) bool { return c.SessionID == resp.SessionID && c.Ended })
	// In an application the CDR comes from the fee notification (a
	// Handler's OnFee); here, from what the fake platform recorded.
	rec := platform.Recordings()[0]
	cdr := &voicecall.FeeRecord{RecordFlag: 1, RecordDomain: rec.Domain, RecordObjectName: rec.FileName}

	url, err := client.RecordingURLOf(ctx, cdr)
	if err != nil {
		fmt.Println(err)
		return
	}
	var wav bytes.Buffer
	n, err := client.DownloadRecording(ctx, url, &wav, 0)
	fmt.Println(err, n, wav.String()[:4])
	// Output: <nil> 112044 RIFF
}

// One backend, several capabilities: each is its own app on the console
// with its own key and secret, so the backend holds one Client per app.
func ExampleNewClient_oneClientPerApp() {
	verifyApp := voicetest.App{Key: "verifyAppKey", Secret: "verifyAppSecret"}
	notifyApp := voicetest.App{Key: "notifyAppKey", Secret: "notifyAppSecret"}
	platform, _ := voicetest.NewServer(voicetest.WithApp(verifyApp), voicetest.WithApp(notifyApp))
	defer platform.Close()

	clients := map[string]*voicecall.Client{}
	for name, app := range map[string]voicetest.App{"verify": verifyApp, "notify": notifyApp} {
		c, err := voicecall.NewClient(platform.URL, app.Key, app.Secret)
		if err != nil {
			fmt.Println(err)
			return
		}
		clients[name] = c
	}
	_, err := clients["notify"].CallNotify(context.Background(), &voicecall.CallNotifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001",
		PlayInfoList: []voicecall.PlayInfo{{NotifyVoice: "outage.wav"}},
	})
	fmt.Println(err, platform.Requests()[0].AppKey)
	// Output: <nil> notifyAppKey
}
