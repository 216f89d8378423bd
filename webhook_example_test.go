package voicecall_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/voicecall-go/voicecall"
)

func ExampleNewHandler() {
	h, err := voicecall.NewHandler(voicecall.HandlerConfig{
		OnStatus: func(_ context.Context, ev *voicecall.StatusEvent) error {
			fmt.Println("status:", ev.Type, ev.SessionID)
			return nil
		},
		OnFee: func(_ context.Context, rec *voicecall.FeeRecord) error {
			// Store the record before returning nil: a record whose
			// callback succeeded is not handed over again.
			fmt.Println("cdr:", rec.SessionID, "answered:", rec.Answered())
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// In production: http.Handle("/voicecall/notify", h), served by an
	// http.Server with timeouts. Here, a recorded request.
	body := `{"eventType":"fee","feeLst":[{"sessionId":"1201_612_4294967295_20190124030424@callenabler245.huaweicaas.com",` +
		`"icid":"CAE-20190124110424-12019775","callOutAnswerTime":"2019-01-24 03:04:31","callEndTime":"2019-01-24 03:04:49"}]}`
	for range 2 { // the platform pushes the batch again: handled once
		req := httptest.NewRequest(http.MethodPost, "/voicecall/notify", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// cdr: 1201_612_4294967295_20190124030424@callenabler245.huaweicaas.com answered: true
	// 200 {"resultcode":"0","resultdesc":"Success"}
	// 200 {"resultcode":"0","resultdesc":"Success"}
}

func ExampleCorrelationIndex() {
	idx := voicecall.NewCorrelationIndex(0, 0)
	h, _ := voicecall.NewHandler(voicecall.HandlerConfig{Correlations: idx})
	// userData is the token CallVerify generated (resp.UserData, or
	// UserDataOf(err) when the outcome was unknown).
	token := "vc0123456789abcdef0123456789abcdef"
	body := `{"eventType":"callout","statusInfo":{"sessionId":"1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com","userData":"` + token + `"}}`
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(httptest.NewRecorder(), req)

	if s, ok, err := idx.Lookup(context.Background(), token); err == nil && ok {
		fmt.Println("placed:", s.SessionID, s.LastEvent)
	}
	// Output:
	// placed: 1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com callout
}
