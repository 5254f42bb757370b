package agent_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes/agent"
)

func TestNetProbes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			if r.Header.Get("X-Check") != "yes" || r.Host != "example.test" || r.UserAgent() == "" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
		case "/moved":
			http.Redirect(w, r, "/ok", http.StatusFound)
			return
		case "/away":
			http.Redirect(w, r, "http://elsewhere.invalid/", http.StatusFound)
			return
		case "/slow":
			time.Sleep(1500 * time.Millisecond)
		case "/bad":
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	hdr := http.Header{"X-Check": {"yes"}, "Host": {"example.test"}}
	tests := []struct {
		path string
		code int
		err  bool
	}{
		{"/ok", 200, false},
		{"/moved", 200, false},
		{"/away", 302, false}, // a redirect off the host is its own answer
		{"/bad", 500, false},
		{"/slow", 0, true}, // past the 1s timeout
	}
	for _, tt := range tests {
		u := *base
		u.Path = tt.path
		code, err := agent.NetProbes{}.HTTPGet(context.Background(), agent.HTTPProbe{URL: &u, Header: hdr, Timeout: time.Second})
		if code != tt.code || (err != nil) != tt.err {
			t.Errorf("%s: %d %v, want %d err=%v", tt.path, code, err, tt.code, tt.err)
		}
	}
	if err := (agent.NetProbes{}).TCPConnect(context.Background(), agent.TCPProbe{Address: base.Host, Timeout: time.Second}); err != nil {
		t.Errorf("tcp to a listener: %v", err)
	}
	if err := (agent.NetProbes{}).TCPConnect(context.Background(), agent.TCPProbe{Address: closedPort(t), Timeout: time.Second}); err == nil {
		t.Error("tcp to a closed port succeeded")
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestRealHTTPAndTCPProbes: a hostNetwork pod is probed on 127.0.0.1:
// readiness by httpGet on a named port, liveness by tcpSocket.
func TestRealHTTPAndTCPProbes(t *testing.T) {
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() || r.URL.Path != "/readyz" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	_, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	_, closedStr, _ := net.SplitHostPort(closedPort(t))
	closed, _ := strconv.Atoi(closedStr)

	e := newAgentEnv(t, agentEnv{net: agent.NetProbes{}})
	e.create(boundPod("web", func(p *corev1.Pod) {
		p.Spec.HostNetwork = true
		c := &p.Spec.Containers[0]
		c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}
		c.ReadinessProbe = &corev1.Probe{PeriodSeconds: 5, ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intOrStr("http")}}}
	}))
	e.create(boundPod("dead", func(p *corev1.Pod) {
		p.Spec.HostNetwork = true
		p.Spec.Containers[0].LivenessProbe = &corev1.Probe{PeriodSeconds: 5, FailureThreshold: 1, ProbeHandler: corev1.ProbeHandler{
			TCPSocket: &corev1.TCPSocketAction{Port: intOrInt(closed)}}}
	}))
	e.advanceTo(epoch)
	if e.app("web").Ready {
		t.Fatal("ready while the server answers 503")
	}
	healthy.Store(true)
	e.advanceTo(epoch.Add(5 * time.Second))
	if !e.app("web").Ready {
		t.Fatalf("not ready once the server answers 200; events %q", e.events.Events())
	}
	if cs := e.app("dead"); cs.RestartCount == 0 {
		t.Errorf("a failing tcp liveness probe did not restart the container")
	}
}
