package otp_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/voicetest"
)

// Send a code, refuse a resend within the cooldown, and check the code
// by the verification's id.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, err := voicetest.NewServer() // a fake platform; use voicecall.NewClient for the real one
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

	lc, err := otp.New(otp.Config{
		Client:        client,
		Key:           []byte("an example key of at least 32 bytes, from your secrets"),
		DisplayNumber: "+8675528000088",
		PreTone:       "pretone.wav",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sent, err := lc.Send(ctx, "+8613500000001", "203.0.113.7")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("call:", sent.Outcome)

	_, err = lc.Send(ctx, "+8613500000001", "203.0.113.7")
	var refused *otp.RefusedError
	if errors.As(err, &refused) {
		fmt.Println("resend refused:", refused.Reason)
	}

	heard := srv.Calls()[0].VerifyCode // what the callee heard
	wrong := "000000"
	if heard == wrong {
		wrong = "111111"
	}
	fmt.Println("malformed code:", lc.Check(ctx, sent.ID, "not it", "203.0.113.7"))
	fmt.Println("wrong code:", lc.Check(ctx, sent.ID, wrong, "203.0.113.7"))
	fmt.Println("right code:", lc.Check(ctx, sent.ID, heard, "203.0.113.7"))
	fmt.Println("again:", lc.Check(ctx, sent.ID, heard, "203.0.113.7"))
	// Output:
	// call: accepted
	// resend refused: cooldown
	// malformed code: voicecall: otp: malformed code: must be the code's digits
	// wrong code: voicecall: otp: wrong code: 4 attempts left
	// right code: <nil>
	// again: voicecall: otp: no code pending: unknown, expired or used verification
}
