// Command hello is the tiny HTTP server berth's quickstart and end-to-end
// tests run in pods. It is static, uses only the standard library, and can
// be told to delay readiness, fail liveness or exit, so tests can drive
// every kubelet behaviour with one image.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run serves until ctx is cancelled (SIGTERM) or --exit-after fires, and
// returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "hello:", err)
		return 2
	}
	host, _ := os.Hostname()
	srv := newServer(cfg, host, time.Now(), stdout)

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		fmt.Fprintf(stderr, "hello: cannot listen on %s: %v (is the port taken? choose another with --listen)\n", cfg.listen, err)
		return 1
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "hello %s listening on %s\n", cfg.version, ln.Addr())

	var exitC <-chan time.Time
	if cfg.exitAfter > 0 {
		t := time.NewTimer(cfg.exitAfter)
		defer t.Stop()
		exitC = t.C
	}
	code := 0
	select {
	case err := <-served:
		fmt.Fprintln(stderr, "hello: server stopped:", err)
		return 1
	case <-exitC:
		fmt.Fprintf(stdout, "exiting with code %d as told by --exit-after %s\n", cfg.exitCode, cfg.exitAfter)
		code = cfg.exitCode
	case <-ctx.Done():
		fmt.Fprintln(stdout, "received SIGTERM, shutting down")
		if cfg.shutdownDelay > 0 {
			// Lets tests see a container outlive SIGTERM, as a slow app would.
			time.Sleep(cfg.shutdownDelay)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(stderr, "hello: shutdown:", err)
	}
	fmt.Fprintln(stdout, "bye")
	return code
}
