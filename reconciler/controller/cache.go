package controller

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/store"
)

// Cache is a watch cache of the store, like a set of client-go informers
// sharing one watch: for each of its kinds it lists the store once, then
// applies the store's watch events to in-memory indexes (by key, namespace
// and owner UID) that controllers read through Listers, and calls the
// handlers registered for the kind with every change, in the store's
// order. It lists again when the watch closes or expires. There is no
// periodic resync: with nothing changing, a Cache costs nothing.
//
// A Cache runs in one of two modes, chosen by the first call:
//
//   - Start: a goroutine applies events as they arrive (the server).
//   - Drain: no goroutine; each Drain applies, in the caller's goroutine,
//     the events already waiting in the watch channel, without blocking
//     (tests and the simulator step the control plane this way). The
//     first Drain lists the store.
//
// In step mode, use the cache from one goroutine at a time.
//
// Handlers run one at a time, in event order, in the goroutine applying
// events: they must be quick (enqueue keys) and must not call Drain,
// WaitFor or AddHandler. ResourceVersion tells how far the cache has
// caught up with the store; WaitFor and WaitForWrite wait for it.
type Cache struct {
	st     store.Store
	kinds  []string
	index  map[string]*kindIndex
	clock  clock.WithTicker
	log    *slog.Logger
	done   context.Context // ends at Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// applyMu serialises applying events and calling handlers; it guards
	// the fields below it.
	applyMu   sync.Mutex
	handlers  map[string][]Handler
	watch     <-chan store.Event
	stopWatch context.CancelFunc
	listRV    map[string]int64 // per kind: the list's version; older events are in it
	synced    chan struct{}    // closed after the first successful list
	isSynced  bool

	mode     atomic.Int32 // a cacheMode; set once
	rv       atomic.Int64 // every write up to rv is applied
	notifyMu sync.Mutex
	changed  chan struct{} // closed and replaced after each applied batch
}

type cacheMode = int32

const (
	modeUnset cacheMode = iota
	modeBackground
	modeStepping
)

// NewCache returns a cache of kinds ("Deployment", "Pod", ...) of st. It
// does nothing until Start or Drain.
func NewCache(st store.Store, kinds ...string) *Cache {
	done, cancel := context.WithCancel(context.Background())
	c := &Cache{
		st:       st,
		kinds:    slices.Clone(kinds),
		index:    map[string]*kindIndex{},
		clock:    clock.RealClock{},
		log:      slog.Default(),
		done:     done,
		cancel:   cancel,
		handlers: map[string][]Handler{},
		listRV:   map[string]int64{},
		synced:   make(chan struct{}),
		changed:  make(chan struct{}),
	}
	for _, k := range kinds {
		c.index[k] = newKindIndex(k)
	}
	return c
}

// SetClock sets the clock the background mode waits on between failed
// lists (the real clock by default). Call it before Start.
func (c *Cache) SetClock(clk clock.WithTicker) { c.clock = clk }

// SetLogger sets where errors are logged (slog.Default by default).
func (c *Cache) SetLogger(l *slog.Logger) { c.log = l }

// Kinds returns the kinds the cache holds.
func (c *Cache) Kinds() []string { return slices.Clone(c.kinds) }

// Has reports whether the cache holds kind.
func (c *Cache) Has(kind string) bool { return c.index[kind] != nil }

// Lister returns the reader of kind's objects. It panics if the cache does
// not hold kind: that is a wiring mistake.
func (c *Cache) Lister(kind string) Lister { return c.mustIndex(kind) }

// AddHandler registers h for changes to kind's objects. Registered before
// the first list, h sees every object of that list as an add; registered
// later, it is first called with an add for every cached object.
func (c *Cache) AddHandler(kind string, h Handler) {
	x := c.mustIndex(kind)
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	c.handlers[kind] = append(c.handlers[kind], h)
	if c.isSynced {
		for _, obj := range x.snapshot() {
			h(nil, obj)
		}
	}
}

// Start runs the cache in background mode until ctx ends or Stop: a
// goroutine lists, watches and applies events as they arrive. Calling
// Start on a cache already started, or stepped with Drain, panics.
func (c *Cache) Start(ctx context.Context) {
	if !c.mode.CompareAndSwap(modeUnset, modeBackground) {
		panic("controller: Cache.Start on a cache already started or stepped")
	}

	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.done, cancel)
	c.wg.Go(func() {
		defer stop()
		defer cancel()
		c.run(ctx)
	})
}

// Stop ends the cache's watch and, in background mode, waits for its
// goroutine to return. It is final: the cache applies nothing more (a
// later Drain fails), but its Listers keep answering from what it holds.
func (c *Cache) Stop() {
	c.cancel()
	c.wg.Wait()
	c.applyMu.Lock()
	c.closeWatchLocked()
	c.applyMu.Unlock()
}

