package deployment

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

// writeTracker is berth's form of upstream's consistency store
// (StaleControllerConsistencyReplicaSet, on by default since 1.36): it
// remembers the resourceVersion of the controller's latest write, and a
// sync first waits until the watch cache has applied it. Otherwise a sync
// right after a write reads the cache's older copy and its next write
// fails with a conflict (or, for reads that are not written back, acts on
// what it already changed). Expectations still guard pod counts; this
// only spares the stale reads.
type writeTracker struct {
	store.Store
	last atomic.Int64
}

func (w *writeTracker) Create(ctx context.Context, obj store.Object) (store.Object, error) {
	out, err := w.Store.Create(ctx, obj)
	w.record(out, err)
	return out, err
}

func (w *writeTracker) Update(ctx context.Context, obj store.Object) (store.Object, error) {
	out, err := w.Store.Update(ctx, obj)
	w.record(out, err)
	return out, err
}

func (w *writeTracker) record(obj store.Object, err error) {
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

// awaitCache waits until wait (the cache's WaitFor, nil when the
// controller was built without a cache) reports the last write applied.
func awaitCache(ctx context.Context, w *writeTracker, wait func(context.Context, int64) error) error {
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
