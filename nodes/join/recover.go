package join

import (
	"context"
	"sync"

	"github.com/berth-io/berth/reconciler/store"
)

// recoveringStore passes everything to its Store and calls onRecover
// (in a goroutine of its own, so that the cache's list is not held up)
// when a List succeeds after one failed: the watch cache lists again as
// soon as it can after losing the server, so that is when the server is
// back.
type recoveringStore struct {
	store.Store
	onRecover func()

	mu     sync.Mutex
	failed bool
}

func (s *recoveringStore) List(ctx context.Context, kind string, opts store.ListOptions) ([]store.Object, int64, error) {
	objs, rv, err := s.Store.List(ctx, kind, opts)
	s.mu.Lock()
	recovered := err == nil && s.failed
	s.failed = err != nil
	s.mu.Unlock()
	if recovered && s.onRecover != nil {
		go s.onRecover()
	}
	return objs, rv, err
}
