package controller

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// ExpectationsTimeout is how long a controller waits for the watch to show
// the creates and deletes it made before it acts anyway (upstream's
// controller.ExpectationsTimeout). It only matters when events are lost.
const ExpectationsTimeout = 5 * time.Minute

// Expectations is upstream's UIDTrackingControllerExpectations: per owner
// key (a ReplicaSet, a DaemonSet, a Job), how many pod creations it still
// waits to see in the cache and which pod deletions (by "namespace/name").
// Until they are seen (or ExpectationsTimeout passes) the owner does not
// create or delete pods again, so a cache that lags its own writes cannot
// make it create duplicates or count a deleted pod as still there. A
// restarted controller starts with none: the cache it starts with is a
// fresh list of the store, which already holds every earlier write. It is
// safe for concurrent use.
type Expectations struct {
	clock clock.PassiveClock

	mu  sync.Mutex
	exp map[string]*expectation
}

type expectation struct {
	adds      int
	deletes   map[string]bool // pod keys still to be seen deleted
	timestamp time.Time
}

// NewExpectations returns empty expectations timed by clk.
func NewExpectations(clk clock.PassiveClock) *Expectations {
	return &Expectations{clock: clk, exp: map[string]*expectation{}}
}

// Satisfied reports whether key may create or delete pods: it has no
// expectations, they are met, or they expired.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.exp[key]
	if !ok || (x.adds <= 0 && len(x.deletes) == 0) {
		return true
	}
	return e.clock.Since(x.timestamp) > ExpectationsTimeout
}

// Expect replaces key's expectations with adds creations and the deletion
// of podKeys.
func (e *Expectations) Expect(key string, adds int, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	dels := make(map[string]bool, len(podKeys))
	for _, k := range podKeys {
		dels[k] = true
	}
	e.exp[key] = &expectation{adds: adds, deletes: dels, timestamp: e.clock.Now()}
}

// ExpectCreations replaces key's expectations with n creations.
func (e *Expectations) ExpectCreations(key string, n int) { e.Expect(key, n, nil) }

// ExpectDeletions replaces key's expectations with the deletion of podKeys.
func (e *Expectations) ExpectDeletions(key string, podKeys []string) { e.Expect(key, 0, podKeys) }

// CreationObserved lowers key's expected creations by one.
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.exp[key]; ok {
		x.adds--
	}
}

// DeletionObserved records that podKey's deletion (or its start) was seen.
// Only expected keys count, so a pod seen first terminating and then gone
// counts once.
func (e *Expectations) DeletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.exp[key]; ok {
		delete(x.deletes, podKey)
	}
}

// Forget drops key's expectations (the owner is gone).
func (e *Expectations) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.exp, key)
}
