package voicetest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/voicetest"
)

// A fake platform plays a call back to the application's receiver.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The application's notification receiver.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()

	srv, err := voicetest.NewServer(voicetest.WithNotifyURLs(receiver.URL+"/status", receiver.URL+"/fee"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	client, err := srv.NewClient()
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := client.CallVerify(ctx, &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088",
		CalleeNumber:  "+8613500000001",
		LanguageType:  voicecall.LanguageChinese,
		PreTone:       "pretone.wav",
		VerifyCode:    "123456",
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Wait for the CDR, the last notification of the call.
	if _, err := srv.WaitDelivery(ctx, func(d voicetest.Delivery) bool {
		return d.Kind == voicetest.KindFee && d.Has(resp.SessionID)
	}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("code read out:", srv.Calls()[0].VerifyCode)
	for _, d := range srv.Deliveries() {
		fmt.Println(d.Kind, d.EventType, d.StatusCode)
	}
	// Output:
	// code read out: 123456
	// status callout 200
	// status alerting 200
	// status answer 200
	// status disconnect 200
	// fee fee 200
}

// Make the next request hit the platform's flow control.
func ExampleServer_FailNext() {
	srv, err := voicetest.NewServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	_ = srv.FailNext(1, voicetest.FailCode(voicecall.CodeFlowControl))

	client, _ := srv.NewClient()
	_, err = client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001",
		LanguageType: voicecall.LanguageChinese, PreTone: "pretone.wav", VerifyCode: "1234",
	})
	var apiErr *voicecall.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(string(apiErr.Code), apiErr.IsThrottled())
	}
	fmt.Println("calls placed:", len(srv.Calls()))
	// Output:
	// 1010010 true
	// calls placed: 0
}

// Lose the answer of an accepted request: the call is placed, the client
// cannot know it, and the notifications settle it.
func ExampleDropResponse() {
	srv, err := voicetest.NewServer(voicetest.WithScenario(voicetest.ScenarioBusy))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	_ = srv.FailCallee("+8613500000001", voicetest.DropResponse())

	client, _ := srv.NewClient()
	_, err = client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001",
		LanguageType: voicecall.LanguageChinese, PreTone: "pretone.wav", VerifyCode: "1234",
	})
	fmt.Println(voicecall.OutcomeOf(err))
	call := srv.Calls()[0]
	fmt.Println(call.UserData == voicecall.UserDataOf(err), call.Scenario, call.Scenario.StateCode())
	// Output:
	// unknown
	// true busy 8102 (callee busy)
}
