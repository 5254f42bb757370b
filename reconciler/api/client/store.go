package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
)

// ErrTxnRemote is Txn's error: a transaction needs the store itself.
var ErrTxnRemote = errors.New("store transactions are server-side only: a remote store cannot run one over the API")

// StoreOption configures NewStore.
type StoreOption func(*remoteStore)

// WithFieldSelector makes the store's List and Watch of kind see only
// the objects matching sel ("spec.nodeName=n1"), as kubelet watches only
// its node's pods: an agent then neither lists nor hears of the rest of
// the cluster's pods.
func WithFieldSelector(kind, sel string) StoreOption {
	return func(s *remoteStore) { s.fields[kind] = sel }
}

// WithStatusWrites makes the store's Update of kind a write of its status
// subresource alone, sent straight to .../status: the server keeps the
// rest of the object and checks the resourceVersion. It is for callers
// that only report status (the node agent's pod writes); without it an
// Update of a Pod reads the pod first to pick the path.
func WithStatusWrites(kind string) StoreOption {
	return func(s *remoteStore) { s.statusOnly[kind] = true }
}

// WithCallTimeout bounds each Get, List, Create, Update and Delete
// (default DefaultCallTimeout; 0 or less: no bound but the caller's
// context). Watches are bounded by WatchTimeout instead.
func WithCallTimeout(d time.Duration) StoreOption {
	return func(s *remoteStore) { s.callTimeout = d }
}

// DefaultCallTimeout bounds the store's calls other than watches.
const DefaultCallTimeout = 30 * time.Second

// MinWatchTimeout is the shortest a watch of the store lasts: each asks
// the server to end it after a random time between MinWatchTimeout and
// twice that (as client-go's reflector does), so that a stream that
// silently stopped delivering is replaced.
const MinWatchTimeout = 5 * time.Minute

// NewStore returns the store.Store interface over the API, so that code
// written against the store (controller.Cache, the node agent, the event
// recorder) runs against a remote server:
//
//   - Get, List, Create, Update and Delete are the client's calls. An
//     Update of a Pod that changes only its status goes through the status
//     subresource, the only pod write a node token may make.
//   - Watch of one kind is the client's watch. Watch of all kinds ("", as
//     controller.Cache watches) merges the watches of the kinds this store
//     has listed so far: a Cache lists each of its kinds before watching.
//   - A watch's channel closes when its stream ends for any reason (the
//     server went away, it answered an error, the version expired), which
//     makes a Cache list again. A List that fails leaves a Cache as it
//     was, so an outage never looks like objects deleted.
//   - Txn returns ErrTxnRemote; Close closes the client's idle
//     connections.
func NewStore(c *Client, opts ...StoreOption) store.Store {
	s := &remoteStore{c: c, fields: map[string]string{}, listed: map[string]bool{},
		statusOnly: map[string]bool{}, callTimeout: DefaultCallTimeout, minWatch: MinWatchTimeout}
	for _, o := range opts {
		o(s)
	}
	return s
}

type remoteStore struct {
	c      *Client
	fields map[string]string // kind → field selector
	// statusOnly: kinds whose Update goes to the status subresource.
	statusOnly  map[string]bool
	callTimeout time.Duration
	minWatch    time.Duration // a watch lasts [minWatch, 2*minWatch)

	mu     sync.Mutex
	listed map[string]bool // kinds listed, which Watch("") covers
}

var _ store.Store = (*remoteStore)(nil)

// bound is ctx with the store's per-call timeout.
func (s *remoteStore) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.callTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.callTimeout)
}

func (s *remoteStore) Get(ctx context.Context, kind, namespace, name string) (store.Object, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.c.Get(ctx, kind, namespace, name)
}

