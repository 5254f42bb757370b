package gitops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeSource is a Source whose revisions a test sets.
type fakeSource struct {
	name string
	spec sources.SourceSpec

	mu        sync.Mutex
	revisions map[string]sources.Snapshot
	current   sources.Snapshot // the newest made: what Latest fetches
	triggers  int
}

func newFakeSource(name string) *fakeSource {
	return &fakeSource{name: name, spec: sources.SourceSpec{Type: sources.TypeGit, URL: "file:///repo", Branch: "main"}, revisions: map[string]sources.Snapshot{}}
}

func (s *fakeSource) Name() string             { return s.name }
func (s *fakeSource) Spec() sources.SourceSpec { return s.spec }
func (s *fakeSource) Run(ctx context.Context, update func(sources.Snapshot, error)) {
	<-ctx.Done()
}
func (s *fakeSource) Trigger() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.triggers++
}
func (s *fakeSource) At(_ context.Context, rev string) (sources.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for r, snap := range s.revisions {
		if strings.HasPrefix(r, rev) {
			return snap, nil
		}
	}
	return sources.Snapshot{}, fmt.Errorf("revision %s not found", rev)
}

// snapshot records files as revision rev of s and returns the snapshot.
func (s *fakeSource) snapshot(rev string, files ...sources.File) sources.Snapshot {
	snap := sources.Snapshot{Source: s.name, Revision: rev, Files: files, FetchedAt: epoch}
	s.mu.Lock()
	s.revisions[rev] = snap
	s.current = snap
	s.mu.Unlock()
	return snap
}

func (s *fakeSource) Latest(context.Context) (sources.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.triggers++
	if s.current.Revision == "" {
		return sources.Snapshot{}, errors.New("fake: nothing fetched yet")
	}
	return s.current, nil
}

func file(path, text string) sources.File { return sources.File{Path: path, Data: []byte(text)} }

// env is a store, a manager and a gitops controller on a fake clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	clock *clocktesting.FakeClock
	st    store.Store
	mgr   *controller.Manager
	rec   *controller.FakeRecorder
	c     *Controller
	src   *fakeSource
}

var testKinds = []string{"Namespace", "ConfigMap", "Secret", "Deployment", "Pod", sources.Kind}

func newEnv(t *testing.T, srcs ...*fakeSource) *env {
	t.Helper()
	clk := clocktesting.NewFakeClock(epoch)
	st := store.NewMemory(clk)
	t.Cleanup(func() { st.Close() })
	return newEnvOn(t, st, clk, srcs...)
}

// newEnvOn builds the control plane on an existing store: a restart. The
// periodic full apply is off, so that run ends idle.
func newEnvOn(t *testing.T, st store.Store, clk *clocktesting.FakeClock, srcs ...*fakeSource) *env {
	t.Helper()
	return newEnvResync(t, st, clk, -1, srcs...)
}

// newEnvResync is newEnvOn with the periodic full apply every resync.
func newEnvResync(t *testing.T, st store.Store, clk *clocktesting.FakeClock, resync time.Duration, srcs ...*fakeSource) *env {
	t.Helper()
	if len(srcs) == 0 {
		srcs = []*fakeSource{newFakeSource("web")}
	}
	cache := controller.NewCache(st, testKinds...)
	cache.SetLogger(slog.New(slog.DiscardHandler))
	mgr := controller.NewManager(cache, clk)
	mgr.SetLogger(slog.New(slog.DiscardHandler))
	rec := controller.NewFakeRecorder()
	var list []sources.Source
	for _, s := range srcs {
		list = append(list, s)
	}
	c, err := New(Options{Store: st, Recorder: rec, Clock: clk, Sources: list, ResyncInterval: resync})
	if err != nil {
		t.Fatal(err)
	}
	c.Register(mgr)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	t.Cleanup(cache.Stop)
	return &env{t: t, ctx: ctx, clock: clk, st: st, mgr: mgr, rec: rec, c: c, src: srcs[0]}
}

// run steps the control plane until idle.
func (e *env) run() {
	e.t.Helper()
	if err := e.mgr.RunUntilIdle(e.ctx, e.clock, time.Hour); err != nil {
		e.t.Fatal(err)
	}
}

// deliver hands a revision of the first source to the controller and
// runs until idle.
func (e *env) deliver(rev string, files ...sources.File) {
	e.t.Helper()
	e.c.Update(e.src.name, e.src.snapshot(rev, files...), nil)
	e.run()
}

func (e *env) get(kind, ns, name string) store.Object {
	e.t.Helper()
	obj, err := e.st.Get(e.ctx, kind, ns, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return obj
}

func (e *env) exists(kind, ns, name string) bool {
	_, err := e.st.Get(e.ctx, kind, ns, name)
	return err == nil
}

func (e *env) resource(name string) *sources.Resource {
	e.t.Helper()
	return e.get(sources.Kind, "", name).(*sources.Resource)
}

// storeVersion is the store's current resourceVersion.
func (e *env) storeVersion() int64 {
	_, rv, err := e.st.List(e.ctx, "ConfigMap", store.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return rv
}

func (e *env) events(reason string) []string {
	var out []string
	for _, ev := range e.rec.Events() {
		if strings.Contains(ev, " "+reason+" ") {
			out = append(out, ev)
		}
	}
	return out
}

func condition(res *sources.Resource, typ string) string {
	for _, c := range res.Status.Conditions {
		if c.Type == typ {
			return string(c.Status) + " " + c.Reason + " " + c.Message
		}
	}
	return ""
}

const cmWeb = `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: shop
data:
  greeting: hello
`

const nsShop = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
`

func deployWeb(image string, extra string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: ` + image + `
` + extra
}

type errString string

func (e errString) Error() string { return string(e) }

func metav1ObjectMeta(name, ns string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}
}

func storeDeleteOptions() store.DeleteOptions { return store.DeleteOptions{} }

// hookStore is a store whose reads and transactions a test can disturb.
type hookStore struct {
	store.Store
	mu sync.Mutex
	// get, when it returns an object, answers Get instead of the store.
	get func(kind, namespace, name string) store.Object
	// beforeTxn runs once, before the next transaction starts (another
	// writer getting in between a plan and its commit).
	beforeTxn func()
}

func (s *hookStore) Get(ctx context.Context, kind, namespace, name string) (store.Object, error) {
	s.mu.Lock()
	h := s.get
	s.mu.Unlock()
	if h != nil {
		if obj := h(kind, namespace, name); obj != nil {
			return obj, nil
		}
	}
	return s.Store.Get(ctx, kind, namespace, name)
}

func (s *hookStore) Txn(ctx context.Context, fn func(store.Txn) error) error {
	s.mu.Lock()
	h := s.beforeTxn
	s.beforeTxn = nil
	s.mu.Unlock()
	if h != nil {
		h()
	}
	return s.Store.Txn(ctx, fn)
}

// step moves the clock by d and runs what is then due (run would never
// end idle with the periodic apply on).
func (e *env) step(d time.Duration) {
	e.t.Helper()
	e.clock.Step(d)
	for e.mgr.Step(e.ctx) {
	}
}

// withAnnotation adds an annotation to a manifest's metadata (one with
// "  namespace: shop").
func withAnnotation(manifest, k, v string) string {
	return strings.Replace(manifest, "  namespace: shop\n", "  namespace: shop\n  annotations:\n    "+k+": "+v+"\n", 1)
}

func newFakeClock() *clocktesting.FakeClock { return clocktesting.NewFakeClock(epoch) }
