// Package controller is the machinery every berth controller runs on: a
// watch cache of the store (list + watch, like client-go informers), work
// queues that dedupe keys and retry with backoff, an event recorder, and a
// Manager that runs controllers either with worker goroutines (the server)
// or step by step on a fake clock until nothing is left to do (tests and
// the simulator), so that rollouts of minutes run in milliseconds and
// deterministically.
package controller

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/store"
)

// Controller is one level-triggered reconciler. Sync computes what to do
// from the current desired and observed state of the object named by key
// ("namespace/name", or "name" for cluster-scoped kinds), never from the
// event that queued it; the object may be gone.
type Controller interface {
	// Name names the controller in logs and metrics ("deployment").
	Name() string
	// Sync reconciles one key. An error requeues the key with backoff; a
	// Requeue error asks to be called again after a delay without counting
	// as a failure.
	Sync(ctx context.Context, key string) error
}

// Requeue is returned by Sync to be synced again after After (a rollout
// waiting for minReadySeconds or a progress deadline).
type Requeue struct{ After time.Duration }

func (r Requeue) Error() string { return "requeue after " + r.After.String() }

// Lister reads objects of one kind from the watch cache. Objects returned
// are shared with the cache: never modify them; DeepCopyObject first.
type Lister interface {
	Get(namespace, name string) (store.Object, bool)
	// List returns objects in namespace ("" for all) matching sel (nil for
	// all), in key order.
	List(namespace string, sel labels.Selector) []store.Object
	// ByOwner returns the objects whose ownerReferences name uid.
	ByOwner(uid types.UID) []store.Object
	// Orphans returns the objects in namespace ("" for all) that have no
	// controller ownerReference: those a controller may adopt.
	Orphans(namespace string) []store.Object
}

// Handler receives the changes the watch cache applies. old is nil for an
// add, new is nil for a delete.
type Handler func(old, new store.Object)

// Recorder records events about objects, as Kubernetes' event recorder
// does: kept in the store as corev1.Event objects (kind "Event"), counted
// and deduplicated by (object, type, reason, message).
type Recorder interface {
	// Eventf records an event; eventType is corev1.EventTypeNormal or
	// corev1.EventTypeWarning; reason is CamelCase ("ScalingReplicaSet").
	Eventf(obj store.Object, eventType, reason, messageFmt string, args ...any)
}

// KeyOf returns an object's queue key: "namespace/name", or "name".
func KeyOf(obj store.Object) string {
	m := metaOf(obj)
	if m.GetNamespace() == "" {
		return m.GetName()
	}
	return m.GetNamespace() + "/" + m.GetName()
}