// Drain applies, in the caller's goroutine, every watch event already
// waiting, without blocking, and returns how many changes it applied (each
// one called the kind's handlers). The first Drain lists the store, as
// does a Drain that finds the watch closed or expired. In background mode
// Drain does nothing. An error means the store could not be listed; the
// next Drain tries again.
func (c *Cache) Drain(ctx context.Context) (int, error) {
	c.mode.CompareAndSwap(modeUnset, modeStepping)
	if c.mode.Load() == modeBackground {
		return 0, nil
	}
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	rv := c.rv.Load()
	n, err := c.drainLocked(ctx, true)
	if n > 0 || c.rv.Load() != rv {
		c.notify()
	}
	return n, err
}

// WaitForSync waits until the first list has been applied, by Start's
// goroutine or by a Drain. In step mode (after a Drain) it drains itself.
func (c *Cache) WaitForSync(ctx context.Context) error {
	if c.mode.Load() == modeStepping {
		_, err := c.Drain(ctx)
		return err
	}
	select {
	case <-c.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ResourceVersion returns the store version the cache has caught up with:
// every write at or below it has been applied. Writes of kinds the cache
// does not hold count too, so after a write that returned version v,
// WaitFor(ctx, v) means the cache reflects it.
func (c *Cache) ResourceVersion() int64 { return c.rv.Load() }

// WaitFor waits until ResourceVersion is at least rv. In step mode (after
// a Drain) it applies events itself, blocking on the watch if they have
// not arrived; otherwise it waits for Start's goroutine.
func (c *Cache) WaitFor(ctx context.Context, rv int64) error {
	for c.ResourceVersion() < rv {
		if c.mode.Load() != modeStepping {
			changed := c.changedChan()
			if c.ResourceVersion() >= rv {
				return nil
			}
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := c.stepOne(ctx); err != nil {
			return err
		}
	}
	return nil
}

// WaitForWrite waits until the cache reflects obj as a write returned it
// (WaitFor its resourceVersion). A controller that must not act twice on
// its own writes (create pods, then count them) can call it before
// returning from Sync, instead of keeping Kubernetes-style expectations.
func (c *Cache) WaitForWrite(ctx context.Context, obj store.Object) error {
	rv, err := strconv.ParseInt(metaOf(obj).GetResourceVersion(), 10, 64)
	if err != nil {
		return fmt.Errorf("controller: resourceVersion of %s: %w", KeyOf(obj), err)
	}
	return c.WaitFor(ctx, rv)
}

// stepOne drains, and if nothing was waiting blocks for one event.
func (c *Cache) stepOne(ctx context.Context) error {
	n, err := c.Drain(ctx)
	if err != nil || n > 0 {
		return err
	}
	c.applyMu.Lock()
	ch := c.watch
	c.applyMu.Unlock()
	if ch == nil {
		return nil // the next Drain lists again
	}
	select {
	case ev, ok := <-ch:
		c.applyMu.Lock()
		defer c.applyMu.Unlock()
		if c.watch != ch {
			return nil // re-listed meanwhile; ev is in the list
		}
		if !ok {
			c.closeWatchLocked()
		} else {
			c.applyLocked(ev)
		}
		c.notify()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is the background mode's loop.
func (c *Cache) run(ctx context.Context) {
	defer func() {
		c.applyMu.Lock()
		c.closeWatchLocked()
		c.applyMu.Unlock()
	}()
	failures := 0
	for ctx.Err() == nil {
		c.applyMu.Lock()
		if c.watch == nil {
			_, err := c.relistLocked(ctx)
			c.notify()
			c.applyMu.Unlock()
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				d := relistBackoff.Delay(failures)
				failures++
				c.log.Error("watch cache: list failed", "err", err, "retryIn", d)
				c.sleep(ctx, d)
			} else {
				failures = 0
			}
			continue
		}
		ch := c.watch
		c.applyMu.Unlock()

		select {
		case ev, ok := <-ch:
			c.applyMu.Lock()
			if !ok {
				c.closeWatchLocked()
			} else {
				c.applyLocked(ev)
				_, _ = c.drainLocked(ctx, false)
			}
			c.notify()
			c.applyMu.Unlock()
		case <-ctx.Done():
		}
	}
}

// relistBackoff spaces the lists of a background cache whose store fails.
var relistBackoff = Backoff{Base: 100 * time.Millisecond, Max: 30 * time.Second}

func (c *Cache) sleep(ctx context.Context, d time.Duration) {
	t := c.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
	case <-ctx.Done():
	}
}

// drainLocked applies the waiting events without blocking. With relist, it
// lists first if there is no watch, and once more if the watch closes.
func (c *Cache) drainLocked(ctx context.Context, relist bool) (int, error) {
	n := 0
	relisted := false
	for {
		if c.watch == nil {
			if !relist || relisted {
				return n, nil
			}
			m, err := c.relistLocked(ctx)
			n += m
			if err != nil {
				return n, err
			}
			relisted = true
		}
		select {
		case ev, ok := <-c.watch:
			if !ok {
				c.closeWatchLocked()
				continue
			}
			n += c.applyLocked(ev)
		default:
			return n, nil
		}
	}
}

// relistLocked lists every kind, opens one watch of the whole store from
// the oldest list's version, and replaces the indexes with the lists,
// calling handlers for the differences. Events a list already contains
// are skipped when they come through the watch.
func (c *Cache) relistLocked(ctx context.Context) (int, error) {
	c.closeWatchLocked()
	lists := make(map[string][]store.Object, len(c.kinds))
	rvs := make(map[string]int64, len(c.kinds))
	from := int64(math.MaxInt64)
	for _, kind := range c.kinds {
		objs, rv, err := c.st.List(ctx, kind, store.ListOptions{})
		if err != nil {
			return 0, fmt.Errorf("list %s: %w", kind, err)
		}
		lists[kind], rvs[kind] = objs, rv
		from = min(from, rv)
	}
	if len(c.kinds) == 0 {
		from = c.rv.Load()
	}
	// The watch lives as long as the cache: until Stop in step mode, until
	// the loop's ctx (which Stop ends too) in background mode.
	parent := c.done
	if c.mode.Load() == modeBackground {
		parent = ctx
	}
	wctx, cancel := context.WithCancel(parent)
	ch, err := c.st.Watch(wctx, "", from)
	if err != nil {
		cancel() // ErrExpired included: the next attempt lists again
		return 0, fmt.Errorf("watch: %w", err)
	}
	c.watch = ch
	c.stopWatch = cancel

	n := 0
	for _, kind := range c.kinds {
		n += c.replaceLocked(kind, lists[kind])
	}
	c.listRV = rvs
	c.advance(from)
	if !c.isSynced {
		c.isSynced = true
		close(c.synced)
	}
	return n, nil
}

// replaceLocked makes kind's index equal to objs (sorted by key), calling
// handlers for each object added, changed (by resourceVersion) or gone.
func (c *Cache) replaceLocked(kind string, objs []store.Object) int {
	x := c.index[kind]
	n := 0
	seen := make(map[objKey]struct{}, len(objs))
	for _, obj := range objs {
		m := metaOf(obj)
		seen[keyOfMeta(m)] = struct{}{}
		if old, ok := x.Get(m.GetNamespace(), m.GetName()); ok &&
			metaOf(old).GetResourceVersion() == m.GetResourceVersion() {
			continue
		}
		old := x.set(obj)
		c.callLocked(kind, old, obj)
		n++
	}
	for _, old := range x.snapshot() {
		k := keyOfMeta(metaOf(old))
		if _, ok := seen[k]; ok {
			continue
		}
		x.remove(k)
		c.callLocked(kind, old, nil)
		n++
	}
	return n
}

// applyLocked applies one watch event and returns 1 if it changed the
// cache (0 for a kind not cached or an event the list already held).
func (c *Cache) applyLocked(ev store.Event) int {
	defer c.advance(ev.ResourceVersion)
	if ev.Object == nil {
		return 0
	}
	kind := kindOf(ev.Object)
	x := c.index[kind]
	if x == nil || ev.ResourceVersion <= c.listRV[kind] {
		return 0
	}
	switch ev.Type {
	case store.Deleted:
		x.remove(keyOfMeta(metaOf(ev.Object)))
		c.callLocked(kind, ev.Object, nil)
	default: // Added, Modified
		old := x.set(ev.Object)
		c.callLocked(kind, old, ev.Object)
	}
	return 1
}

func (c *Cache) callLocked(kind string, old, new store.Object) {
	for _, h := range c.handlers[kind] {
		h(old, new)
	}
}

func (c *Cache) closeWatchLocked() {
	if c.stopWatch != nil {
		c.stopWatch()
	}
	c.watch, c.stopWatch = nil, nil
}

// advance raises the caught-up version to rv.
func (c *Cache) advance(rv int64) {
	for {
		cur := c.rv.Load()
		if rv <= cur || c.rv.CompareAndSwap(cur, rv) {
			return
		}
	}
}

// notify wakes everything waiting on changedChan.
func (c *Cache) notify() {
	c.notifyMu.Lock()
	defer c.notifyMu.Unlock()
	close(c.changed)
	c.changed = make(chan struct{})
}

// changedChan returns a channel closed at the next applied batch.
func (c *Cache) changedChan() <-chan struct{} {
	c.notifyMu.Lock()
	defer c.notifyMu.Unlock()
	return c.changed
}

func (c *Cache) mustIndex(kind string) *kindIndex {
	x := c.index[kind]
	if x == nil {
		panic(fmt.Sprintf("controller: the cache does not hold kind %q (it holds %v)", kind, c.kinds))
	}
	return x
}
