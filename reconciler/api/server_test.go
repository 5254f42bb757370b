package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources/webhook"
)

const (
	testAdmin = "admin-token"
	testNode  = "node-token"
)

func newTestServer(t *testing.T, hooks http.Handler) (*httptest.Server, store.Store) {
	t.Helper()
	st := store.NewMemory(clocktesting.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	t.Cleanup(func() { st.Close() })
	s, err := NewServer(Options{Store: st, Hooks: hooks, AdminToken: testAdmin, NodeToken: testNode})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs, st
}

// call makes one request and returns the status code and body.
func call(t *testing.T, hs *httptest.Server, method, path, token, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, hs.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func TestAuthentication(t *testing.T) {
	hooks := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hook "+r.URL.Path) })
	hs, _ := newTestServer(t, hooks)
	const unauthorizedBody = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}` + "\n"
	tests := []struct {
		name, method, path, token string
		wantCode                  int
		wantBody                  string
	}{
		{"no token", "GET", "/api/v1/pods", "", 401, unauthorizedBody},
		{"wrong token", "GET", "/api/v1/pods", "nope", 401, unauthorizedBody},
		{"token prefix", "GET", "/api/v1/pods", testAdmin[:5], 401, unauthorizedBody},
		{"admin", "GET", "/api/v1/pods", testAdmin, 200, ""},
		{"node", "GET", "/api/v1/pods", testNode, 200, ""},
		{"healthz needs none", "GET", "/healthz", "", 200, "ok"},
		{"healthz POST does", "POST", "/healthz", "", 401, unauthorizedBody},
		{"hooks need none", "POST", "/hooks/github/web", "", 200, "hook /hooks/github/web"},
		{"unknown path", "GET", "/nope", testAdmin, 404, ""},
		{"unknown path without token", "GET", "/nope", "", 401, unauthorizedBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, hs, tt.method, tt.path, tt.token, "")
			if code != tt.wantCode {
				t.Errorf("code = %d, want %d (%s)", code, tt.wantCode, body)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("body = %s, want %s", body, tt.wantBody)
			}
		})
	}
}

func TestHooksNil(t *testing.T) {
	hs, _ := newTestServer(t, nil)
	if code, _ := call(t, hs, "POST", "/hooks/x", "", "{}"); code != 404 {
		t.Errorf("code = %d, want 404", code)
	}
}

func TestResourcePaths(t *testing.T) {
	hs, st := newTestServer(t, nil)
	ctx := context.Background()
	for _, o := range []store.Object{
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "prod"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}},
	} {
		if _, err := st.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		method, path string
		wantCode     int
		wantKind     string
	}{
		{"GET", "/api/v1/pods", 200, "PodList"},
		{"GET", "/api/v1/namespaces/default/pods", 200, "PodList"},
		{"GET", "/api/v1/namespaces/default/pods/p", 200, "Pod"},
		{"GET", "/api/v1/namespaces/default/pods/p/status", 200, "Pod"},
		{"GET", "/api/v1/namespaces/prod", 200, "Namespace"},
		{"GET", "/api/v1/namespaces/prod/status", 200, "Namespace"},
		{"GET", "/api/v1/namespaces", 200, "NamespaceList"},
		{"GET", "/api/v1/nodes/n1", 200, "Node"},
		{"GET", "/apis/apps/v1/deployments", 200, "DeploymentList"},
		{"GET", "/apis/apps/v1/namespaces/x/replicasets", 200, "ReplicaSetList"},
		{"GET", "/apis/batch/v1/cronjobs", 200, "CronJobList"},
		{"GET", "/apis/berth.io/v1/sources", 200, "SourceList"},
		{"GET", "/api/v1/namespaces/default/events", 200, "EventList"},
		{"GET", "/apis/apps/v1/pods", 404, "Status"},            // wrong group
		{"GET", "/api/v1/deployments", 404, "Status"},           // wrong group
		{"GET", "/api/v1/namespaces/default/nodes/n1", 404, ""}, // cluster-scoped
		{"GET", "/api/v1/pods/p", 404, "Status"},                // needs a namespace
		{"GET", "/api/v1/namespaces/default/configmaps/x/status", 404, "Status"},
		{"GET", "/api/v1/namespaces/default/pods/nope", 404, "Status"},
		{"POST", "/api/v1/pods", 405, "Status"},
		{"DELETE", "/api/v1/pods", 405, "Status"},
		{"PATCH", "/api/v1/namespaces/default/pods/p", 405, "Status"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			code, body := call(t, hs, tt.method, tt.path, testAdmin, "")
			if code != tt.wantCode {
				t.Fatalf("code = %d, want %d: %s", code, tt.wantCode, body)
			}
			var tm struct {
				Kind       string `json:"kind"`
				APIVersion string `json:"apiVersion"`
				Items      []struct {
					Kind string `json:"kind"`
				} `json:"items"`
			}
			if err := json.Unmarshal([]byte(body), &tm); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if tt.wantKind != "" && tm.Kind != tt.wantKind {
				t.Errorf("kind = %q, want %q", tm.Kind, tt.wantKind)
			}
			for _, it := range tm.Items {
				if it.Kind+"List" != tm.Kind {
					t.Errorf("item kind %q in a %s", it.Kind, tm.Kind)
				}
			}
		})
	}
}

func TestNotFoundStatus(t *testing.T) {
	hs, _ := newTestServer(t, nil)
	code, body := call(t, hs, "GET", "/apis/apps/v1/namespaces/default/deployments/web", testAdmin, "")
	if code != 404 {
		t.Fatalf("code %d", code)
	}
	var st metav1.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	want := metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   "Failure", Message: `deployments.apps "web" not found`, Reason: "NotFound", Code: 404,
		Details: &metav1.StatusDetails{Name: "web", Group: "apps", Kind: "deployments"},
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestWriteBodies(t *testing.T) {
	hs, _ := newTestServer(t, nil)
	cm := func(extra string) string {
		return `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"` + extra + `},"data":{"a":"b"}}`
	}
	tests := []struct {
		name, method, path, body string
		wantCode                 int
		wantIn                   string
	}{
		{"create", "POST", "/api/v1/namespaces/default/configmaps", cm(""), 201, `"resourceVersion":"1"`},
		{"create again", "POST", "/api/v1/namespaces/default/configmaps", cm(""), 409, `"reason":"AlreadyExists"`},
		{"namespace mismatch", "POST", "/api/v1/namespaces/other/configmaps", cm(`,"namespace":"default"`), 400, "does not match the namespace"},
		{"kind mismatch", "POST", "/api/v1/namespaces/default/secrets", cm(""), 400, "this URL takes a Secret"},
		{"unknown field", "POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"x"},"dta":{}}`, 400, `unknown field \"dta\"`},
		{"not JSON", "POST", "/api/v1/namespaces/default/configmaps", `name: x`, 400, "decoding the request body"},
		{"update without version", "PUT", "/api/v1/namespaces/default/configmaps/c", cm(""), 409, `"reason":"Conflict"`},
		{"update stale", "PUT", "/api/v1/namespaces/default/configmaps/c", cm(`,"resourceVersion":"7"`), 409, `"reason":"Conflict"`},
		{"update name mismatch", "PUT", "/api/v1/namespaces/default/configmaps/d", cm(`,"resourceVersion":"1"`), 400, "does not match the name"},
		{"update", "PUT", "/api/v1/namespaces/default/configmaps/c", `{"metadata":{"name":"c","resourceVersion":"1"},"data":{"a":"z"}}`, 200, `"a":"z"`},
		{"too big", "POST", "/api/v1/namespaces/default/configmaps", `{"data":{"a":"` + strings.Repeat("x", maxRequestBody) + `"}}`, 413, "larger than"},
		{"delete", "DELETE", "/api/v1/namespaces/default/configmaps/c", "", 200, `"status":"Success"`},
		{"delete again", "DELETE", "/api/v1/namespaces/default/configmaps/c", "", 404, `configmaps \"c\" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, hs, tt.method, tt.path, testAdmin, tt.body)
			if code != tt.wantCode || !strings.Contains(body, tt.wantIn) {
				t.Errorf("got %d %s\nwant %d containing %s", code, body, tt.wantCode, tt.wantIn)
			}
		})
	}
}

func TestWatchStream(t *testing.T) {
	hs, st := newTestServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", hs.URL+"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0", nil)
	req.Header.Set("Authorization", "Bearer "+testAdmin)
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, err := st.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "c"}}); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(resp.Body)
	var ev struct {
		Type   string
		Object map[string]any
	}
	if err := dec.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "ADDED" || ev.Object["kind"] != "ConfigMap" || ev.Object["apiVersion"] != "v1" {
		t.Errorf("event %+v", ev)
	}
}

func TestNodeMayAccess(t *testing.T) {
	tests := []struct {
		method, kind string
		sub          []string
		want         bool
	}{
		{"GET", "Deployment", nil, true},
		{"GET", "Secret", nil, true},
		{"POST", "Node", nil, true},
		{"PUT", "Node", []string{"status"}, true},
		{"DELETE", "Node", nil, true},
		{"POST", "Event", nil, true},
		{"PUT", "Pod", []string{"status"}, true},
		{"DELETE", "Pod", nil, true},
		{"PUT", "Pod", nil, false},
		{"POST", "Pod", nil, false},
		{"PUT", "Deployment", []string{"status"}, false},
		{"DELETE", "ConfigMap", nil, false},
	}
	for _, tt := range tests {
		if got := nodeMayAccess(tt.method, tt.kind, tt.sub); got != tt.want {
			t.Errorf("nodeMayAccess(%s, %s, %v) = %v, want %v", tt.method, tt.kind, tt.sub, got, tt.want)
		}
	}
}

func TestNewServerChecks(t *testing.T) {
	st := store.NewMemory(clocktesting.NewFakeClock(time.Now()))
	defer st.Close()
	for name, opts := range map[string]Options{
		"no store":    {AdminToken: "a"},
		"no admin":    {Store: st},
		"same tokens": {Store: st, AdminToken: "a", NodeToken: "a"},
	} {
		if _, err := NewServer(opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestPaths(t *testing.T) {
	tests := []struct {
		kind, ns, name, want string
	}{
		{"Pod", "default", "p", "/api/v1/namespaces/default/pods/p"},
		{"Pod", "", "", "/api/v1/pods"},
		{"Node", "ignored", "n1", "/api/v1/nodes/n1"},
		{"Deployment", "prod", "", "/apis/apps/v1/namespaces/prod/deployments"},
		{"CronJob", "a", "b", "/apis/batch/v1/namespaces/a/cronjobs/b"},
		{"Source", "", "web", "/apis/berth.io/v1/sources/web"},
		{"Namespace", "", "prod", "/api/v1/namespaces/prod"},
	}
	for _, tt := range tests {
		got, err := ResourcePath(tt.kind, tt.ns, tt.name)
		if err != nil || got != tt.want {
			t.Errorf("ResourcePath(%s, %s, %s) = %s, %v; want %s", tt.kind, tt.ns, tt.name, got, err, tt.want)
		}
	}
	if _, err := ResourcePath("Widget", "", ""); err == nil {
		t.Error("ResourcePath of an unknown kind: no error")
	}
	if got := ActionPath("Deployment", "prod", "web", "rollout/undo"); got != "/apis/berth.io/v1/namespaces/prod/deployments/web/rollout/undo" {
		t.Errorf("ActionPath = %s", got)
	}
}

func TestRequestsAreLogged(t *testing.T) {
	var buf bytes.Buffer
	st := store.NewMemory(clocktesting.NewFakeClock(time.Now()))
	defer st.Close()
	s, err := NewServer(Options{Store: st, AdminToken: testAdmin,
		Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/nodes?labelSelector=a%3Db", nil)
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("code %d", rec.Code)
	}
	line := buf.String()
	for _, want := range []string{"level=DEBUG", "method=GET", "path=/api/v1/nodes", "code=401", `query="labelSelector=a%3Db"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %q", line, want)
		}
	}
}

func TestServeNeedsTLS(t *testing.T) {
	st := store.NewMemory(clocktesting.NewFakeClock(time.Now()))
	defer st.Close()
	s, err := NewServer(Options{Store: st, AdminToken: testAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "EnsurePKI") {
		t.Errorf("Serve without TLS: %v", err)
	}
}

// A watcher that stops reading is dropped once a write blocks for the
// stream timeout, instead of pinning the handler (and its store watch).
func TestSlowWatcherIsDropped(t *testing.T) {
	var logs syncBuffer
	st := store.NewMemory(clocktesting.NewFakeClock(time.Now()))
	defer st.Close()
	s, err := NewServer(Options{Store: st, AdminToken: testAdmin,
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	s.streamTimeout = 200 * time.Millisecond
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()

	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/v1/configmaps?watch=true&resourceVersion=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", testAdmin)
	// Never read; write far more than socket buffers hold.
	big := strings.Repeat("x", 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; !strings.Contains(logs.String(), "path=/api/v1/configmaps"); i++ {
		if time.Now().After(deadline) {
			t.Fatal("the watch handler is still blocked on a client that does not read")
		}
		if i < 64 {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("c%d", i)}, Data: map[string]string{"k": big}}
			if _, err := st.Create(context.Background(), cm); err != nil {
				t.Fatal(err)
			}
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A webhook client that sends its headers and then nothing is cut off
// after the hook read timeout, instead of holding a connection and a
// goroutine forever.
func TestSlowHookIsCutOff(t *testing.T) {
	st := store.NewMemory(clocktesting.NewFakeClock(time.Now()))
	defer st.Close()
	hooks := webhook.New(webhook.Options{
		Secret:  func(n string) ([]byte, bool) { return []byte("s3cret"), n == "web" },
		Trigger: func(string) bool { return true },
	})
	s, err := NewServer(Options{Store: st, AdminToken: testAdmin, Hooks: hooks})
	if err != nil {
		t.Fatal(err)
	}
	s.hookTimeout = 200 * time.Millisecond
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()

	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /hooks/web HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	data, err := io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("got %q; the connection of a hook that sends no body is still open after %v", data, time.Since(start))
	}
}

// A quiet watch outlives both the request's write deadline and the
// stream's per-write one, over HTTP/2 (where a stream's write deadline
// fires even when nothing is written) as over HTTP/1.
func TestIdleWatchSurvivesDeadlines(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[h2], func(t *testing.T) {
			st := store.NewMemory(clocktesting.NewFakeClock(time.Now()))
			defer st.Close()
			s, err := NewServer(Options{Store: st, AdminToken: testAdmin})
			if err != nil {
				t.Fatal(err)
			}
			s.requestTimeout = 200 * time.Millisecond
			s.streamTimeout = 200 * time.Millisecond
			hs := httptest.NewUnstartedServer(s.Handler())
			hs.EnableHTTP2 = h2
			if h2 {
				hs.StartTLS()
			} else {
				hs.Start()
			}
			defer hs.Close()

			ctx := context.Background()
			_, rv, err := st.List(ctx, "ConfigMap", store.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/configmaps?watch=true&resourceVersion=%d", hs.URL, rv), nil)
			req.Header.Set("Authorization", "Bearer "+testAdmin)
			resp, err := hs.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if h2 != (resp.ProtoMajor == 2) {
				t.Fatalf("protocol %s", resp.Proto)
			}
			lines := make(chan string, 10)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			time.Sleep(time.Second) // quiet for 5 deadlines
			if _, err := st.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "late"}}); err != nil {
				t.Fatal(err)
			}
			select {
			case l, ok := <-lines:
				if !ok || !strings.Contains(l, `"ADDED"`) || !strings.Contains(l, `"late"`) {
					t.Fatalf("got %q (open %v), want the ADDED event", l, ok)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no event within 5s")
			}
		})
	}
}
