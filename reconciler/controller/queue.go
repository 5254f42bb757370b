package controller

import (
	"context"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Queue is a work queue of keys, like client-go's rate-limited delaying
// workqueue, with the semantics controllers rely on:
//
//   - A key is queued at most once however often it is added (dedupe).
//   - A key handed out by Get or Pop is "processing" until Done. Adding it
//     meanwhile marks it dirty: it is queued again at Done, so the same key
//     is never processed by two workers at once, and a change that arrives
//     during a sync is never lost.
//   - AddAfter and AddRateLimited park a key until a time on the injected
//     clock. No goroutine moves parked keys: Pop, Get and NextDue look at
//     the clock, so a fake clock makes the queue fully deterministic.
//
// Keys come out in the order they became due (first added first).
// A Queue is safe for concurrent use.
type Queue struct {
	name    string
	clock   clock.WithTicker
	backoff Backoff

	mu         sync.Mutex
	ready      fifo                // due keys, not processing, in order
	dirty      map[string]struct{} // keys queued or to be requeued at Done
	processing map[string]struct{} // keys handed out and not Done
	waiting    delayHeap           // keys parked until a time
	failures   map[string]int      // AddRateLimited count per key since Forget
	seq        uint64              // orders parked keys with equal due times
	wake       chan struct{}       // closed and replaced when something changes
	shutdown   bool
}

// Backoff is the per-key exponential backoff of AddRateLimited: the n-th
// consecutive failure of a key (from 0) waits Base·2ⁿ, at most Max.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
}

// DefaultBackoff returns client-go's default per-item backoff: 5ms
// doubling up to 1000s.
func DefaultBackoff() Backoff {
	return Backoff{Base: 5 * time.Millisecond, Max: 1000 * time.Second}
}

// Delay returns the wait after the n-th consecutive failure (n from 0).
func (b Backoff) Delay(n int) time.Duration {
	d := b.Base
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// NewQueue returns an empty queue named name (for logs) that reads time
// from clk and backs off with DefaultBackoff.
func NewQueue(name string, clk clock.WithTicker) *Queue {
	return NewQueueWithBackoff(name, clk, DefaultBackoff())
}

// NewQueueWithBackoff is NewQueue with another backoff.
func NewQueueWithBackoff(name string, clk clock.WithTicker, b Backoff) *Queue {
	return &Queue{
		name:       name,
		clock:      clk,
		backoff:    b,
		dirty:      map[string]struct{}{},
		processing: map[string]struct{}{},
		failures:   map[string]int{},
		waiting:    delayHeap{index: map[string]int{}},
		wake:       make(chan struct{}),
	}
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// Add queues key now, unless it is already queued.
func (q *Queue) Add(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(key)
}

// AddAfter queues key once d has passed on the clock. A key already parked
// keeps the earlier of its two times; d <= 0 is Add.
func (q *Queue) AddAfter(key string, d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown {
		return
	}
	if d <= 0 {
		q.addLocked(key)
		return
	}
	q.seq++
	if q.waiting.push(key, q.clock.Now().Add(d), q.seq) {
		q.broadcastLocked()
	}
}

// AddRateLimited queues key after its backoff: Base for the first failure
// since the last Forget, doubling with each further one.
func (q *Queue) AddRateLimited(key string) {
	q.mu.Lock()
	n := q.failures[key]
	q.failures[key] = n + 1
	q.mu.Unlock()
	q.AddAfter(key, q.backoff.Delay(n))
}

// Forget resets key's backoff; call it when a sync succeeds.
func (q *Queue) Forget(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.failures, key)
}

// NumRequeues returns how many times key was AddRateLimited since Forget.
func (q *Queue) NumRequeues(key string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.failures[key]
}

// Pop hands out a key that is due now, without blocking; ok is false when
// none is. The caller must call Done(key) when it has processed it.
func (q *Queue) Pop() (key string, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.promoteLocked(q.clock.Now())
	return q.popLocked()
}

// Get blocks until a key is due and hands it out, like Pop; ok is false
// when ctx ends or the queue shuts down. The caller must call Done(key).
func (q *Queue) Get(ctx context.Context) (key string, ok bool) {
	for {
		q.mu.Lock()
		if q.shutdown {
			q.mu.Unlock()
			return "", false
		}
		now := q.clock.Now()
		q.promoteLocked(now)
		if key, ok := q.popLocked(); ok {
			q.mu.Unlock()
			return key, true
		}
		wake := q.wake
		next, parked := q.waiting.peek()
		q.mu.Unlock()

		var timer clock.Timer
		var fired <-chan time.Time
		if parked {
			timer = q.clock.NewTimer(next.Sub(now))
			fired = timer.C()
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-fired:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return "", false
		}
	}
}

// Done marks key as processed; if it was added meanwhile it is queued again.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, key)
	if _, again := q.dirty[key]; again {
		q.ready.push(key)
		q.broadcastLocked()
	}
}

// NextDue returns when the next key is due: now if one is ready, else the
// earliest parked time; ok is false when nothing is queued or parked (keys
// being processed don't count).
func (q *Queue) NextDue() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	q.promoteLocked(now)
	if q.ready.len() > 0 {
		return now, true
	}
	return q.waiting.peek()
}

// Len returns how many keys are due now (queued and not processing).
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.promoteLocked(q.clock.Now())
	return q.ready.len()
}

// Idle reports whether the queue holds nothing: no key due, parked or
// being processed.
func (q *Queue) Idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ready.len() == 0 && len(q.waiting.items) == 0 && len(q.processing) == 0
}

// ShutDown makes Get return false to every worker; adds are ignored after.
func (q *Queue) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	q.broadcastLocked()
}

// addLocked queues key now unless it is queued already; a key being
// processed is only marked dirty and is queued by Done.
func (q *Queue) addLocked(key string) {
	if q.shutdown {
		return
	}
	if _, ok := q.dirty[key]; ok {
		return
	}
	q.dirty[key] = struct{}{}
	if _, ok := q.processing[key]; ok {
		return
	}
	q.ready.push(key)
	q.broadcastLocked()
}

// promoteLocked moves the parked keys due at now to the ready queue, in
// due order.
func (q *Queue) promoteLocked(now time.Time) {
	for {
		key, ok := q.waiting.popDue(now)
		if !ok {
			return
		}
		q.addLocked(key)
	}
}

// popLocked hands out the first ready key.
func (q *Queue) popLocked() (string, bool) {
	key, ok := q.ready.pop()
	if !ok {
		return "", false
	}
	q.processing[key] = struct{}{}
	delete(q.dirty, key)
	return key, true
}

// broadcastLocked wakes every blocked Get.
func (q *Queue) broadcastLocked() {
	close(q.wake)
	q.wake = make(chan struct{})
}
