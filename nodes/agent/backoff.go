package agent

import (
	"sync"
	"time"
)

// Kubelet's container restart backoff (k8s-semantics 6.2): 10s doubling to
// 300s; an entry unused for twice the maximum starts over.
const (
	DefaultBackoffInitial = 10 * time.Second
	DefaultBackoffMax     = 300 * time.Second
)

// backoff is kubelet's per-container CrashLoopBackOff (client-go's
// flowcontrol.Backoff as kubelet uses it), keyed by pod UID + container:
//
//   - the first exit restarts at once and opens a window of initial;
//   - a later exit that finished inside the window waits for it to pass,
//     then restarts and doubles the window (at most max);
//   - an exit more than 2·max after the window last moved starts over.
//
// Times come from the caller, so it is deterministic on a fake clock.
type backoff struct {
	initial, max time.Duration

	mu      sync.Mutex
	entries map[string]*backoffEntry
}

type backoffEntry struct {
	window     time.Duration
	lastUpdate time.Time
}

func newBackoff(initial, max time.Duration) *backoff {
	return &backoff{initial: initial, max: max, entries: map[string]*backoffEntry{}}
}

// wait returns how long a container that exited at finishedAt must still
// wait at now before it may restart (0: restart now), and the current
// window (for the CrashLoopBackOff message).
func (b *backoff) wait(key string, finishedAt, now time.Time) (time.Duration, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	if e == nil || b.expired(e, finishedAt) {
		return 0, 0
	}
	if left := e.window - now.Sub(finishedAt); left > 0 {
		return left, e.window
	}
	return 0, e.window
}

// sinceUpdate returns how long is left of key's window counted from its
// last update (a failed image pull waits from the failure), and the window.
func (b *backoff) sinceUpdate(key string, now time.Time) (time.Duration, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	if e == nil || b.expired(e, now) {
		return 0, 0
	}
	return max(e.window-now.Sub(e.lastUpdate), 0), e.window
}

// restarted records a restart at now of a container that exited at
// finishedAt: it opens or doubles the window.
func (b *backoff) restarted(key string, finishedAt, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	if e == nil || b.expired(e, finishedAt) {
		b.entries[key] = &backoffEntry{window: b.initial, lastUpdate: now}
		return
	}
	e.window = min(2*e.window, b.max)
	e.lastUpdate = now
}

func (b *backoff) expired(e *backoffEntry, at time.Time) bool {
	return at.Sub(e.lastUpdate) > 2*b.max
}

// forget drops every entry whose key starts with prefix (a pod's UID).
func (b *backoff) forget(prefix string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.entries {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			delete(b.entries, k)
		}
	}
}
