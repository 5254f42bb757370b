package sim

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// Checker replays every state the store passes through, in order, and
// checks a Deployment's rollout guarantees in each: the ReplicaSets never
// ask for, and the pods never number, more than replicas + maxSurge; and
// once the Deployment has been fully available, fewer than replicas -
// maxUnavailable pods are never available.
type Checker struct {
	namespace, name string
	events          <-chan store.Event

	deploy *appsv1.Deployment
	sets   map[types.UID]*appsv1.ReplicaSet
	pods   map[types.UID]*corev1.Pod

	wasAvailable bool
	// States counts the store states checked.
	States int
	// MaxPods and MinAvailable are the extremes seen (for reports).
	MaxPods, MinAvailable int
	// Violations describes each broken guarantee (nil: none).
	Violations []string
}

// NewChecker starts watching st for the Deployment namespace/name. Create
// it before the Deployment, or at least before the states to check.
func NewChecker(ctx context.Context, st store.Store, namespace, name string) (*Checker, error) {
	_, rv, err := st.List(ctx, "Deployment", store.ListOptions{Namespace: namespace})
	if err != nil {
		return nil, err
	}
	ch := &Checker{namespace: namespace, name: name, sets: map[types.UID]*appsv1.ReplicaSet{}, pods: map[types.UID]*corev1.Pod{}, MinAvailable: -1}
	for _, kind := range []string{"Deployment", "ReplicaSet", "Pod"} {
		objs, _, err := st.List(ctx, kind, store.ListOptions{Namespace: namespace})
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			ch.apply(store.Event{Type: store.Added, Object: o})
		}
	}
	ch.events, err = st.Watch(ctx, "", rv)
	return ch, err
}

// Check replays the states written since the last call. It must be called
// often enough that the watch buffer does not fill (after every Step).
func (ch *Checker) Check() {
	for {
		select {
		case ev, ok := <-ch.events:
			if !ok {
				ch.Violations = append(ch.Violations, "watch closed: the checker fell behind")
				return
			}
			ch.apply(ev)
			ch.check(ev.ResourceVersion)
		default:
			return
		}
	}
}

func (ch *Checker) apply(ev store.Event) {
	m, ok := ev.Object.(metav1.Object)
	if !ok || m.GetNamespace() != ch.namespace {
		return
	}
	switch o := ev.Object.(type) {
	case *appsv1.Deployment:
		if o.Name == ch.name {
			ch.deploy = o
			if ev.Type == store.Deleted {
				ch.deploy = nil
			}
		}
	case *appsv1.ReplicaSet:
		if ev.Type == store.Deleted {
			delete(ch.sets, o.UID)
		} else {
			ch.sets[o.UID] = o
		}
	case *corev1.Pod:
		if ev.Type == store.Deleted {
			delete(ch.pods, o.UID)
		} else {
			ch.pods[o.UID] = o
		}
	}
}

// owned reports whether rs belongs to the checked Deployment.
func (ch *Checker) owned(rs *appsv1.ReplicaSet) bool {
	ref := metav1.GetControllerOf(rs)
	return ch.deploy != nil && ref != nil && ref.UID == ch.deploy.UID
}

func (ch *Checker) check(rv int64) {
	if ch.deploy == nil {
		return
	}
	ch.States++
	d := ch.deploy
	replicas := rollouts.DeploymentReplicas(d)
	maxTotal := int(replicas + rollouts.MaxSurge(d))
	minAvailable := int(rollouts.MinAvailable(d))

	specTotal := 0
	ours := map[types.UID]bool{}
	for uid, rs := range ch.sets {
		if ch.owned(rs) {
			ours[uid] = true
			specTotal += int(rollouts.ReplicaSetReplicas(rs))
		}
	}
	pods, available := 0, 0
	for _, p := range ch.pods {
		ref := metav1.GetControllerOf(p)
		if ref == nil || !ours[ref.UID] || !rollouts.IsPodActive(p) || p.DeletionTimestamp != nil {
			continue
		}
		pods++
		if rollouts.IsPodReady(p) {
			available++
		}
	}
	ch.MaxPods = max(ch.MaxPods, pods)
	if specTotal > maxTotal {
		ch.fail("rv %d: ReplicaSets ask for %d pods, more than replicas+maxSurge = %d", rv, specTotal, maxTotal)
	}
	if pods > maxTotal {
		ch.fail("rv %d: %d pods, more than replicas+maxSurge = %d", rv, pods, maxTotal)
	}
	if available >= int(replicas) && pods == int(replicas) {
		ch.wasAvailable = true
	}
	if ch.wasAvailable {
		if ch.MinAvailable < 0 || available < ch.MinAvailable {
			ch.MinAvailable = available
		}
		if available < minAvailable {
			ch.fail("rv %d: %d pods available, fewer than replicas-maxUnavailable = %d", rv, available, minAvailable)
		}
	}
}

func (ch *Checker) fail(format string, args ...any) {
	if len(ch.Violations) < 10 {
		ch.Violations = append(ch.Violations, fmt.Sprintf(format, args...))
	}
}
