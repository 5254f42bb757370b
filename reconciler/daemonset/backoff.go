package daemonset

import (
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// Backoff of the replacement of failed daemon pods: kube-controller-manager
// gives the DaemonSet controller flowcontrol.NewBackOff(1s, 15m).
const (
	FailedPodsBackoffInitial = 1 * time.Second
	FailedPodsBackoffMax     = 15 * time.Minute
)

// failedPodsBackoff is client-go's flowcontrol.Backoff as the DaemonSet
// controller uses it: per (DaemonSet, generation, node), a failed pod is
// deleted at once the first time, then not again until the backoff since
// the last deletion has passed, the backoff doubling up to the max; an
// entry idle for twice the max starts over.
type failedPodsBackoff struct {
	mu      sync.Mutex
	entries map[string]backoffEntry
}

type backoffEntry struct {
	backoff    time.Duration
	lastUpdate time.Time
}

func newFailedPodsBackoff() *failedPodsBackoff {
	return &failedPodsBackoff{entries: map[string]backoffEntry{}}
}

// backoffKey is upstream's failedPodsBackoffKey: a new generation of the
// DaemonSet starts without backoff.
func backoffKey(ds *appsv1.DaemonSet, node string) string {
	return fmt.Sprintf("%s/%d/%s", ds.UID, ds.Status.ObservedGeneration, node)
}

// wait returns how long key is still in backoff at now (0: not).
func (b *failedPodsBackoff) wait(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok {
		return 0
	}
	if left := e.lastUpdate.Add(e.backoff).Sub(now); left > 0 {
		return left
	}
	return 0
}

// next records a deletion for key at now and grows its backoff.
func (b *failedPodsBackoff) next(key string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, e := range b.entries {
		if now.Sub(e.lastUpdate) > 2*FailedPodsBackoffMax {
			delete(b.entries, k)
		}
	}
	e, ok := b.entries[key]
	if !ok {
		b.entries[key] = backoffEntry{backoff: FailedPodsBackoffInitial, lastUpdate: now}
		return
	}
	b.entries[key] = backoffEntry{backoff: min(2*e.backoff, FailedPodsBackoffMax), lastUpdate: now}
}
