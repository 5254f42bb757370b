package controller

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/berth-io/berth/reconciler/store"
)

// cacheWaitTimeout bounds how long a sync waits for the watch cache to
// show this controller's own last write; past it the sync fails and is
// retried with backoff.
const cacheWaitTimeout = 10 * time.Second

// WriteTracker is berth's form of upstream's consistency store
// (StaleControllerConsistencyReplicaSet, on by default since 1.36): it
// remembers the resourceVersion of a controller's latest write, and each
// of its syncs first waits (AwaitCache) until the watch cache has applied
// it. Otherwise a sync
// right after a write reads the cache's older copy and its next write
// fails with a conflict (or, for reads that are not written back, acts on
// what it already changed). Expectations still guard pod counts; this
// only spares the stale reads.
type WriteTracker struct {
	store.Store
	last atomic.Int64
}

// NewWriteTracker wraps st; use it for every write of one controller.
func NewWriteTracker(st store.Store) *WriteTracker { return &WriteTracker{Store: st} }

// Create implements store.Store, remembering the write.
func (w *WriteTracker) Create(ctx context.Context, obj store.Object) (store.Object, error) {
	out, err := w.Store.Create(ctx, obj)
	w.record(out, err)
	return out, err
}

// Update implements store.Store, remembering the write.
func (w *WriteTracker) Update(ctx context.Context, obj store.Object) (store.Object, error) {
	out, err := w.Store.Update(ctx, obj)
	w.record(out, err)
	return out, err
}

// Txn implements store.Store, remembering the objects the transaction
// created and updated once it committed (the Job controller counts
// finished pods and writes the Job's status in one transaction, and its
// next sync must see that result, or it would count the same pods again).
func (w *WriteTracker) Txn(ctx context.Context, fn func(store.Txn) error) error {
	rt := &recordingTxn{}
	err := w.Store.Txn(ctx, func(t store.Txn) error {
		rt.Txn = t
		return fn(rt)
	})
	if err == nil {
		for _, o := range rt.written {
			w.record(o, nil)
		}
	}
	return err
}

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

func (w *WriteTracker) record(obj store.Object, err error) {
	if err != nil || obj == nil {
		return
	}
	m, merr := meta.Accessor(obj)
	if merr != nil {
		return
	}
	rv, perr := strconv.ParseInt(m.GetResourceVersion(), 10, 64)
	if perr != nil {
		return
	}
	for {
		cur := w.last.Load()
		if rv <= cur || w.last.CompareAndSwap(cur, rv) {
			return
		}
	}
}

// AwaitCache waits until wait (the cache's WaitFor, nil when the
// controller was built without a cache) reports the last write applied.
func (w *WriteTracker) AwaitCache(ctx context.Context, wait func(context.Context, int64) error) error {
	rv := w.last.Load()
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
