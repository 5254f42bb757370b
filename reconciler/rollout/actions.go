// Package rollout carries out `berth rollout undo|pause|resume|restart|
// history` on the objects in the store, as kubectl's rollout commands do
// against an API server, with kubectl's messages and errors. It also keeps
// the GitOps pin: `rollout undo` of an object that came from a source pins
// it off its Git version (gitops.AnnotationPinned) in the same write that
// restores the old template, and `rollout resume` lifts the pin.
//
// Every action runs under a lock shared with the GitOps sync, so that a
// sync and an undo never interleave their read-modify-write cycles.
package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/gitops"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// conflictRetries bounds how often an action re-reads an object that a
// controller wrote between the action's read and its write.
const conflictRetries = 10

// Options configure Actions.
type Options struct {
	// Store holds the objects acted on.
	Store store.Store
	// Lock serializes the actions with the GitOps sync (the same Locker
	// must be given to both). nil: a lock of the Actions' own.
	Lock sync.Locker
	// Clock stamps `rollout restart` (default: the real clock).
	Clock clock.PassiveClock
	// Recorder, when set, records an event when a pin is set or lifted.
	Recorder controller.Recorder
}

// Actions implements api.Rollouts on a store.
type Actions struct {
	st    store.Store
	lock  sync.Locker
	clock clock.PassiveClock
	rec   controller.Recorder
}

var _ api.Rollouts = (*Actions)(nil)

// New returns the rollout actions on opts.Store.
func New(opts Options) *Actions {
	a := &Actions{st: opts.Store, lock: opts.Lock, clock: opts.Clock, rec: opts.Recorder}
	if a.lock == nil {
		a.lock = &sync.Mutex{}
	}
	if a.clock == nil {
		a.clock = clock.RealClock{}
	}
	return a
}

// Undo is `rollout undo KIND/NAME [--to-revision N]` (0: the previous
// revision). An object that came from a source is pinned in the same
// write; a skipped rollback writes nothing and pins nothing.
func (a *Actions) Undo(ctx context.Context, kind, namespace, name string, toRevision int64) (string, error) {
	w, err := workloadFor(kind)
	if err != nil {
		return "", err
	}
	a.lock.Lock()
	defer a.lock.Unlock()
	// Read first, as kubectl does: a missing object gets the API server's
	// words, before any other complaint.
	if _, err := a.get(ctx, w, namespace, name); err != nil {
		return "", err
	}
	if w.undo == nil {
		return "", fmt.Errorf("no rollbacker has been implemented for %q", groupKind(kind))
	}
	reason := "rollout undo"
	if toRevision > 0 {
		reason = fmt.Sprintf("rollout undo --to-revision %d", toRevision)
	}
	// pinnedObj is the object written with a pin, on the last attempt.
	var pinnedObj store.Object
	msg, err := w.undo(ctx, a.st, namespace, name, toRevision, func(live, next store.Object) {
		pinnedObj = nil
		if pin(live.(metav1.Object), next.(metav1.Object), reason) {
			pinnedObj = next
		}
	})
	if err != nil {
		return "", err
	}
	// A conflict may have been followed by a skip: only a rollback wrote.
	if pinnedObj != nil && msg == rollouts.RollbackSuccessMessage && a.rec != nil {
		a.rec.Eventf(pinnedObj, "Normal", ReasonPinned,
			"Pinned by %s: held off source %q until a new revision changes it or `berth rollout resume`",
			reason, pinnedObj.(metav1.Object).GetLabels()[gitops.LabelSource])
	}
	return msg, nil
}

// Pause is `rollout pause KIND/NAME`: "paused", or kubectl's error when the
// object is paused already.
func (a *Actions) Pause(ctx context.Context, kind, namespace, name string) (string, error) {
	w, err := workloadFor(kind)
	if err != nil {
		return "", err
	}
	msg, _, err := a.update(ctx, w, namespace, name, func(obj store.Object) (string, error) {
		if w.paused == nil {
			return "", objectError(kind, name, errors.New("pausing is not supported"))
		}
		if w.paused(obj) {
			return "", objectError(kind, name, errors.New("is already paused"))
		}
		w.setPaused(obj, true)
		return "paused", nil
	})
	return msg, err
}

// Resume is `rollout resume KIND/NAME`: it clears spec.paused and lifts
// the pin `rollout undo` set. An object that is not paused but pinned only
// has its pin lifted; one that is neither gets kubectl's "is not paused".
func (a *Actions) Resume(ctx context.Context, kind, namespace, name string) (string, error) {
	w, err := workloadFor(kind)
	if err != nil {
		return "", err
	}
	var lifted string // the reason of the pin lifted, if any
	msg, written, err := a.update(ctx, w, namespace, name, func(obj store.Object) (string, error) {
		m := obj.(metav1.Object)
		reason, pinned := unpin(m)
		lifted = ""
		paused := w.paused != nil && w.paused(obj)
		switch {
		case paused:
			w.setPaused(obj, false)
			if pinned {
				lifted = reason
				return "resumed; " + pinLiftedMessage(reason), nil
			}
			return "resumed", nil
		case pinned:
			lifted = reason
			return pinLiftedMessage(reason), nil
		case w.paused == nil:
			return "", objectError(kind, name, errors.New("resuming is not supported"))
		default:
			return "", objectError(kind, name, errors.New("is not paused"))
		}
	})
	if err == nil && lifted != "" && a.rec != nil {
		a.rec.Eventf(written, "Normal", ReasonUnpinned, "Pin of %s lifted by `berth rollout resume`: it follows its source again", lifted)
	}
	return msg, err
}

