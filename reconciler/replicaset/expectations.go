package replicaset

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// ExpectationsTimeout is how long a ReplicaSet waits for the watch to show
// the pod creates and deletes it made before it syncs anyway (upstream's
// controller.ExpectationsTimeout). It only matters when events are lost.
const ExpectationsTimeout = 5 * time.Minute

// expectations is upstream's UIDTrackingControllerExpectations: per
// ReplicaSet key, how many pod creations it still waits to see in the cache
// and which pod deletions (by "namespace/name"). Until they are seen (or
// ExpectationsTimeout passes) the ReplicaSet does not create or delete
// pods again, so a cache that lags its own writes cannot make it create
// duplicates. A restarted controller starts with none: the cache it starts
// with is a fresh list of the store, which already holds every earlier
// write.
type expectations struct {
	clock clock.PassiveClock

	mu  sync.Mutex
	exp map[string]*expectation
}

type expectation struct {
	adds      int
	deletes   map[string]bool // pod keys still to be seen deleted
	timestamp time.Time
}

func newExpectations(clk clock.PassiveClock) *expectations {
	return &expectations{clock: clk, exp: map[string]*expectation{}}
}

// satisfied reports whether the ReplicaSet key may create or delete pods:
// it has no expectations, they are met, or they expired.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.exp[key]
	if !ok {
		return true
	}
	if x.adds <= 0 && len(x.deletes) == 0 {
		return true
	}
	return e.clock.Since(x.timestamp) > ExpectationsTimeout
}

// expectCreations replaces key's expectations with n creations.
func (e *expectations) expectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.exp[key] = &expectation{adds: n, timestamp: e.clock.Now()}
}

// expectDeletions replaces key's expectations with the deletion of podKeys.
func (e *expectations) expectDeletions(key string, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	dels := make(map[string]bool, len(podKeys))
	for _, k := range podKeys {
		dels[k] = true
	}
	e.exp[key] = &expectation{deletes: dels, timestamp: e.clock.Now()}
}

// creationObserved lowers key's expected creations by one.
func (e *expectations) creationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.exp[key]; ok {
		x.adds--
	}
}

// deletionObserved records that podKey's deletion was seen. Only expected
// keys count, so a pod seen first terminating and then gone counts once.
func (e *expectations) deletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.exp[key]; ok {
		delete(x.deletes, podKey)
	}
}

// forget drops key's expectations (the ReplicaSet is gone).
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.exp, key)
}