func (s *remoteStore) List(ctx context.Context, kind string, opts store.ListOptions) ([]store.Object, int64, error) {
	lo := ListOptions{FieldSelector: s.fields[kind]}
	if opts.Selector != nil {
		lo.LabelSelector = opts.Selector.String()
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	objs, rvs, err := s.c.ListWithOptions(ctx, kind, opts.Namespace, lo)
	if err != nil {
		return nil, 0, err
	}
	rv, err := strconv.ParseInt(rvs, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("the list of %s has resourceVersion %q, not a number", kind, rvs)
	}
	s.mu.Lock()
	s.listed[kind] = true
	s.mu.Unlock()
	return objs, rv, nil
}

func (s *remoteStore) Create(ctx context.Context, obj store.Object) (store.Object, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.c.Create(ctx, obj)
}

// Update writes obj. For a Pod it first reads the stored one: if only the
// status differs, it writes through the status subresource (what an
// agent reporting a pod does, and all a node token may do); a stale
// resourceVersion is a conflict before any write, as the store's would be.
// A kind given WithStatusWrites goes to the status subresource at once.
func (s *remoteStore) Update(ctx context.Context, obj store.Object) (store.Object, error) {
	kind, m, err := describe(obj)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if s.statusOnly[kind] {
		return s.c.UpdateStatus(ctx, obj)
	}
	if kind != "Pod" {
		return s.c.Update(ctx, obj)
	}
	cur, err := s.c.Get(ctx, kind, m.GetNamespace(), m.GetName())
	if err != nil {
		return nil, err
	}
	if cur.(metav1.Object).GetResourceVersion() != m.GetResourceVersion() {
		return nil, fmt.Errorf("%w (pod %s/%s)", store.ErrConflict, m.GetNamespace(), m.GetName())
	}
	if onlyStatusDiffers(cur, obj) {
		return s.c.UpdateStatus(ctx, obj)
	}
	return s.c.Update(ctx, obj)
}

// onlyStatusDiffers reports whether a and b (pointers to the same struct
// type) are equal but for their Status field and type meta.
func onlyStatusDiffers(a, b store.Object) bool {
	a, b = a.DeepCopyObject(), b.DeepCopyObject()
	for _, o := range []store.Object{a, b} {
		v := reflect.ValueOf(o).Elem()
		if f := v.FieldByName("Status"); f.IsValid() && f.CanSet() {
			f.Set(reflect.Zero(f.Type()))
		}
		if f := v.FieldByName("TypeMeta"); f.IsValid() && f.CanSet() {
			f.Set(reflect.Zero(f.Type()))
		}
		o.(metav1.Object).SetManagedFields(nil)
	}
	return equality.Semantic.DeepEqual(a, b)
}

func (s *remoteStore) Delete(ctx context.Context, kind, namespace, name string, opts store.DeleteOptions) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.c.DeleteWithOptions(ctx, kind, namespace, name, opts)
}

// Watch watches kind, or every kind listed so far when kind is "".
func (s *remoteStore) Watch(ctx context.Context, kind string, fromRV int64) (<-chan store.Event, error) {
	kinds := []string{kind}
	if kind == "" {
		s.mu.Lock()
		kinds = kinds[:0]
		for k := range s.listed {
			kinds = append(kinds, k)
		}
		s.mu.Unlock()
		slices.Sort(kinds)
	}
	rv := strconv.FormatInt(fromRV, 10)
	ctx, cancelWatch := context.WithCancel(ctx)
	// The streams' goroutines end the watch; vet's lostcancel does not
	// follow the function literals, hence the second name.
	cancel := cancelWatch
	streams := make([]<-chan store.Event, 0, len(kinds))
	for _, k := range kinds {
		ch, err := s.c.WatchWithOptions(ctx, k, "", rv, ListOptions{FieldSelector: s.fields[k], TimeoutSeconds: s.watchSeconds()})
		if err != nil {
			cancel()
			return nil, err
		}
		streams = append(streams, ch)
	}
	out := make(chan store.Event)
	if len(streams) == 0 {
		// Nothing to watch: a channel that stays open until ctx ends, as
		// the store's own watch of an idle store.
		go func() { <-ctx.Done(); cancel(); close(out) }()
		return out, nil
	}
	var wg sync.WaitGroup
	for _, ch := range streams {
		wg.Go(func() {
			// The first stream to end ends them all: the watcher must
			// list again, and events of the others would be out of date.
			defer cancel()
			forward(ctx, ch, out)
		})
	}
	go func() { wg.Wait(); close(out) }()
	return out, nil
}

// watchSeconds is a watch's timeoutSeconds: random in [minWatch,
// 2*minWatch), so that a node's watches do not all end together.
func (s *remoteStore) watchSeconds() int64 {
	if s.minWatch <= 0 {
		return 0
	}
	d := s.minWatch + rand.N(s.minWatch)
	return max(int64(d/time.Second), 1)
}

// forward copies a client watch's events to out until it ends with an
// error event, closes, or ctx ends. Error events are not passed on: the
// store's watch has no such type, and its end is the signal to re-list.
func forward(ctx context.Context, in <-chan store.Event, out chan<- store.Event) {
	for ev := range in {
		if ev.Type == EventError {
			return
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			return
		}
	}
}

func (s *remoteStore) Txn(context.Context, func(store.Txn) error) error { return ErrTxnRemote }

func (s *remoteStore) Close() error {
	s.c.Close()
	return nil
}
