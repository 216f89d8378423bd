package voicecall_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/voicetest"
)

// Send a verification code. The fake platform of package voicetest stands
// in for Huawei's here; against the real platform, pass the console's app
// access address, app key and app secret to NewClient.
func ExampleClient_CallVerify() {
	platform, err := voicetest.NewServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer platform.Close()

	client, err := voicecall.NewClient(platform.URL, voicetest.DefaultAppKey, voicetest.DefaultAppSecret)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088",
		CalleeNumber:  "+8613500000001",
		LanguageType:  voicecall.LanguageChinese,
		PreTone:       "pretone.wav",
		VerifyCode:    "123456",
		Times:         voicecall.PlayTimes(2),
		UserData:      "order-42",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.ResultCode)
	fmt.Println(resp.UserData, resp.SessionID != "")
	// Output:
	// 0 (Success.)
	// order-42 true
}

// Every failure says whether the phone may ring. Here the platform places
// the call but the answer is lost on the way back.
func ExampleOutcomeOf() {
	platform, err := voicetest.NewServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer platform.Close()
	_ = platform.FailNext(1, voicetest.DropResponse())

	client, _ := platform.NewClient()
	_, err = client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088",
		CalleeNumber:  "+8613500000001",
		LanguageType:  voicecall.LanguageChinese,
		PreTone:       "pretone.wav",
		VerifyCode:    "123456",
		UserData:      "order-43",
	})
	fmt.Println(voicecall.OutcomeOf(err), errors.Is(err, voicecall.ErrOutcomeUnknown))
	// Settle it from the notifications, which carry the same userData.
	fmt.Println(voicecall.UserDataOf(err))
	// Output:
	// unknown true
	// order-43
}

// A rejection carries the platform's result code.
func ExampleAPIError() {
	platform, err := voicetest.NewServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer platform.Close()
	client, _ := voicecall.NewClient(platform.URL, voicetest.DefaultAppKey, "not-the-secret")
	_, err = client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088",
		CalleeNumber:  "+8613500000001",
		LanguageType:  voicecall.LanguageChinese,
		PreTone:       "pretone.wav",
		VerifyCode:    "123456",
	})
	var apiErr *voicecall.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Code)
		fmt.Println(apiErr.HTTPStatus, apiErr.IsAuthFailure())
	}
	// Output:
	// 1023006 (Authorization not contained in the HTTP header.)
	// 400 true
}

// Invalid input is reported field by field before anything is sent.
func ExampleCallVerifyRequest_Validate() {
	err := (&voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088",
		CalleeNumber:  "13500000001",
		LanguageType:  voicecall.LanguageChinese,
		PreTone:       "pretone.wav",
		VerifyCode:    "12ab",
	}).Validate()
	fmt.Println(err)
	// Output: voicecall: CallVerify: invalid calleeNbr: must be "+" followed by digits, 4-31 characters in all; verifyCode: must be 1-8 ASCII digits
}

// Wrap the SDK's default transport (for tracing or metrics) and keep its
// settings: short connections, timeouts, TLS verified, no proxy.
func ExampleNewTransport() {
	platform, err := voicetest.NewServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer platform.Close()

	var requests atomic.Int64
	tr := voicecall.NewTransport(nil)
	counting := roundTripper(func(r *http.Request) (*http.Response, error) {
		requests.Add(1)
		return tr.RoundTrip(r)
	})
	client, err := voicecall.NewClient(platform.URL, voicetest.DefaultAppKey, voicetest.DefaultAppSecret,
		voicecall.WithHTTPClient(&http.Client{Transport: counting}))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001",
		LanguageType: voicecall.LanguageChinese, PreTone: "pretone.wav", VerifyCode: "123456",
	})
	fmt.Println(err, requests.Load(), tr.DisableKeepAlives)
	// Output: <nil> 1 true
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Record the correlation token before the call: the platform's first
// status event can reach the receiver before CallVerify returns.
func ExampleNewCorrelationToken() {
	platform, err := voicetest.NewServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer platform.Close()
	client, _ := platform.NewClient()

	token := voicecall.NewCorrelationToken()
	pending := map[string]string{token: "+8613500000001"} // your store
	resp, err := client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: pending[token],
		LanguageType: voicecall.LanguageChinese, PreTone: "pretone.wav", VerifyCode: "123456",
		UserData: token,
	})
	fmt.Println(err, resp.UserData == token, voicecall.IsCorrelationToken(token))
	// Output: <nil> true true
}

// Hooks see each call and each attempt, never a secret, code or number.
func ExampleWithHooks() {
	platform, err := voicetest.NewServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer platform.Close()
	client, _ := platform.NewClient(voicecall.WithHooks(voicecall.ClientHooks{
		AttemptEnd: func(_ context.Context, a voicecall.AttemptInfo) {
			fmt.Println("attempt", a.Attempt, a.StatusCode, a.ErrorClass == "")
		},
		CallEnd: func(_ context.Context, c voicecall.CallInfo) {
			fmt.Println(c.Operation, c.Method, c.Path, c.Outcome, c.ResultCode, c.Attempts)
		},
	}))
	_, _ = client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001",
		LanguageType: voicecall.LanguageChinese, PreTone: "pretone.wav", VerifyCode: "123456",
	})
	// Output:
	// attempt 1 200 true
	// CallVerify POST /rest/httpsessions/callVerify/v1.0 accepted 0 (Success.) 1
}
