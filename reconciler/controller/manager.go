package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Manager runs controllers on a shared Cache. Each registered controller
// gets its own Queue, fed by the cache handlers of its Watches. The
// Manager runs them either with worker goroutines (Run, for the server) or
// deterministically in the caller's goroutine (Step and RunUntilIdle, for
// tests and the simulator); use one mode per Manager.
type Manager struct {
	cache *Cache
	clock clock.WithTicker
	log   *slog.Logger

	mu      sync.Mutex
	ctrls   []*registered
	timers  []*timer
	next    int   // round-robin cursor of Step
	stepErr error // the cache's error in the last Step
}

// registered is a controller with its queue.
type registered struct {
	ctrl  Controller
	queue *Queue
}

// timer is something outside the queues with work due at a time.
type timer struct {
	next func() (time.Time, bool)
	fire func(ctx context.Context) // nil for AddTimerSource
}

// NewManager returns a Manager of controllers reading cache, with time
// (queue delays, backoff, timers) from clk.
func NewManager(cache *Cache, clk clock.WithTicker) *Manager {
	return &Manager{cache: cache, clock: clk, log: slog.Default()}
}

// SetLogger sets where sync errors are logged (slog.Default by default).
func (m *Manager) SetLogger(l *slog.Logger) { m.log = l }

// Cache returns the manager's cache.
func (m *Manager) Cache() *Cache { return m.cache }

// Clock returns the manager's clock.
func (m *Manager) Clock() clock.WithTicker { return m.clock }

// Register adds c, with a new queue named after it, and registers the
// cache handlers of watches, which map changes to keys of that queue. It
// returns the queue, for controllers that enqueue keys themselves. Register
// every controller before Run or the first Step.
func (m *Manager) Register(c Controller, watches ...Watch) *Queue {
	q := NewQueue(c.Name(), m.clock)
	m.mu.Lock()
	for _, r := range m.ctrls {
		if r.ctrl.Name() == c.Name() {
			m.mu.Unlock()
			panic(fmt.Sprintf("controller: two controllers named %q", c.Name()))
		}
	}
	m.ctrls = append(m.ctrls, &registered{ctrl: c, queue: q})
	m.mu.Unlock()
	for _, w := range watches {
		m.cache.AddHandler(w.Kind, w.handler(q))
	}
	return q
}

// Queue returns the queue of the controller named name, or nil.
func (m *Manager) Queue(name string) *Queue {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.ctrls {
		if r.ctrl.Name() == name {
			return r.queue
		}
	}
	return nil
}

// AddTimerSource registers something that has work due at a time outside
// the queues (a fake node's next pod becoming ready): RunUntilIdle advances
// the clock to next's time as it does to the queues' due times. Whatever
// next describes must act by itself once the clock has reached that time;
// to be acted on deterministically by Step, use AddTimer.
func (m *Manager) AddTimerSource(next func() (time.Time, bool)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.timers = append(m.timers, &timer{next: next})
}

// AddTimer registers a timer source with its action: Step calls fire
// (in its goroutine, between syncs) once the clock reaches next's time;
// Run calls it from a goroutine that sleeps until then and looks at next
// again after every change the cache applies. fire must make progress:
// Step calls it at most once per due time.
func (m *Manager) AddTimer(next func() (time.Time, bool), fire func(ctx context.Context)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.timers = append(m.timers, &timer{next: next, fire: fire})
}

// Run runs the controllers until ctx ends: it starts the cache in
// background mode, waits for its first list, then runs workers goroutines
// per controller, each taking keys from the controller's queue, plus one
// goroutine for the timers. With nothing changing, nothing runs. It
// returns once every goroutine, the cache's too, has stopped; the cache
// is then stopped for good.
func (m *Manager) Run(ctx context.Context, workers int) error {
	if workers < 1 {
		workers = 1
	}
	m.cache.Start(ctx)
	defer m.cache.Stop()
	if err := m.cache.WaitForSync(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	ctrls := append([]*registered(nil), m.ctrls...)
	m.mu.Unlock()

	var wg sync.WaitGroup
	for _, r := range ctrls {
		for range workers {
			wg.Go(func() {
				for {
					key, ok := r.queue.Get(ctx)
					if !ok {
						return
					}
					m.process(ctx, r, key)
				}
			})
		}
	}
	wg.Go(func() { m.runTimers(ctx) })
	wg.Wait()
	return nil
}

// Idle reports whether every queue is idle (see Queue.Idle): in Run mode,
// with the cache caught up, the controllers have nothing left to do.
func (m *Manager) Idle() bool {
	for _, r := range m.controllers() {
		if !r.queue.Idle() {
			return false
		}
	}
	return true
}

// runTimers fires timers with an action when they are due, in Run mode.
func (m *Manager) runTimers(ctx context.Context) {
	fired := map[*timer]time.Time{} // as in Step: once per due time
	for ctx.Err() == nil {
		changed := m.cache.changedChan()
		now := m.clock.Now()
		var earliest time.Time
		var pending bool
		for _, t := range m.timerList() {
			if t.fire == nil {
				continue
			}
			at, ok := t.next()
			if !ok {
				continue
			}
			if !at.After(now) {
				if last, seen := fired[t]; !seen || !last.Equal(at) {
					fired[t] = at
					t.fire(ctx)
				}
				if at, ok = t.next(); !ok || !at.After(now) {
					continue // fired; wait for a change or the next source
				}
			}
			if !pending || at.Before(earliest) {
				earliest, pending = at, true
			}
		}
		var tm clock.Timer
		var fired <-chan time.Time
		if pending {
			tm = m.clock.NewTimer(earliest.Sub(now))
			fired = tm.C()
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-fired:
		}
		if tm != nil {
			tm.Stop()
		}
	}
}

// process syncs key and files the result: success forgets the key's
// backoff, Requeue parks it for a while, an error retries with backoff.
func (m *Manager) process(ctx context.Context, r *registered, key string) {
	defer r.queue.Done(key)
	err := r.ctrl.Sync(ctx, key)
	var rq Requeue
	var prq *Requeue
	switch {
	case err == nil:
		r.queue.Forget(key)
	case errors.As(err, &rq):
		r.queue.Forget(key)
		r.queue.AddAfter(key, rq.After)
	case errors.As(err, &prq) && prq != nil:
		r.queue.Forget(key)
		r.queue.AddAfter(key, prq.After)
	default:
		m.log.Error("sync failed", "controller", r.ctrl.Name(), "key", key, "err", err,
			"retries", r.queue.NumRequeues(key))
		r.queue.AddRateLimited(key)
	}
}

func (m *Manager) timerList() []*timer {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*timer(nil), m.timers...)
}

func (m *Manager) controllers() []*registered {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*registered(nil), m.ctrls...)
}
