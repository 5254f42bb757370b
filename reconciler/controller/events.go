package controller

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/store"
)

// Event recorder defaults.
const (
	// DefaultMaxEventsPerObject is how many events an EventRecorder keeps
	// per involved object before it deletes the oldest.
	DefaultMaxEventsPerObject = 25
	// maxTrackedObjects bounds the recorder's memory of recent objects
	// (Kubernetes' event correlator remembers 4096 keys).
	maxTrackedObjects = 4096
	// maxMessageBytes is the longest message kept (as events.k8s.io).
	maxMessageBytes = 1024
	// storeTimeout bounds each store call of the recorder.
	storeTimeout = 10 * time.Second
)

// EventRecorder is the Recorder that writes corev1.Event objects to the
// store, as Kubernetes' event recorder does: an event is named
// "<object>.<hex nanoseconds>", lives in the object's namespace ("default"
// for cluster-scoped objects) and names the object in involvedObject; a
// repeat of the same (object, type, reason, message) increments count and
// moves lastTimestamp of the existing event instead of creating one. It
// keeps at most MaxPerObject events per object, deleting the oldest, so
// that a crash-looping object cannot fill the store.
//
// Eventf writes synchronously (so that a fake-clock run is deterministic)
// and never fails its caller: errors are logged. Counting and the cap use
// the recorder's memory of recent objects, as Kubernetes' does; after a
// restart, a repeat starts a new event. Safe for concurrent use.
type EventRecorder struct {
	st        store.Store
	clock     clock.PassiveClock
	component string
	log       *slog.Logger
	maxPer    int

	mu        sync.Mutex
	objects   map[string]*list.Element // object id → element of lru (*objectEvents)
	lru       *list.List               // most recent first
	lastNanos int64                    // keeps names unique within a clock tick
}

// objectEvents are the events recorded for one object, oldest first.
type objectEvents struct {
	id     string
	events []recorded
}

// recorded is one event the recorder has written.
type recorded struct {
	name                   string
	eventType, reason, msg string
}

var _ Recorder = (*EventRecorder)(nil)

// NewRecorder returns a Recorder writing events to st as component (the
// event's source.component: "deployment-controller").
func NewRecorder(st store.Store, clk clock.PassiveClock, component string) *EventRecorder {
	return &EventRecorder{
		st:        st,
		clock:     clk,
		component: component,
		log:       slog.Default(),
		maxPer:    DefaultMaxEventsPerObject,
		objects:   map[string]*list.Element{},
		lru:       list.New(),
	}
}

// SetMaxPerObject sets how many events are kept per object (at least 1).
func (r *EventRecorder) SetMaxPerObject(n int) { r.maxPer = max(n, 1) }

// SetLogger sets where failures to record are logged.
func (r *EventRecorder) SetLogger(l *slog.Logger) { r.log = l }

// Eventf implements Recorder.
func (r *EventRecorder) Eventf(obj store.Object, eventType, reason, messageFmt string, args ...any) {
	if eventType != corev1.EventTypeNormal && eventType != corev1.EventTypeWarning {
		r.log.Error("event dropped: unsupported type", "type", eventType, "reason", reason)
		return
	}
	ref, err := referenceTo(obj)
	if err != nil {
		r.log.Error("event dropped", "reason", reason, "err", err)
		return
	}
	msg := truncate(fmt.Sprintf(messageFmt, args...), maxMessageBytes)

	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	oe := r.track(objectID(ref))
	now := r.clock.Now()
	for i, e := range oe.events {
		if e.eventType == eventType && e.reason == reason && e.msg == msg {
			err := r.bump(ctx, ref.Namespace, e.name, now)
			if err == nil {
				return
			}
			if !errors.Is(err, store.ErrNotFound) {
				r.log.Error("event not counted", "event", e.name, "err", err)
				return
			}
			oe.events = append(oe.events[:i], oe.events[i+1:]...) // deleted meanwhile: create anew
			break
		}
	}
	name, err := r.create(ctx, ref, eventType, reason, msg, now)
	if err != nil {
		r.log.Error("event not recorded", "object", ref.Namespace+"/"+ref.Name, "reason", reason, "err", err)
		return
	}
	oe.events = append(oe.events, recorded{name: name, eventType: eventType, reason: reason, msg: msg})
	for len(oe.events) > r.maxPer {
		oldest := oe.events[0]
		oe.events = oe.events[1:]
		err := r.st.Delete(ctx, "Event", ref.Namespace, oldest.name, store.DeleteOptions{})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			r.log.Error("old event not deleted", "event", oldest.name, "err", err)
		}
	}
}

