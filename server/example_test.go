package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/server"
)

func ExampleNew() {
	h, err := voicecall.NewHandler(voicecall.HandlerConfig{
		OnStatus: func(_ context.Context, ev *voicecall.StatusEvent) error {
			fmt.Println("status:", ev.Type, ev.SessionID)
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The defaults suit the open Internet; AllowedNetworks, when the
	// platform's push addresses are known, closes everyone else's
	// connections as they are accepted (here: loopback only).
	srv, err := server.New(h, server.Config{
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // in production, e.g. ":9330"
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	resp, err := http.Post("http://"+ln.Addr().String()+"/", "application/json;charset=UTF-8",
		strings.NewReader(`{"eventType":"callout","statusInfo":{"sessionId":"s-1"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)

	_ = srv.Shutdown(context.Background())
	fmt.Println(<-done)
	// Output:
	// status: callout s-1
	// 200
	// http: Server closed
}
