// Command hostile holds the hostile connections of one availability
// attack (package examples/internal/attack) in a process of its own, so
// that the legitimate requests measured meanwhile are sent from another
// process, as they would be from another machine. The attack package
// starts it when attack.Config.Attacker names its binary:
//
//	go build -o /tmp/hostile ./examples/internal/cmd/hostile
//	/tmp/hostile -addr 127.0.0.1:8090 -path /voicecall/notify -kind idle-conns -conns 10000
//
// It writes "opened N open M" on stdout every 10 ms and runs until it is
// interrupted (SIGINT or SIGTERM).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/voicecall-go/voicecall/examples/internal/attack"
)

func main() {
	var cfg attack.Config
	var kind string
	fs := flag.NewFlagSet("hostile", flag.ExitOnError)
	fs.StringVar(&cfg.Addr, "addr", "", "the server's host:port")
	fs.StringVar(&cfg.Path, "path", "/", "the path attacked")
	fs.StringVar(&kind, "kind", "", "the attack: "+fmt.Sprint(attack.Kinds))
	fs.IntVar(&cfg.Conns, "conns", 1, "hostile connections held at once")
	fs.IntVar(&cfg.Sources, "sources", 0, "source addresses (default one per 64 connections)")
	fs.BoolVar(&cfg.Reopen, "reopen", false, "open a new connection whenever the server closes one")
	_ = fs.Parse(os.Args[1:])
	cfg.Kind = attack.Kind(kind)
	if cfg.Addr == "" || !attack.ValidKind(cfg.Kind) {
		fmt.Fprintln(os.Stderr, "usage: hostile -addr HOST:PORT -kind KIND [-path P] [-conns N] [-sources N] [-reopen]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := bufio.NewWriter(os.Stdout)
	attack.Hostile(ctx, cfg, flushWriter{w})
}

// flushWriter flushes each line, so the parent reads progress at once.
type flushWriter struct{ w *bufio.Writer }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = f.w.Flush()
	}
	return n, err
}
