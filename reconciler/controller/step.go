package controller

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotIdle is returned by RunUntilIdle when work is still pending after
// the simulated time it was given.
var ErrNotIdle = errors.New("controllers still have work pending")

// SettableClock is a clock a test or the simulator moves by hand, such as
// k8s.io/utils/clock/testing's FakeClock.
type SettableClock interface {
	Now() time.Time
	SetTime(t time.Time)
}

// Step runs, in the caller's goroutine, everything that is due now, and
// reports whether it did anything. It repeats until nothing is due:
//
//  1. drain the cache: apply the watch events already waiting (the first
//     Step lists the store), which enqueues keys through the handlers;
//  2. fire the timers (AddTimer) whose time has come, each at most once
//     per due time;
//  3. pop one due key, taking the controllers in turn (round-robin), and
//     Sync it: success forgets the key's backoff, Requeue parks it with
//     AddAfter, an error parks it with AddRateLimited.
//
// The cache is drained again before every Sync, so a controller always
// reads the effects of the syncs before it. With a fake clock and the
// memory store, a run is fully deterministic: the same calls produce the
// same writes in the same order. Step stops early when ctx ends.
func (m *Manager) Step(ctx context.Context) (progressed bool) {
	ctrls := m.controllers()
	fired := map[*timer]time.Time{}
	m.setStepErr(nil)
	for ctx.Err() == nil {
		if !m.drain(ctx) {
			return progressed
		}
		did := m.fireTimers(ctx, fired)
		if did && !m.drain(ctx) {
			return true
		}
		if r, key, ok := m.pop(ctrls); ok {
			m.process(ctx, r, key)
			did = true
		}
		if !did {
			return progressed
		}
		progressed = true
	}
	return progressed
}

// drain applies the cache's waiting events; on failure (the store is
// closed or cannot be listed) it logs, remembers the error for
// RunUntilIdle and returns false.
func (m *Manager) drain(ctx context.Context) bool {
	if _, err := m.cache.Drain(ctx); err != nil {
		m.log.Error("watch cache: drain failed", "err", err)
		m.setStepErr(err)
		return false
	}
	return true
}

func (m *Manager) setStepErr(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stepErr = err
}

// fireTimers fires the due timers that have not fired for this due time
// in this Step.
func (m *Manager) fireTimers(ctx context.Context, fired map[*timer]time.Time) bool {
	now := m.clock.Now()
	did := false
	for _, t := range m.timerList() {
		if t.fire == nil {
			continue
		}
		at, ok := t.next()
		if !ok || at.After(now) {
			continue
		}
		if last, seen := fired[t]; seen && last.Equal(at) {
			continue
		}
		fired[t] = at
		t.fire(ctx)
		did = true
	}
	return did
}

// pop takes a due key from the next controller in turn that has one.
func (m *Manager) pop(ctrls []*registered) (*registered, string, bool) {
	n := len(ctrls)
	m.mu.Lock()
	start := m.next
	m.mu.Unlock()
	for i := range n {
		r := ctrls[(start+i)%n]
		if key, ok := r.queue.Pop(); ok {
			m.mu.Lock()
			m.next = (start + i + 1) % n
			m.mu.Unlock()
			return r, key, true
		}
	}
	return nil, "", false
}

// NextDue returns the earliest time at which a queue or a timer source
// has something due; ok is false when nothing is pending at all.
func (m *Manager) NextDue() (time.Time, bool) {
	return m.nextDue(time.Time{})
}

// nextDue is NextDue ignoring the timer sources due at or before notAfter
// (sources that Step could not act on).
func (m *Manager) nextDue(notAfter time.Time) (time.Time, bool) {
	var best time.Time
	found := false
	consider := func(t time.Time) {
		if !found || t.Before(best) {
			best, found = t, true
		}
	}
	for _, r := range m.controllers() {
		if t, ok := r.queue.NextDue(); ok {
			consider(t)
		}
	}
	for _, t := range m.timerList() {
		if at, ok := t.next(); ok && at.After(notAfter) {
			consider(at)
		}
	}
	return best, found
}

// RunUntilIdle steps the controllers and the simulated time until nothing
// is pending: it runs Step, then sets clk (which must be the manager's
// clock) to the earliest time a queue or a timer source has something due,
// and repeats. It returns nil once idle, ErrNotIdle (wrapped, with the
// next due time) if something is still due beyond maxSimTime from the
// start — the clock is then left at the last due time it reached, not
// moved to the limit —, the cache's error if the store cannot be read
// (it was closed), and ctx's error if ctx ends.
//
// A timer source that stays due after a Step without acting (an
// AddTimerSource whose owner has not yet moved on) is not waited for:
// time moves on to the next due time, or the run ends idle.
func (m *Manager) RunUntilIdle(ctx context.Context, clk SettableClock, maxSimTime time.Duration) error {
	deadline := clk.Now().Add(maxSimTime)
	for {
		m.Step(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		m.mu.Lock()
		err := m.stepErr
		m.mu.Unlock()
		if err != nil {
			return fmt.Errorf("controller: watch cache: %w", err)
		}
		now := clk.Now()
		next, ok := m.NextDue()
		if ok && !next.After(now) {
			// Due now, yet Step left it: only a timer source without an
			// action can be; look past it.
			next, ok = m.nextDue(now)
			if ok && !next.After(now) {
				return fmt.Errorf("controller: a queue is due at %v but Step left it (a sync still running in another goroutine?)", next)
			}
		}
		if !ok {
			return nil
		}
		if next.After(deadline) {
			return fmt.Errorf("%w: next at %v, after the %v limit", ErrNotIdle, next, maxSimTime)
		}
		clk.SetTime(next)
	}
}
