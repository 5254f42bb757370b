package store

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"
)

// Options tune a store; the zero value gives the defaults.
type Options struct {
	// EventLogSize is how many recent events a Watch can start from
	// (default 100,000); older versions get ErrExpired.
	EventLogSize int
	// WatchBuffer is the channel buffer of each watch (default 10,000). A
	// watcher that falls this far behind has its channel closed.
	WatchBuffer int
	// Seed seeds the generateName suffixes. The memory store uses 1 when
	// it is 0, so runs are reproducible; the bolt store a random seed.
	Seed uint64
	// LockTimeout is how long OpenBolt waits for the file lock held by
	// another process (default 1s).
	LockTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.EventLogSize <= 0 {
		o.EventLogSize = 100_000
	}
	if o.WatchBuffer <= 0 {
		o.WatchBuffer = 10_000
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	return o
}

// backend persists committed writes. The memory store has none.
type backend interface {
	// encode returns the stored form of obj (which the caller no longer
	// uses) and its bytes to persist.
	encode(obj Object) (Object, []byte, error)
	// commit persists one transaction's changes and the store's new
	// resourceVersion, all or nothing, durably.
	commit(changes []change, rv int64) error
	close() error
}

// engine is the Store both implementations share: objects, versions,
// events and watches live in memory; a backend, when there is one, makes
// each transaction durable before it becomes visible.
//
// Locking: writeMu serialises transactions from start to commit, so a
// transaction reads the indexes without mu (only writers change them, and
// they hold writeMu). mu guards the indexes, rv, the event log and the
// watchers against readers: a commit applies its changes, logs its events
// and hands them to the watchers under one hold of mu, so a watch
// registered under mu sees every version exactly once, and every watcher
// has a write's events in its channel before the write returns.
type engine struct {
	clock     clock.PassiveClock
	opts      Options
	backend   backend
	uidPrefix string // uid = uidPrefix + 12 hex digits of the creating version

	writeMu sync.Mutex
	rnd     *rand.Rand // generateName suffixes; guarded by writeMu

	mu       sync.RWMutex
	kinds    map[string]*index
	rv       int64
	log      eventLog
	watchers watchers
	closed   bool
}

func newEngine(clk clock.PassiveClock, opts Options, b backend, uidPrefix string, rv int64) *engine {
	opts = opts.withDefaults()
	return &engine{
		clock:     clk,
		opts:      opts,
		backend:   b,
		uidPrefix: uidPrefix,
		rnd:       rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		kinds:     make(map[string]*index),
		rv:        rv,
		log:       newEventLog(opts.EventLogSize, rv),
	}
}

// index returns the index of kind, creating it. Callers hold mu or are
// loading a store nobody else sees yet.
func (e *engine) index(kind string) *index {
	ix := e.kinds[kind]
	if ix == nil {
		ix = newIndex()
		e.kinds[kind] = ix
	}
	return ix
}

// Get implements Store.
func (e *engine) Get(ctx context.Context, kind, namespace, name string) (Object, error) {
	k, err := knownKind(kind)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	namespace = normalizeNamespace(k, namespace)
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return nil, ErrClosed
	}
	var obj Object
	if ix := e.kinds[kind]; ix != nil {
		obj = ix.objs[objKey(namespace, name)]
	}
	e.mu.RUnlock()
	if obj == nil {
		return nil, newObjError(k, namespace, name, ErrNotFound, "")
	}
	return obj.DeepCopyObject(), nil
}

// List implements Store.
func (e *engine) List(ctx context.Context, kind string, opts ListOptions) ([]Object, int64, error) {
	k, err := knownKind(kind)
	if err != nil {
		return nil, 0, err
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	prefix := ""
	if opts.Namespace != "" && k.namespaced {
		prefix = nsPrefix(opts.Namespace)
	}
	sel := opts.Selector
	if sel != nil && sel.Empty() {
		sel = nil
	}
	var matched []Object
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return nil, 0, ErrClosed
	}
	rv := e.rv
	if ix := e.kinds[kind]; ix != nil {
		ix.each(prefix, func(obj Object) {
			if sel == nil || sel.Matches(labels.Set(accessor(obj).GetLabels())) {
				matched = append(matched, obj)
			}
		})
	}
	e.mu.RUnlock()
	// Stored objects are immutable: copy them outside the lock.
	for i, obj := range matched {
		matched[i] = obj.DeepCopyObject()
	}
	return matched, rv, nil
}

// Close implements Store: it waits for a running transaction, closes every
// watch and releases the backend.
func (e *engine) Close() error {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.watchers.closeAll()
	e.mu.Unlock()
	if e.backend != nil {
		return e.backend.close()
	}
	return nil
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
