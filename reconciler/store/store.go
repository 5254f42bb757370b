// Package store is berth's state store: typed Kubernetes objects keyed by
// kind, namespace and name, with resourceVersions, optimistic concurrency
// and watches, like the Kubernetes API server over etcd. The embedded
// implementation keeps them in a bbolt file in the data dir; an in-memory
// one serves tests and the simulator; an etcd one can follow without
// touching callers (they see only Store).
package store

import (
	"context"
	"errors"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// Object is what the store holds: a pointer to a typed Kubernetes object
// (*corev1.Pod, *appsv1.Deployment, ...) that has ObjectMeta.
type Object = runtime.Object

// Errors callers can test with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: the object changed since it was read (resourceVersion
	// mismatch). Re-read and retry.
	ErrConflict = errors.New("the object has been modified; please apply your changes to the latest version and try again")
	// ErrExpired: a watch asked for a resourceVersion older than the store
	// still remembers. List again and watch from the list's version.
	ErrExpired = errors.New("resourceVersion too old")
	// ErrInvalid: the request can never succeed as written (a kind the
	// store does not hold, no name, resourceVersion set on create).
	ErrInvalid = errors.New("invalid request")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store is closed")
	// ErrLocked: another process has the store file open.
	ErrLocked = errors.New("store file is locked")
	// ErrCorrupt: the store file cannot be read; it was left untouched.
	ErrCorrupt = errors.New("store file is corrupt")
)

// Store is the interface every controller, the sync and the API use.
//
// Semantics follow the Kubernetes API server:
//   - One resourceVersion counter for the whole store (like etcd's
//     revision): every write gets the next one; an object's
//     metadata.resourceVersion is the version of its last write.
//   - Create sets uid, creationTimestamp, resourceVersion, generation 1,
//     namespace "" → "default" for namespaced kinds, and the name from
//     generateName (plus 5 random characters) when name is empty.
//   - Update requires metadata.resourceVersion to equal the stored one
//     (ErrConflict otherwise; "" is refused too). It bumps
//     metadata.generation when anything but status and metadata changed
//     (for a Deployment, annotations too; and when deletionTimestamp is
//     first set, as Kubernetes' graceful deletion does). It keeps uid and
//     creationTimestamp, and a deletionTimestamp once set. An update that
//     changes nothing writes nothing: it returns the stored object, with
//     no new resourceVersion and no event (as the API server does).
//   - Delete removes the object at once, except a running Pod, which it
//     marks for graceful deletion (see DeleteOptions.GracePeriodSeconds).
//   - Objects returned are the caller's own copies.
type Store interface {
	// Get returns one object. kind is the Kubernetes kind ("Deployment").
	Get(ctx context.Context, kind, namespace, name string) (Object, error)
	// List returns the objects of kind that match opts, in key order
	// (namespace, then name), and the store's resourceVersion at the time
	// of the list, from which Watch continues with no gap.
	List(ctx context.Context, kind string, opts ListOptions) ([]Object, int64, error)
	// Create stores a new object and returns it as stored.
	Create(ctx context.Context, obj Object) (Object, error)
	// Update replaces an object (optimistic concurrency, see above).
	Update(ctx context.Context, obj Object) (Object, error)
	// Delete removes an object.
	Delete(ctx context.Context, kind, namespace, name string, opts DeleteOptions) error
	// Watch streams every change to objects of kind (all kinds when kind
	// is "") after resourceVersion fromRV, in order, with no gaps. The
	// channel closes when ctx ends or the store closes; a watcher that
	// falls too far behind has its channel closed and must re-list.
	Watch(ctx context.Context, kind string, fromRV int64) (<-chan Event, error)
	// Txn runs fn as one atomic transaction: all its writes land, with
	// consecutive resourceVersions, or none do.
	Txn(ctx context.Context, fn func(Txn) error) error
	// Close releases the store (and its file lock).
	Close() error
}

// Txn is the write side of the store inside one transaction.
type Txn interface {
	Get(kind, namespace, name string) (Object, error)
	Create(obj Object) (Object, error)
	Update(obj Object) (Object, error)
	Delete(kind, namespace, name string, opts DeleteOptions) error
}

// ListOptions filter a List.
type ListOptions struct {
	// Namespace limits the list to one namespace; "" lists all.
	Namespace string
	// Selector filters on labels; nil matches everything.
	Selector labels.Selector
}

// DeleteOptions are preconditions on a Delete.
type DeleteOptions struct {
	// UID, when set, must match the stored object's (ErrConflict if not):
	// it keeps a delete from hitting a new object of the same name.
	UID string
	// ResourceVersion, when non-zero, must match (ErrConflict if not).
	ResourceVersion int64
	// GracePeriodSeconds applies to Pods, as in the Kubernetes API server:
	// a pod running on a node is not removed but marked, deletionTimestamp
	// = now + grace, and its node removes it once its containers have
	// stopped (deleting with 0). nil means the pod's
	// terminationGracePeriodSeconds; 0 removes it at once. A pod that never
	// reached a node, whose node is gone, or that has finished is removed
	// at once whatever the grace.
	GracePeriodSeconds *int64
}

// EventType says what happened to an object.
type EventType string

const (
	Added    EventType = "ADDED"
	Modified EventType = "MODIFIED"
	Deleted  EventType = "DELETED"
)

// Event is one change seen by a watch. For Deleted, Object is the object
// as it was last stored, and ResourceVersion is the version of the delete
// (as in Kubernetes, the object's metadata.resourceVersion is the delete's
// too).
//
// For Modified, PrevObject is the object as it was stored before the
// change (nil for Added and Deleted), so that a watcher with a selector
// can tell, as Kubernetes' watch cache does, an object entering the
// selection (ADDED) or leaving it (DELETED) from one changing within it.
type Event struct {
	Type            EventType
	Object          Object
	PrevObject      Object
	ResourceVersion int64
}