// Restart is `rollout restart KIND/NAME`: it stamps the pod template with
// kubectl.kubernetes.io/restartedAt, so that the controller rolls every
// pod. A paused Deployment is refused, as kubectl does.
func (a *Actions) Restart(ctx context.Context, kind, namespace, name string) (string, error) {
	w, err := workloadFor(kind)
	if err != nil {
		return "", err
	}
	msg, _, err := a.update(ctx, w, namespace, name, func(obj store.Object) (string, error) {
		if w.restart == nil {
			return "", objectError(kind, name, errors.New("restarting is not supported"))
		}
		if err := w.restart(obj, a.clock.Now()); err != nil {
			return "", objectError(kind, name, err)
		}
		return "restarted", nil
	})
	return msg, err
}

// History is `rollout history KIND/NAME`: the revisions in ascending
// order, each with its pod template as YAML.
func (a *Actions) History(ctx context.Context, kind, namespace, name string) ([]api.Revision, error) {
	w, err := workloadFor(kind)
	if err != nil {
		return nil, err
	}
	// No lock: history only reads.
	if _, err := a.get(ctx, w, namespace, name); err != nil {
		return nil, err
	}
	if w.history == nil {
		return nil, fmt.Errorf("no history viewer has been implemented for %q", groupKind(kind))
	}
	return w.history(ctx, a.st, namespace, name)
}

// get reads one object, with the API server's not-found message.
func (a *Actions) get(ctx context.Context, w *workload, namespace, name string) (store.Object, error) {
	obj, err := a.st.Get(ctx, w.kind, namespace, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundError{resource: resourceName(w.kind), name: name}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", w.kind, name, err)
	}
	return obj, nil
}

// update reads an object under the lock, lets change edit it and writes
// it, again from a fresh read when a controller wrote in between. change
// returns the action's message, or an error that writes nothing. update
// returns the object as written.
func (a *Actions) update(ctx context.Context, w *workload, namespace, name string, change func(store.Object) (string, error)) (string, store.Object, error) {
	a.lock.Lock()
	defer a.lock.Unlock()
	for i := 0; ; i++ {
		obj, err := a.get(ctx, w, namespace, name)
		if err != nil {
			return "", nil, err
		}
		msg, err := change(obj)
		if err != nil {
			return "", nil, err
		}
		written, err := a.st.Update(ctx, obj)
		if err == nil {
			return msg, written, nil
		}
		if !errors.Is(err, store.ErrConflict) || i >= conflictRetries {
			return "", nil, fmt.Errorf("failed to patch: %w", err)
		}
	}
}

// notFoundError is the API server's NotFound: `deployments.apps "web" not
// found`. errors.Is matches store.ErrNotFound.
type notFoundError struct{ resource, name string }

func (e notFoundError) Error() string        { return fmt.Sprintf("%s %q not found", e.resource, e.name) }
func (e notFoundError) Is(target error) bool { return target == store.ErrNotFound }

// objectError is how kubectl's rollout pause/resume/restart report a
// refusal: `deployments.apps "web" is already paused`.
func objectError(kind, name string, err error) error {
	return fmt.Errorf("%s %q %v", resourceName(kind), name, err)
}

// groupKind is a kind as kubectl's GroupKind.String prints it:
// "Deployment.apps", "ConfigMap".
func groupKind(kind string) string {
	if g := groupOf(kind); g != "" {
		return kind + "." + g
	}
	return kind
}

// resourceName is a kind's resource as kubectl names it in messages:
// "deployments.apps", "configmaps".
func resourceName(kind string) string {
	r := pluralOf(kind)
	if g := groupOf(kind); g != "" {
		return r + "." + g
	}
	return r
}

// groupOf is the API group of a kind the store holds ("" for the core
// group and for kinds it does not know).
func groupOf(kind string) string {
	switch kind {
	case "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "ControllerRevision":
		return "apps"
	case "Job", "CronJob":
		return "batch"
	case "Source":
		return "berth.io"
	}
	return ""
}

// pluralOf guesses a kind's resource name as Kubernetes'
// UnsafeGuessKindToResource does; right for every kind berth serves.
func pluralOf(kind string) string {
	k := strings.ToLower(kind)
	switch {
	case k == "":
		return ""
	case strings.HasSuffix(k, "s"):
		return k + "es"
	case strings.HasSuffix(k, "y"):
		return strings.TrimSuffix(k, "y") + "ies"
	}
	return k + "s"
}
