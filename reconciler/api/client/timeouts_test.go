package client_test

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/store"
)

// fakeAPI is a TLS (HTTP/2) server whose handler the test writes, and a
// client of it.
func fakeAPI(t *testing.T, h http.HandlerFunc) *client.Client {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	c, err := client.New(&client.Config{Server: srv.URL, CAData: ca, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestTransportPingsIdleConnections(t *testing.T) {
	c := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {})
	tr, ok := c.HTTPClient().Transport.(*http.Transport)
	if !ok || tr.HTTP2 == nil {
		t.Fatalf("transport %T has no HTTP/2 config", c.HTTPClient().Transport)
	}
	if tr.HTTP2.SendPingTimeout != client.ReadIdleTimeout || tr.HTTP2.PingTimeout != client.PingTimeout {
		t.Errorf("HTTP2 = %+v, want SendPingTimeout %v PingTimeout %v", tr.HTTP2, client.ReadIdleTimeout, client.PingTimeout)
	}
}

func TestRemoteStoreCallTimeout(t *testing.T) {
	c := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	st := client.NewStore(c, client.WithCallTimeout(200*time.Millisecond))
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := st.Get(context.Background(), "Node", "", "n1")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Get of a server that never answers succeeded")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Get took %v", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Get of a server that never answers did not end")
	}
}

func TestRemoteStoreWatchAsksForATimeout(t *testing.T) {
	got := make(chan string, 1)
	c := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Query().Get("timeoutSeconds")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	st := client.NewStore(c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := st.Watch(ctx, "Node", 1); err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(<-got)
	if err != nil || n < 300 || n >= 600 {
		t.Errorf("watch timeoutSeconds = %d (%v), want 300..599", n, err)
	}
}

// A server that ignores timeoutSeconds (or a stream gone quiet) still
// has its watch ended by the client.
func TestWatchEndsAfterItsTimeout(t *testing.T) {
	c := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	ch, err := c.WatchWithOptions(context.Background(), "Node", "", "1", client.ListOptions{TimeoutSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-ch:
		for ok {
			_, ok = <-ch
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watch did not end after its timeout")
	}
}

func TestRemoteStoreStatusWritesGoStraightToStatus(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	c := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	st := client.NewStore(c, client.WithStatusWrites("Pod"))
	p := pod("default", "a", "n1", nil)
	p.ResourceVersion = "7"
	p.Status.Phase = corev1.PodRunning
	if _, err := st.Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 1 || calls[0] != "PUT /api/v1/namespaces/default/pods/a/status" {
		t.Errorf("calls = %v, want one PUT to the status subresource", calls)
	}
}

// The server checks the resourceVersion of a status write.
func TestRemoteStoreStatusWritesConflict(t *testing.T) {
	ts := startServer(t, store.Options{})
	st := client.NewStore(ts.client(t, ts.NodeToken), client.WithStatusWrites("Pod"))
	admin := client.NewStore(ts.client(t, ts.Admin))
	ctx := context.Background()
	mustCreate(t, ts.Store, pod("default", "a", "n1", map[string]string{"app": "web"}))
	obj, err := st.Get(ctx, "Pod", "default", "a")
	if err != nil {
		t.Fatal(err)
	}
	p := obj.(*corev1.Pod)
	p.Status.Phase = corev1.PodRunning
	if _, err := st.Update(ctx, p); err != nil {
		t.Fatalf("status write: %v", err)
	}
	p.Status.Phase = corev1.PodFailed // p's resourceVersion is now stale
	if _, err := st.Update(ctx, p); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale status write: %v, want ErrConflict", err)
	}
	// The admin's store still writes the whole pod.
	obj, _ = admin.Get(ctx, "Pod", "default", "a")
	p = obj.(*corev1.Pod)
	p.Labels["x"] = "y"
	if out, err := admin.Update(ctx, p); err != nil || out.(*corev1.Pod).Labels["x"] != "y" {
		t.Errorf("admin label write: %v", err)
	}
}
