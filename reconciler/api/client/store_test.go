package client_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

func TestRemoteStoreVerbs(t *testing.T) {
	ts := startServer(t, store.Options{})
	st := client.NewStore(ts.client(t, ts.NodeToken))
	admin := client.NewStore(ts.client(t, ts.Admin))
	ctx := context.Background()
	mustCreate(t, ts.Store, pod("default", "a", "n1", map[string]string{"app": "web"}))
	mustCreate(t, ts.Store, pod("default", "b", "n2", map[string]string{"app": "db"}))

	objs, rv, err := st.List(ctx, "Pod", store.ListOptions{Selector: labels.SelectorFromSet(labels.Set{"app": "web"})})
	if err != nil || rv == 0 {
		t.Fatalf("List: rv %d, %v", rv, err)
	}
	if got := names(objs); len(got) != 1 || got[0] != "default/a" {
		t.Errorf("List = %v, want [default/a]", got)
	}
	obj, err := st.Get(ctx, "Pod", "default", "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, "Pod", "default", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a missing pod: %v, want ErrNotFound", err)
	}

	tests := []struct {
		name    string
		st      store.Store
		change  func(p *corev1.Pod)
		stale   bool
		wantErr error
	}{
		{"status by the node token", st, func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning }, false, nil},
		{"stale status", st, func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }, true, store.ErrConflict},
		{"labels by the node token", st, func(p *corev1.Pod) { p.Labels["x"] = "y" }, false, client.ErrForbidden},
		{"labels by the admin", admin, func(p *corev1.Pod) { p.Labels["x"] = "y" }, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, err := st.Get(ctx, "Pod", "default", "a")
			if err != nil {
				t.Fatal(err)
			}
			p := cur.(*corev1.Pod)
			if tt.stale {
				p = obj.(*corev1.Pod).DeepCopy()
			}
			tt.change(p)
			out, err := tt.st.Update(ctx, p)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Update: %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := out.(*corev1.Pod); got.Status.Phase != p.Status.Phase || got.Labels["x"] != p.Labels["x"] {
				t.Errorf("Update wrote phase %q labels %v, want %q %v", got.Status.Phase, got.Labels, p.Status.Phase, p.Labels)
			}
		})
	}

	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	if _, err := st.Create(ctx, node); err != nil {
		t.Fatalf("Create Node by the node token: %v", err)
	}
	if _, err := st.Create(ctx, node); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("second Create: %v, want ErrAlreadyExists", err)
	}
	zero := int64(0)
	if err := st.Delete(ctx, "Pod", "default", "b", store.DeleteOptions{UID: "other", GracePeriodSeconds: &zero}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Delete with a wrong UID: %v, want ErrConflict", err)
	}
	if err := st.Delete(ctx, "Pod", "default", "b", store.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if err := st.Txn(ctx, func(store.Txn) error { return nil }); !errors.Is(err, client.ErrTxnRemote) {
		t.Errorf("Txn: %v, want ErrTxnRemote", err)
	}
}

func TestRemoteStoreWatchAllKinds(t *testing.T) {
	ts := startServer(t, store.Options{})
	st := client.NewStore(ts.client(t, ts.NodeToken))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, rv1, err := st.List(ctx, "Pod", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, rv2, err := st.List(ctx, "Node", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := st.Watch(ctx, "", min(rv1, rv2))
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, ts.Store, pod("default", "a", "n1", nil))
	if ev := next(t, ch); ev.Type != store.Added || ev.Object.(*corev1.Pod).Name != "a" {
		t.Errorf("event = %s %T, want ADDED pod a", ev.Type, ev.Object)
	}
	mustCreate(t, ts.Store, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	if ev := next(t, ch); ev.Type != store.Added || ev.ResourceVersion == 0 {
		t.Errorf("event = %s rv %d, want ADDED with a version", ev.Type, ev.ResourceVersion)
	} else if _, ok := ev.Object.(*corev1.Node); !ok {
		t.Errorf("event object %T, want a Node", ev.Object)
	}
	mustCreate(t, ts.Store, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "c"}})
	select {
	case ev := <-ch:
		t.Errorf("event of a kind never listed: %s %T", ev.Type, ev.Object)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	for range ch { // closes when ctx ends
	}
}

// restartable is an API server over one memory store that a test can
// stop and start again on the same address, as a server restarting.
type restartable struct {
	t      *testing.T
	st     store.Store
	srv    *api.Server
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func newRestartable(t *testing.T) (*restartable, *client.Client) {
	t.Helper()
	dir := t.TempDir()
	tlsCfg, caPEM, err := api.EnsurePKI(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	admin, nodeTok, err := api.EnsureTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(clocktesting.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	t.Cleanup(func() { st.Close() })
	srv, err := api.NewServer(api.Options{Store: st, AdminToken: admin, NodeToken: nodeTok, TLS: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	r := &restartable{t: t, st: st, srv: srv, addr: "127.0.0.1:0"}
	r.start()
	t.Cleanup(r.stop)
	c, err := client.New(&client.Config{Server: "https://" + r.addr, CAData: caPEM, Token: nodeTok})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return r, c
}

func (r *restartable) start() {
	r.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the old socket may linger a moment
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- r.srv.Serve(ctx, ln) }()
}

func (r *restartable) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	<-r.done
	r.cancel = nil
}

// TestRemoteStoreCacheOutage: a Cache over the remote store keeps its
// pods while the server is away (its watch closes, its lists fail) and
// catches up when the server is back.
func TestRemoteStoreCacheOutage(t *testing.T) {
	srv, c := newRestartable(t)
	mustCreate(t, srv.st, pod("default", "a", "n1", nil))
	cache := controller.NewCache(client.NewStore(c, client.WithFieldSelector("Pod", "spec.nodeName=n1")), "Pod")
	deleted := make(chan string, 10)
	cache.AddHandler("Pod", func(old, new store.Object) {
		if new == nil {
			deleted <- old.(*corev1.Pod).Name
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cache.Start(ctx)
	defer cache.Stop()
	if err := cache.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, srv.st, pod("default", "other-node", "n2", nil))
	waitPods(t, cache, "a")

	srv.stop()
	time.Sleep(300 * time.Millisecond) // the watch has closed, a list or two failed
	waitPods(t, cache, "a")
	mustCreate(t, srv.st, pod("default", "b", "n1", nil))
	srv.start()
	waitPods(t, cache, "a", "b")
	select {
	case name := <-deleted:
		t.Errorf("the cache reported pod %s deleted", name)
	default:
	}
}

func waitPods(t *testing.T, cache *controller.Cache, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := names(cache.Lister("Pod").List("", nil))
		if len(got) == len(want) {
			ok := true
			for i := range got {
				ok = ok && got[i] == "default/"+want[i]
			}
			if ok {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache pods = %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
