package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
)

// streamWriter writes a stream's chunks, each with its own write deadline
// and flushed at once, so a client that stops reading is dropped after
// streamWriteTimeout rather than holding the handler forever. Between
// writes no deadline is set: over HTTP/2 a stream's write deadline fires
// even when nothing is being written, so a deadline left in place would
// end a quiet watch (or `logs -f`).
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

// newStreamWriter starts a stream: the request's own write deadline (set
// by logRequests) is lifted, as a stream may stay quiet for longer.
func (s *Server) newStreamWriter(w http.ResponseWriter) *streamWriter {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	return &streamWriter{w: w, rc: rc, timeout: s.streamTimeout}
}

// Write implements io.Writer: deadline, write, flush, no deadline.
func (sw *streamWriter) Write(p []byte) (int, error) {
	// Deadlines are the connection's (or stream's), so they are
	// wall-clock time.
	_ = sw.rc.SetWriteDeadline(time.Now().Add(sw.timeout))
	defer sw.rc.SetWriteDeadline(time.Time{})
	n, err := sw.w.Write(p)
	if err != nil {
		return n, err
	}
	if err := sw.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return n, err
	}
	return n, nil
}

// serveWatch streams the changes to res's objects as Kubernetes does:
// one JSON watch event per line. Without a resourceVersion (or "0") it
// starts with an ADDED event per existing object; a resourceVersion the
// store no longer remembers gets an in-stream ERROR event carrying a 410
// Expired Status, and the stream ends.
func (s *Server) serveWatch(w http.ResponseWriter, r *http.Request, res *resource, req request) {
	q := r.URL.Query()
	f, err := parseFilter(res.kind, q.Get("labelSelector"), q.Get("fieldSelector"))
	if err != nil {
		writeStatus(w, badRequest("%v", err))
		return
	}
	f.namespace = req.namespace
	ctx := r.Context()
	if t := q.Get("timeoutSeconds"); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n < 0 {
			writeStatus(w, badRequest("timeoutSeconds %q is not a non-negative integer", t))
			return
		}
		if n > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(n)*time.Second)
			defer cancel()
		}
	}

	var initial []store.Object
	var from int64
	switch rv := q.Get("resourceVersion"); rv {
	case "", "0":
		objs, listRV, err := s.opts.Store.List(ctx, res.kind, store.ListOptions{Namespace: req.namespace, Selector: f.labels})
		if err != nil {
			writeStatus(w, internalStatus(err))
			return
		}
		initial, from = objs, listRV
	default:
		n, err := strconv.ParseInt(rv, 10, 64)
		if err != nil || n < 0 {
			writeStatus(w, badRequest("resourceVersion %q is not a non-negative integer", rv))
			return
		}
		from = n
	}

	sw := s.newStreamWriter(w)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, private")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	ch, err := s.opts.Store.Watch(ctx, res.kind, from)
	if err != nil {
		if errors.Is(err, store.ErrExpired) {
			// Kubernetes answers 200 and puts the 410 in the stream.
			w.WriteHeader(http.StatusOK)
			s.sendEvent(sw, "ERROR", expiredStatus(err))
			return
		}
		writeStatus(w, internalStatus(err))
		return
	}
	w.WriteHeader(http.StatusOK)
	if _, err := sw.Write(nil); err != nil {
		return
	}

	for _, o := range initial {
		if !f.matches(res.kind, o) {
			continue
		}
		setTypeMeta(o, res)
		if !s.sendEvent(sw, string(store.Added), o) {
			return
		}
	}
	narrowed := !f.labels.Empty() || (f.fields != nil && !f.fields.Empty()) || f.namespace != ""
	matches := func(o store.Object) bool { return f.matches(res.kind, o) }
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				if ctx.Err() == nil {
					// The store dropped a watcher that fell behind (or
					// closed): tell the client to list again.
					s.sendEvent(sw, "ERROR", expiredStatus(errors.New("the watch fell behind the store's changes; list again and watch from the list's resourceVersion")))
				}
				return
			}
			typ, obj, send := classify(ev, matches, narrowed)
			if !send {
				continue
			}
			setTypeMeta(obj, res)
			if !s.sendEvent(sw, string(typ), obj) {
				return
			}
		}
	}
}

// classify decides what a watcher with a selector sees of ev, as
// Kubernetes' watch cache does, from whether the object matched before
// the change (ev.PrevObject) and after it: matched before, not now →
// DELETED (with the previous object at the event's resourceVersion); not
// before, now → ADDED; both → MODIFIED; neither → nothing. This holds
// whatever resourceVersion the watch started from.
func classify(ev store.Event, matches func(store.Object) bool, narrowed bool) (store.EventType, store.Object, bool) {
	if !narrowed {
		return ev.Type, ev.Object, true
	}
	switch ev.Type {
	case store.Added, store.Deleted:
		return ev.Type, ev.Object, matches(ev.Object)
	}
	now := matches(ev.Object)
	before := now // without the previous object, assume no move
	if ev.PrevObject != nil {
		before = matches(ev.PrevObject)
	}
	switch {
	case before && now:
		return store.Modified, ev.Object, true
	case now:
		return store.Added, ev.Object, true
	case before:
		prev := ev.PrevObject.DeepCopyObject()
		prev.(metav1.Object).SetResourceVersion(strconv.FormatInt(ev.ResourceVersion, 10))
		return store.Deleted, prev, true
	}
	return "", nil, false
}

// sendEvent writes one watch event line; false when the client is gone.
func (s *Server) sendEvent(sw *streamWriter, typ string, obj any) bool {
	data, err := json.Marshal(watchEvent{Type: typ, Object: obj})
	if err != nil {
		s.opts.Log.Error("api: encoding a watch event", "err", err)
		return false
	}
	_, err = sw.Write(append(data, '\n'))
	return err == nil
}
