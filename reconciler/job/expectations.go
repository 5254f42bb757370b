package job

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// ExpectationsTimeout is how long a Job waits for the watch to show the
// pod creations and deletions it made before it acts again anyway
// (upstream's controller.ExpectationsTimeout); it only matters when
// events are lost.
const ExpectationsTimeout = 5 * time.Minute

// expectations are upstream's ControllerExpectations for Jobs: per Job
// key, how many pod creations it still waits to see in the cache and which
// pod deletions (by "namespace/name"). Until they are seen, manageJob
// neither creates nor deletes pods, so a cache that lags the controller's
// own writes cannot make it start a pod twice. A restarted controller
// starts with none: its cache is a fresh list of the store, which holds
// every earlier write.
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

// satisfied reports whether the Job key may create or delete pods.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.exp[key]
	if !ok || (x.adds <= 0 && len(x.deletes) == 0) {
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

// deletionObserved records that podKey's deletion (or the start of its
// graceful deletion) was seen; only expected keys count, so a pod seen
// terminating and then gone counts once.
func (e *expectations) deletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.exp[key]; ok {
		delete(x.deletes, podKey)
	}
}

// forget drops key's expectations (the Job is gone).
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.exp, key)
}
