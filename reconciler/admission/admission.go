// Package admission holds what Kubernetes' API server does to objects
// on their way in, for the writes berth's own controllers make to the
// store: today the DefaultTolerationSeconds plugin.
package admission

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/store"
)

// DefaultTolerationSeconds is how long a pod stays on a not-ready or
// unreachable node before it is evicted, unless it says otherwise
// (kube-apiserver's --default-not-ready-toleration-seconds and
// --default-unreachable-toleration-seconds).
const DefaultTolerationSeconds int64 = 300

// Wrap returns st with upstream's DefaultTolerationSeconds admission on
// every Pod created through it, directly or in a Txn: unless the pod
// already tolerates node.kubernetes.io/not-ready (resp. unreachable) with
// NoExecute, it gets a toleration of it (Exists, NoExecute, 300 s).
// Everything else passes through unchanged.
func Wrap(st store.Store) store.Store { return &admitted{Store: st} }

type admitted struct{ store.Store }

// Create implements store.Store.
func (a *admitted) Create(ctx context.Context, obj store.Object) (store.Object, error) {
	return a.Store.Create(ctx, Admit(obj))
}

// Txn implements store.Store.
func (a *admitted) Txn(ctx context.Context, fn func(store.Txn) error) error {
	return a.Store.Txn(ctx, func(tx store.Txn) error { return fn(admittedTxn{tx}) })
}

type admittedTxn struct{ store.Txn }

// Create implements store.Txn.
func (t admittedTxn) Create(obj store.Object) (store.Object, error) { return t.Txn.Create(Admit(obj)) }

// Admit returns obj with the default tolerations added when it is a Pod
// that needs them (a copy: the caller's object is not changed), and obj
// itself otherwise.
func Admit(obj store.Object) store.Object {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj
	}
	notReady, unreachable := false, false
	for _, t := range pod.Spec.Tolerations {
		// As upstream: an empty key matches every key, an empty effect
		// every effect.
		if t.Effect != corev1.TaintEffectNoExecute && t.Effect != "" {
			continue
		}
		if t.Key == corev1.TaintNodeNotReady || t.Key == "" {
			notReady = true
		}
		if t.Key == corev1.TaintNodeUnreachable || t.Key == "" {
			unreachable = true
		}
	}
	if notReady && unreachable {
		return obj
	}
	pod = pod.DeepCopy()
	if !notReady {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, defaultToleration(corev1.TaintNodeNotReady))
	}
	if !unreachable {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, defaultToleration(corev1.TaintNodeUnreachable))
	}
	return pod
}

func defaultToleration(key string) corev1.Toleration {
	s := DefaultTolerationSeconds
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &s}
}
