package store

import "context"

// watcher is one Watch call. Its channel is only sent to and closed with
// the engine's mu held, so a send never races a close.
type watcher struct {
	kind    string // "" for every kind
	from    int64  // deliver only versions after this
	ch      chan Event
	stop    func() bool // unregisters the context callback
	removed bool
}

// watchers are the open watches of an engine.
type watchers struct {
	list []*watcher
}

func (ws *watchers) add(w *watcher) { ws.list = append(ws.list, w) }

// remove closes w's channel and forgets it; removing twice is harmless.
func (ws *watchers) remove(w *watcher) {
	if w.removed {
		return
	}
	w.removed = true
	close(w.ch)
	if w.stop != nil {
		w.stop()
	}
	for i, x := range ws.list {
		if x == w {
			last := len(ws.list) - 1
			ws.list[i] = ws.list[last]
			ws.list[last] = nil
			ws.list = ws.list[:last]
			break
		}
	}
}

// dispatch hands ev, a change to an object of kind, to every interested
// watcher, each getting its own copy. A watcher whose buffer is full has
// fallen too far behind: its channel is closed, and its owner must list
// again.
func (ws *watchers) dispatch(kind string, ev Event) {
	for i := 0; i < len(ws.list); i++ {
		w := ws.list[i]
		if (w.kind != "" && w.kind != kind) || ev.ResourceVersion <= w.from {
			continue
		}
		select {
		case w.ch <- copyEvent(ev):
		default:
			ws.remove(w) // moves the last watcher to i
			i--
		}
	}
}

// closeAll closes every watch (the store is closing).
func (ws *watchers) closeAll() {
	for len(ws.list) > 0 {
		ws.remove(ws.list[len(ws.list)-1])
	}
}

func copyEvent(ev Event) Event {
	ev.Object = ev.Object.DeepCopyObject()
	if ev.PrevObject != nil {
		ev.PrevObject = ev.PrevObject.DeepCopyObject()
	}
	return ev
}

// Watch implements Store.
func (e *engine) Watch(ctx context.Context, kind string, fromRV int64) (<-chan Event, error) {
	if kind != "" {
		if _, err := knownKind(kind); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if fromRV < e.log.compacted {
		return nil, &expiredError{from: fromRV, oldest: e.log.compacted}
	}
	var replay []Event
	e.log.since(fromRV, func(le logEntry) {
		if kind == "" || le.kind == kind {
			replay = append(replay, le.ev)
		}
	})
	w := &watcher{kind: kind, from: fromRV, ch: make(chan Event, len(replay)+e.opts.WatchBuffer)}
	for _, ev := range replay {
		w.ch <- copyEvent(ev)
	}
	// The callback runs on its own goroutine, so taking mu there is safe
	// even when ctx is already done.
	w.stop = context.AfterFunc(ctx, func() {
		e.mu.Lock()
		e.watchers.remove(w)
		e.mu.Unlock()
	})
	e.watchers.add(w)
	return w.ch, nil
}

// expiredError says how far back a watch can start.
type expiredError struct{ from, oldest int64 }

func (e *expiredError) Error() string {
	return "watch from resourceVersion " + itoa(e.from) + ": " + ErrExpired.Error() +
		" (the oldest a watch can start from is " + itoa(e.oldest) + "); list again and watch from the list's resourceVersion"
}

func (e *expiredError) Unwrap() error { return ErrExpired }