// bump increments an existing event's count, retrying on conflicts.
func (r *EventRecorder) bump(ctx context.Context, namespace, name string, now time.Time) error {
	var err error
	for range 3 {
		var obj store.Object
		obj, err = r.st.Get(ctx, "Event", namespace, name)
		if err != nil {
			return err
		}
		ev := obj.(*corev1.Event)
		ev.Count++
		ev.LastTimestamp = metav1.NewTime(now)
		if _, err = r.st.Update(ctx, ev); !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return err
}

// create writes a new event and returns its name.
func (r *EventRecorder) create(ctx context.Context, ref *corev1.ObjectReference, eventType, reason, msg string, now time.Time) (string, error) {
	ev := &corev1.Event{
		TypeMeta:            metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta:          metav1.ObjectMeta{Namespace: ref.Namespace},
		InvolvedObject:      *ref,
		Reason:              reason,
		Message:             msg,
		Type:                eventType,
		Source:              corev1.EventSource{Component: r.component},
		FirstTimestamp:      metav1.NewTime(now),
		LastTimestamp:       metav1.NewTime(now),
		Count:               1,
		ReportingController: r.component,
	}
	if ev.Namespace == "" {
		ev.Namespace = metav1.NamespaceDefault
	}
	var err error
	for range 5 {
		// Kubernetes names events "<object>.<hex UnixNano>"; a fake clock
		// can record twice in one nanosecond, or meet a name from before
		// a restart, so move on to the next nanosecond.
		nanos := max(now.UnixNano(), r.lastNanos+1)
		r.lastNanos = nanos
		ev.Name = fmt.Sprintf("%s.%x", ref.Name, nanos)
		if _, err = r.st.Create(ctx, ev); !errors.Is(err, store.ErrAlreadyExists) {
			return ev.Name, err
		}
	}
	return "", err
}

// track returns the remembered events of the object id, remembering it
// as the most recent and forgetting the least recent beyond the bound.
func (r *EventRecorder) track(id string) *objectEvents {
	if el, ok := r.objects[id]; ok {
		r.lru.MoveToFront(el)
		return el.Value.(*objectEvents)
	}
	oe := &objectEvents{id: id}
	r.objects[id] = r.lru.PushFront(oe)
	for r.lru.Len() > maxTrackedObjects {
		last := r.lru.Back()
		r.lru.Remove(last)
		delete(r.objects, last.Value.(*objectEvents).id)
	}
	return oe
}

// referenceTo returns the involvedObject of an event about obj.
func referenceTo(obj store.Object) (*corev1.ObjectReference, error) {
	if obj == nil {
		return nil, errors.New("nil object")
	}
	m := metaOf(obj)
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.Kind == "" {
		kind, err := store.KindOf(obj)
		if err != nil {
			return nil, err
		}
		blank, err := store.New(kind)
		if err != nil {
			return nil, err
		}
		gvk = blank.GetObjectKind().GroupVersionKind()
	}
	apiVersion, kind := gvk.ToAPIVersionAndKind()
	return &corev1.ObjectReference{
		Kind:            kind,
		APIVersion:      apiVersion,
		Namespace:       m.GetNamespace(),
		Name:            m.GetName(),
		UID:             m.GetUID(),
		ResourceVersion: m.GetResourceVersion(),
	}, nil
}

// objectID identifies the involved object: by UID, or by kind and key for
// an object without one (not stored yet).
func objectID(ref *corev1.ObjectReference) string {
	if ref.UID != "" {
		return string(ref.UID)
	}
	return ref.Kind + "/" + ref.Namespace + "/" + ref.Name
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
