package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHandlers(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "greeting.txt"), []byte("from a configMap"), 0o644); err != nil {
		t.Fatal(err)
	}
	catFile := filepath.Join(t.TempDir(), "cat.txt")
	if err := os.WriteFile(catFile, []byte("catted"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HELLO_TEST_SECRET", "s3cret")

	tests := []struct {
		name     string
		cfg      config
		age      time.Duration // how long ago the server started
		path     string
		status   int
		contains string
	}{
		{name: "root", cfg: config{version: "v2"}, path: "/", status: 200, contains: "hello from pod-a version v2"},
		{name: "greeting", cfg: config{version: "v1", greeting: "Hello from berth"}, path: "/", status: 200, contains: "Hello from berth\nhello from pod-a version v1"},
		{name: "unknown path", cfg: config{}, path: "/nope", status: 404},
		{name: "healthy", cfg: config{failLivenessAfter: time.Hour}, age: time.Minute, path: "/healthz", status: 200, contains: "ok"},
		{name: "liveness failing", cfg: config{failLivenessAfter: time.Second}, age: time.Minute, path: "/healthz", status: 500},
		{name: "liveness never fails", cfg: config{}, age: time.Hour, path: "/healthz", status: 200},
		{name: "not ready yet", cfg: config{readyAfter: time.Hour}, age: time.Second, path: "/readyz", status: 503},
		{name: "ready", cfg: config{readyAfter: time.Second}, age: time.Minute, path: "/readyz", status: 200, contains: "ready"},
		{name: "ready at once", cfg: config{}, path: "/readyz", status: 200},
		{name: "env", cfg: config{}, path: "/env?name=HELLO_TEST_SECRET", status: 200, contains: "s3cret"},
		{name: "env unset", cfg: config{}, path: "/env?name=HELLO_TEST_UNSET", status: 404},
		{name: "env no name", cfg: config{}, path: "/env", status: 400},
		{name: "file under root", cfg: config{fileRoot: dir}, path: "/file?path=" + url.QueryEscape(filepath.Join(dir, "greeting.txt")), status: 200, contains: "from a configMap"},
		{name: "file escapes root", cfg: config{fileRoot: dir}, path: "/file?path=" + url.QueryEscape(filepath.Join(dir, "../../etc/passwd")), status: 403},
		{name: "file relative", cfg: config{fileRoot: dir}, path: "/file?path=greeting.txt", status: 403},
		{name: "file missing", cfg: config{fileRoot: dir}, path: "/file?path=" + url.QueryEscape(filepath.Join(dir, "absent")), status: 404},
		{name: "file is dir", cfg: config{fileRoot: dir}, path: "/file?path=" + url.QueryEscape(dir), status: 400},
		{name: "cat", cfg: config{cat: catFile, fileRoot: dir}, path: "/file", status: 200, contains: "catted"},
		{name: "no file", cfg: config{}, path: "/file", status: 400},
		{name: "fetch needs http", cfg: config{}, path: "/fetch?url=file:///etc/passwd", status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log strings.Builder
			s := newServer(tc.cfg, "pod-a", time.Now().Add(-tc.age), &log)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("GET %s: status %d, want %d (body %q)", tc.path, rec.Code, tc.status, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tc.contains) {
				t.Errorf("GET %s: body %q does not contain %q", tc.path, rec.Body, tc.contains)
			}
			if want := fmt.Sprintf(" %d ", tc.status); !strings.Contains(log.String(), want) {
				t.Errorf("log %q does not record status %d", log.String(), tc.status)
			}
		})
	}
}

func TestFetch(t *testing.T) {
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "from the sidecar")
	}))
	defer peer.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(peer.URL, "http://"))

	tests := []struct {
		name     string
		url      string
		status   int
		contains string
	}{
		{name: "127.0.0.1", url: peer.URL, status: 200, contains: "from the sidecar"},
		{name: "localhost", url: "http://localhost:" + port + "/", status: 200, contains: "from the sidecar"},
		// 192.0.2.0/24 is TEST-NET-1: refused before any packet is sent.
		{name: "foreign address", url: "http://192.0.2.1:" + port + "/", status: 502, contains: "refusing"},
		{name: "hostname refused unresolved", url: "http://example.invalid/", status: 400, contains: "refusing host"},
		{name: "not http", url: "https://127.0.0.1:" + port + "/", status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(config{}, "pod-a", time.Now(), io.Discard)
			s.localIPs = func() ([]net.IP, error) { return nil, nil }
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", "/fetch?url="+url.QueryEscape(tc.url), nil))
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.contains) {
				t.Fatalf("fetch %s: status %d body %q, want %d containing %q", tc.url, rec.Code, rec.Body, tc.status, tc.contains)
			}
		})
	}
}

