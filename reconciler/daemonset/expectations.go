package daemonset

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// ExpectationsTimeout is how long a DaemonSet waits for the watch to show
// the pod creates and deletes it made before it acts anyway (upstream's
// controller.ExpectationsTimeout). It only matters when events are lost.
const ExpectationsTimeout = 5 * time.Minute

// expectations are upstream's: per DaemonSet key, how many pod creations
// it still waits to see in the cache and which pod deletions (by
// "namespace/name"). Until they are seen the DaemonSet only updates its
// status: a deletion the cache does not show yet would otherwise let a
// rolling update count that node as available and take down one more
// (deletes return no resourceVersion, so the WriteTracker cannot wait for
// them). A restarted controller starts with none: its first cache is a
// fresh list of the store.
type expectations struct {
	clock clock.PassiveClock

	mu  sync.Mutex
	exp map[string]*expectation
}

type expectation struct {
	adds      int
	deletes   map[string]bool
	timestamp time.Time
}

func newExpectations(clk clock.PassiveClock) *expectations {
	return &expectations{clock: clk, exp: map[string]*expectation{}}
}

// satisfied reports whether the DaemonSet key may create or delete pods.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.exp[key]
	if !ok || (x.adds <= 0 && len(x.deletes) == 0) {
		return true
	}
	return e.clock.Since(x.timestamp) > ExpectationsTimeout
}

// set replaces key's expectations with adds creations and the deletion of
// podKeys.
func (e *expectations) set(key string, adds int, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	dels := make(map[string]bool, len(podKeys))
	for _, k := range podKeys {
		dels[k] = true
	}
	e.exp[key] = &expectation{adds: adds, deletes: dels, timestamp: e.clock.Now()}
}

// creationObserved lowers key's expected creations by one.
func (e *expectations) creationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.exp[key]; ok {
		x.adds--
	}
}

// deletionObserved records that podKey's deletion (or its start) was
// seen; only expected keys count.
func (e *expectations) deletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.exp[key]; ok {
		delete(x.deletes, podKey)
	}
}

// forget drops key's expectations (the DaemonSet is gone).
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.exp, key)
}
