package job

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/berth-io/berth/reconciler/store"
)

// trackedStore is controller.WriteTracker that also remembers the writes
// of transactions: the Job controller counts finished pods and writes the
// Job's status in one Txn, and its next sync must see that Txn's result
// (else it would count the same pods again from a stale cache).
type trackedStore struct {
	store.Store
	last atomic.Int64
}

func newTrackedStore(st store.Store) *trackedStore { return &trackedStore{Store: st} }

// Create implements store.Store, remembering the write.
func (s *trackedStore) Create(ctx context.Context, obj store.Object) (store.Object, error) {
	out, err := s.Store.Create(ctx, obj)
	if err == nil {
		s.record(out)
	}
	return out, err
}

// Update implements store.Store, remembering the write.
func (s *trackedStore) Update(ctx context.Context, obj store.Object) (store.Object, error) {
	out, err := s.Store.Update(ctx, obj)
	if err == nil {
		s.record(out)
	}
	return out, err
}

// Txn implements store.Store, remembering the objects the transaction
// created and updated once it committed. Callers put the write whose
// version must be seen last (the Job's status).
func (s *trackedStore) Txn(ctx context.Context, fn func(store.Txn) error) error {
	rt := &recordingTxn{}
	err := s.Store.Txn(ctx, func(t store.Txn) error {
		rt.Txn = t
		return fn(rt)
	})
	if err == nil {
		for _, o := range rt.written {
			s.record(o)
		}
	}
	return err
}

func (s *trackedStore) record(obj store.Object) {
	if obj == nil {
		return
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	rv, err := strconv.ParseInt(m.GetResourceVersion(), 10, 64)
	if err != nil {
		return
	}
	for {
		cur := s.last.Load()
		if rv <= cur || s.last.CompareAndSwap(cur, rv) {
			return
		}
	}
}

// awaitCache waits until wait (the cache's WaitFor; nil without a cache)
// has applied the last write, as controller.WriteTracker.AwaitCache does.
func (s *trackedStore) awaitCache(ctx context.Context, wait func(context.Context, int64) error) error {
	rv := s.last.Load()
	if wait == nil || rv == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, cacheWaitTimeout)
	defer cancel()
	if err := wait(ctx, rv); err != nil {
		return fmt.Errorf("watch cache has not caught up with resourceVersion %d: %w", rv, err)
	}
	return nil
}

// cacheWaitTimeout bounds the wait for the cache to show the controller's
// own last write (controller.WriteTracker's bound).
const cacheWaitTimeout = 10 * time.Second

// recordingTxn keeps what a transaction created or updated.
type recordingTxn struct {
	store.Txn
	written []store.Object
}

func (t *recordingTxn) Create(obj store.Object) (store.Object, error) {
	out, err := t.Txn.Create(obj)
	if err == nil {
		t.written = append(t.written, out)
	}
	return out, err
}

func (t *recordingTxn) Update(obj store.Object) (store.Object, error) {
	out, err := t.Txn.Update(obj)
	if err == nil {
		t.written = append(t.written, out)
	}
	return out, err
}