func TestCheckDialOwnAddress(t *testing.T) {
	s := newServer(config{}, "pod-a", time.Now(), io.Discard)
	s.localIPs = func() ([]net.IP, error) { return []net.IP{net.ParseIP("10.88.7.5")}, nil }
	for addr, ok := range map[string]bool{
		"10.88.7.5:8080": true,
		"127.0.0.1:80":   true,
		"[::1]:80":       true,
		"10.88.7.6:8080": false,
		"8.8.8.8:53":     false,
	} {
		if err := s.checkDial("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("checkDial(%s) = %v, want allowed=%v", addr, err, ok)
		}
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    config
		wantErr string
	}{
		{name: "defaults", want: config{listen: ":8080", version: "v1", fileRoot: "/etc/hello"}},
		{name: "env", env: map[string]string{"VERSION": "v2", "LISTEN": ":9090", "GREETING": "hi", "READY_AFTER": "3s", "FAIL_LIVENESS_AFTER": "1m", "EXIT_AFTER": "2s", "EXIT_CODE": "3"},
			want: config{listen: ":9090", version: "v2", greeting: "hi", readyAfter: 3 * time.Second, failLivenessAfter: time.Minute, exitAfter: 2 * time.Second, exitCode: 3, fileRoot: "/etc/hello"}},
		{name: "flags win over env", args: []string{"--listen=:1234", "--exit-code", "7", "--greeting", "yo"}, env: map[string]string{"LISTEN": ":9090", "EXIT_CODE": "3"},
			want: config{listen: ":1234", version: "v1", greeting: "yo", exitCode: 7, fileRoot: "/etc/hello"}},
		{name: "bad env duration", env: map[string]string{"READY_AFTER": "soon"}, wantErr: "READY_AFTER"},
		{name: "bad env code", env: map[string]string{"EXIT_CODE": "x"}, wantErr: "EXIT_CODE"},
		{name: "bad flag", args: []string{"--nope"}, wantErr: "nope"},
		{name: "stray argument", args: []string{"serve"}, wantErr: "unexpected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// syncBuf is a strings.Builder safe to read while run writes to it.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunExitAfter(t *testing.T) {
	var out syncBuf
	code := run(context.Background(), []string{"--listen=127.0.0.1:0", "--exit-after=50ms", "--exit-code=3"}, func(string) string { return "" }, &out, io.Discard)
	if code != 3 {
		t.Fatalf("exit code %d, want 3; output %q", code, out.String())
	}
}

func TestRunGracefulShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuf
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen=127.0.0.1:0"}, func(string) string { return "" }, &out, io.Discard)
	}()
	// Find the address it printed and make one request, to see it serve.
	var addr string
	for deadline := time.Now().Add(5 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, rest, ok := strings.Cut(out.String(), "listening on "); ok {
			addr, _, _ = strings.Cut(rest, "\n")
		}
	}
	if addr == "" {
		t.Fatalf("server did not start: %q", out.String())
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel() // what SIGTERM does in main
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d after SIGTERM, want 0", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not shut down")
	}
	if !strings.Contains(out.String(), "GET / 200") || !strings.Contains(out.String(), "bye") {
		t.Errorf("output %q lacks the request log or the goodbye", out.String())
	}
}

func TestRunPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var errOut strings.Builder
	if code := run(context.Background(), []string{"--listen=" + ln.Addr().String()}, func(string) string { return "" }, io.Discard, &errOut); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if !strings.Contains(errOut.String(), "cannot listen") {
		t.Errorf("stderr %q does not say why", errOut.String())
	}
}
