// Package browsertest drives the sandbox's web console in headless
// Chromium (Debian's chromium package) with chromedp. It is a module of
// its own so that chromedp never enters the SDK's module; it has no code
// besides its tests.
//
// Run it from this directory:
//
//	GOWORK=off go test ./...
//
// The test skips when Chromium is missing, unless CI=true, when it
// fails. With -screenshot FILE it also saves a screenshot of the console
// (the repository's docs/sandbox-console.png):
//
//	GOWORK=off go test -run TestConsole -screenshot ../../../docs/sandbox-console.png
package browsertest
