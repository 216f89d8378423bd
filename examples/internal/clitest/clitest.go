// Package clitest runs the example programs' run functions in their
// tests: the environment they read their credentials from, and a run
// whose output is checked for what a program must never print.
package clitest

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Main is an example program's run: main calls it with os.Args[1:],
// os.Getenv, os.Stdout and os.Stderr, and exits with what it returns.
type Main func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int

// Run runs main with args and getenv and returns its exit status, its
// stdout and its stderr. It asserts that neither output contains any of
// never (a secret, a digest, a verification code).
func Run(t *testing.T, main Main, args []string, getenv func(string) string, never ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := main(context.Background(), args, getenv, &out, &errOut)
	for _, s := range []string{out.String(), errOut.String()} {
		for _, n := range never {
			assert.NotContains(t, s, n)
		}
	}
	return code, out.String(), errOut.String()
}

// Env returns a getenv that gives baseURL, key and secret where
// cli.NewClient reads them (VOICECALL_BASE_URL, VOICECALL_APP_KEY,
// VOICECALL_APP_SECRET), and "" for anything else.
func Env(baseURL, key, secret string) func(string) string {
	vars := map[string]string{"VOICECALL_BASE_URL": baseURL, "VOICECALL_APP_KEY": key, "VOICECALL_APP_SECRET": secret}
	return func(k string) string { return vars[k] }
}
