package vcotel_test

import (
	"context"
	"fmt"

	"github.com/voicecall-go/voicecall"
	vcotel "github.com/voicecall-go/voicecall/otel"
	"github.com/voicecall-go/voicecall/voicetest"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// One option traces every request of a client; here against the fake
// platform, with an in-memory span recorder.
func ExampleClientOption() {
	platform, err := voicetest.NewServer()
	if err != nil {
		panic(err)
	}
	defer platform.Close()

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	client, err := voicecall.NewClient(platform.URL, voicetest.DefaultAppKey, voicetest.DefaultAppSecret,
		vcotel.ClientOption(vcotel.WithTracerProvider(tp)))
	if err != nil {
		panic(err)
	}
	_, err = client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001",
		LanguageType: voicecall.LanguageChinese, PreTone: "pretone.wav", VerifyCode: "123456",
	})
	fmt.Println("error:", err)
	for _, s := range spans.Ended() {
		fmt.Println(s.Name(), s.SpanKind())
	}
	// Output:
	// error: <nil>
	// POST client
	// voicecall CallVerify internal
}

// The handler hooks go in HandlerConfig.Hooks; calling them directly, as
// the Handler does, shows what they record.
func ExampleHandlerHooks() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	hooks := vcotel.HandlerHooks(vcotel.WithTracerProvider(tp))

	// The Handler gives both hooks the same NotificationInfo: the path at
	// the start, completed with how the push was handled at the end.
	info := voicecall.NotificationInfo{Path: "/voicecall/notify"}
	ctx := hooks.NotificationStart(context.Background(), info)
	info.Kind, info.EventType, info.Records, info.Duplicates, info.Status = voicecall.NotificationFee, voicecall.EventFee, 50, 2, 200
	hooks.NotificationEnd(ctx, info)
	for _, s := range spans.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == vcotel.AttrRecords || kv.Key == vcotel.AttrDuplicates || kv.Key == vcotel.AttrNotificationKind {
				fmt.Println(kv.Key, kv.Value.Emit())
			}
		}
	}
	// Output:
	// voicecall.notification.kind fee
	// voicecall.records 50
	// voicecall.duplicates 2
}
