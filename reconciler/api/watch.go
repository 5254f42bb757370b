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
// streamWriteTimeout rather than holding the handler forever.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (s *Server) newStreamWriter(w http.ResponseWriter) *streamWriter {
	return &streamWriter{w: w, rc: http.NewResponseController(w), timeout: s.streamTimeout}
}

// Write implements io.Writer.
func (sw *streamWriter) Write(p []byte) (int, error) {
	// Deadlines are the connection's, so they are wall-clock time.
	_ = sw.rc.SetWriteDeadline(time.Now().Add(sw.timeout))
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
	if err := sw.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return
	}

	// seen holds the objects the client knows as selected, so an object
	// that leaves the selection is sent as DELETED and one that enters it
	// as ADDED, as Kubernetes' watch cache does.
	seen := map[string]bool{}
	for _, o := range initial {
		if !f.matches(res.kind, o) {
			continue
		}
		seen[objectKey(o)] = true
		setTypeMeta(o, res)
		if !s.sendEvent(sw, string(store.Added), o) {
			return
		}
	}
	narrowed := !f.labels.Empty() || (f.fields != nil && !f.fields.Empty()) || f.namespace != ""
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
			typ, send := classify(ev, f.matches(res.kind, ev.Object), seen, narrowed)
			if !send {
				continue
			}
			setTypeMeta(ev.Object, res)
			if !s.sendEvent(sw, string(typ), ev.Object) {
				return
			}
		}
	}
}

// classify decides what a watcher with a selector sees of ev.
func classify(ev store.Event, match bool, seen map[string]bool, narrowed bool) (store.EventType, bool) {
	if !narrowed {
		return ev.Type, true
	}
	key := objectKey(ev.Object)
	was := seen[key]
	switch {
	case ev.Type == store.Deleted:
		delete(seen, key)
		return store.Deleted, was || match
	case match:
		seen[key] = true
		if ev.Type == store.Modified && !was {
			// Unknown before: entering the selection, or an object the
			// client saw before this watch began. Kubernetes, knowing
			// the previous object, would say ADDED for the first and
			// MODIFIED for the second; MODIFIED is safe for both
			// (informers treat it as an upsert).
			return store.Modified, true
		}
		return ev.Type, true
	case was:
		delete(seen, key)
		return store.Deleted, true
	}
	return "", false
}

func objectKey(obj store.Object) string {
	m := obj.(metav1.Object)
	return m.GetNamespace() + "/" + m.GetName()
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
