package rollout

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/deployment"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// RestartedAtAnnotation is the pod-template annotation `rollout restart`
// sets (kubectl's).
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// workload is what the rollout actions do on one kind, as kubectl's
// polymorphichelpers do; a nil func is an action kubectl does not support
// for the kind. DaemonSet adds its own (undo, restart, history; no pause).
type workload struct {
	kind string
	// undo rolls back to toRevision (0: the previous one) and returns
	// kubectl's message; edit gets the live object and the rolled-back
	// copy before the one write of it.
	undo func(ctx context.Context, st store.Store, namespace, name string, toRevision int64, edit func(live, next store.Object)) (string, error)
	// paused and setPaused read and set spec.paused.
	paused    func(obj store.Object) bool
	setPaused func(obj store.Object, paused bool)
	// restart stamps the pod template with now, or says why not.
	restart func(obj store.Object, now time.Time) error
	// history lists the revisions, oldest first.
	history func(ctx context.Context, st store.Store, namespace, name string) ([]api.Revision, error)
}

// workloadFor returns the actions of kind, or the API server's error for a
// kind it does not serve. A kind it serves without rollouts gets a
// workload with no actions: each then fails in kubectl's words.
func workloadFor(kind string) (*workload, error) {
	switch kind {
	case "Deployment":
		return deploymentWorkload(), nil
	case "DaemonSet":
		return daemonSetWorkload(), nil
	}
	if _, err := store.New(kind); err != nil {
		return nil, fmt.Errorf("the server doesn't have a resource type %q", pluralOf(kind))
	}
	return &workload{kind: kind}, nil
}

// deploymentWorkload is kubectl's rollout support for Deployments.
func deploymentWorkload() *workload {
	return &workload{
		kind: "Deployment",
		undo: func(ctx context.Context, st store.Store, namespace, name string, toRevision int64, edit func(live, next store.Object)) (string, error) {
			return deployment.RollbackWith(ctx, st, namespace, name, toRevision, func(live, next *appsv1.Deployment) {
				edit(live, next)
			})
		},
		paused:    func(obj store.Object) bool { return obj.(*appsv1.Deployment).Spec.Paused },
		setPaused: func(obj store.Object, paused bool) { obj.(*appsv1.Deployment).Spec.Paused = paused },
		restart: func(obj store.Object, now time.Time) error {
			d := obj.(*appsv1.Deployment)
			if d.Spec.Paused {
				return fmt.Errorf("can't restart paused deployment (run rollout resume first)")
			}
			stampRestart(&d.Spec.Template, now)
			return nil
		},
		history: deploymentHistory,
	}
}

// stampRestart sets the restartedAt annotation of a pod template.
func stampRestart(t *corev1.PodTemplateSpec, now time.Time) {
	if t.Annotations == nil {
		t.Annotations = map[string]string{}
	}
	t.Annotations[RestartedAtAnnotation] = now.Format(time.RFC3339)
}

// deploymentHistory is kubectl's DeploymentHistoryViewer: one revision per
// ReplicaSet, the template with the change-cause added to its annotations
// (as `rollout history --revision N` shows it).
func deploymentHistory(ctx context.Context, st store.Store, namespace, name string) ([]api.Revision, error) {
	entries, err := deployment.History(ctx, st, namespace, name)
	if err != nil {
		return nil, err
	}
	out := make([]api.Revision, 0, len(entries))
	for _, e := range entries {
		t := e.ReplicaSet.Spec.Template.DeepCopy()
		if e.ChangeCause != "" {
			if t.Annotations == nil {
				t.Annotations = map[string]string{}
			}
			t.Annotations[rollouts.ChangeCauseAnnotation] = e.ChangeCause
		}
		text, err := templateYAML(t)
		if err != nil {
			return nil, fmt.Errorf("render revision %d of deployment %s: %w", e.Revision, name, err)
		}
		out = append(out, api.Revision{Revision: e.Revision, ChangeCause: e.ChangeCause, Template: text})
	}
	return out, nil
}

// templateYAML renders a pod template as YAML.
func templateYAML(t *corev1.PodTemplateSpec) (string, error) {
	b, err := yaml.Marshal(t)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
