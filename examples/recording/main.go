// Command recording gets the download URL of a click-to-call's
// recording, and with -o downloads the file, with the voicecall SDK.
//
// It reads the click-to-call app's credentials from the environment:
//
//	VOICECALL_BASE_URL    app access address, e.g. https://rtccall.cn-north-1.myhuaweicloud.cn:443
//	VOICECALL_APP_KEY     APP_Key
//	VOICECALL_APP_SECRET  APP_Secret
//
// and the recording, as the call's CDR names it (recordObjectName and
// recordDomain), from flags:
//
//	go run ./examples/recording -file 1202_xxx.wav -domain ostor.example.com -o call.wav
//
// It prints the download URL (the Location of the platform's 301 answer,
// which it does not follow) on stdout and exits 0. With -o it also
// downloads the file there, sending none of the app's credentials to the
// download host, at most -max-bytes bytes. The URL holds a download
// token: treat it as a secret, and use it soon (Huawei's pages give 30
// minutes on one page and 7 days of retention on another). Exit status
// 1: the platform refused, or the download failed. 2: bad usage, nothing
// was sent. 3: the outcome is unknown. It never prints the app secret.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("recording", "recording -file NAME -domain DOMAIN [-o PATH] [flags]",
		"VOICECALL_BASE_URL, VOICECALL_APP_KEY, VOICECALL_APP_SECRET (the click-to-call app's)", stderr)
	var req voicecall.RecordingRequest
	timeout := fs.Duration("timeout", voicecall.DefaultTimeout, "bound on the URL request")
	out := fs.String("o", "", "download the recording to this file")
	maxBytes := fs.Int64("max-bytes", voicecall.DefaultMaxRecordingBytes, "largest file to download")
	dlTimeout := fs.Duration("download-timeout", voicecall.DefaultTimeout*6, "bound on the download")
	fs.StringVar(&req.FileName, "file", "", "recording file name (the CDR's recordObjectName)")
	fs.StringVar(&req.RecordDomain, "domain", "", "recording domain (the CDR's recordDomain)")
	if status, ok := cli.Parse(fs, args); !ok {
		return status
	}
	client, ok := cli.NewClient("recording", getenv, stderr, voicecall.WithTimeout(*timeout))
	if !ok {
		return cli.ExitUsage
	}
	if err := req.Validate(); err != nil {
		fmt.Fprintf(stderr, "recording: %v\n", err)
		return cli.ExitUsage
	}
	loc, err := client.RecordingURL(ctx, &req)
	if err != nil {
		return cli.Failed("recording", err, "", stderr)
	}
	fmt.Fprintln(stdout, loc)
	if *out == "" {
		return cli.ExitOK
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintf(stderr, "recording: %v\n", err)
		return cli.ExitUsage
	}
	dctx, cancel := context.WithTimeout(ctx, *dlTimeout)
	defer cancel()
	n, err := client.DownloadRecording(dctx, loc, f, *maxBytes)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(*out)
		fmt.Fprintf(stderr, "recording: %v\n", err)
		return cli.ExitRejected
	}
	fmt.Fprintf(stderr, "wrote %d bytes to %s\n", n, *out)
	return cli.ExitOK
}
