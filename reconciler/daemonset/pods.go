package daemonset

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
	"github.com/berth-io/berth/workloads"
)

// Event reasons, upstream's (pkg/controller/daemon and controller_utils.go).
const (
	SuccessfulCreatePodReason = "SuccessfulCreate"
	FailedCreatePodReason     = "FailedCreate"
	SuccessfulDeletePodReason = "SuccessfulDelete"
	FailedDeletePodReason     = "FailedDelete"
	// FailedDaemonPodReason: a daemon pod failed and is replaced.
	FailedDaemonPodReason = "FailedDaemonPod"
	// SucceededDaemonPodReason: a daemon pod exited and is replaced.
	SucceededDaemonPodReason = "SucceededDaemonPod"
	// SelectingAllReason: the DaemonSet's selector is empty.
	SelectingAllReason = "SelectingAll"
	// NoEligibleNodesReason (berth's): no node admits the DaemonSet's pod.
	NoEligibleNodesReason = "NoEligibleNodes"
)

// dsKind is the GroupVersionKind of owner references to DaemonSets.
var dsKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// podTemplate is the template of the DaemonSet's pods at revision hash:
// its template with the automatic tolerations and the labels
// pod-template-generation and controller-revision-hash (upstream's
// util.CreatePodTemplate).
func podTemplate(ds *appsv1.DaemonSet, generation *int64, hash string) *corev1.PodTemplateSpec {
	t := ds.Spec.Template.DeepCopy()
	addDaemonTolerations(&t.Spec)
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	if generation != nil {
		t.Labels[rollouts.DaemonSetTemplateGenerationLabel] = strconv.FormatInt(*generation, 10)
	}
	if hash != "" {
		t.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
	}
	return t
}

// newPod builds the daemon pod for node from template, as the API server
// would store it: generateName "<ds>-", the DaemonSet as controller, the
// node's name as its only required node affinity, defaults applied.
func newPod(ds *appsv1.DaemonSet, template *corev1.PodTemplateSpec, node string) *corev1.Pod {
	t := template.DeepCopy()
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       ds.Namespace,
			GenerateName:    ds.Name + "-",
			Labels:          t.Labels,
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, dsKind)},
		},
		Spec: t.Spec,
	}
	pod.Spec.Affinity = nodeNameAffinity(pod.Spec.Affinity, node)
	workloads.Default(pod)
	return pod
}

// createPod creates ds's pod for node, with upstream's events.
func (c *Controller) createPod(ctx context.Context, ds *appsv1.DaemonSet, template *corev1.PodTemplateSpec, node string) error {
	pod := newPod(ds, template, node)
	if len(pod.Labels) == 0 {
		return errors.New("unable to create pods, no labels")
	}
	obj, err := c.store.Create(ctx, pod)
	if err != nil {
		c.recorder.Eventf(ds, corev1.EventTypeWarning, FailedCreatePodReason, "Error creating: %v", err)
		return err
	}
	c.recorder.Eventf(ds, corev1.EventTypeNormal, SuccessfulCreatePodReason, "Created pod: %v", obj.(*corev1.Pod).Name)
	return nil
}

// deletePod deletes a daemon pod gracefully (its node stops it first), with
// upstream's events. A pod already gone returns store.ErrNotFound.
func (c *Controller) deletePod(ctx context.Context, ds *appsv1.DaemonSet, pod *corev1.Pod) error {
	err := c.store.Delete(ctx, "Pod", pod.Namespace, pod.Name, store.DeleteOptions{UID: string(pod.UID)})
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.recorder.Eventf(ds, corev1.EventTypeWarning, FailedDeletePodReason, "Error deleting: %v", err)
			return fmt.Errorf("unable to delete pods: %w", err)
		}
		return err
	}
	c.recorder.Eventf(ds, corev1.EventTypeNormal, SuccessfulDeletePodReason, "Deleted pod: %v", pod.Name)
	return nil
}

// podsByNode groups the DaemonSet's pods by the node they are for
// (upstream's getNodesToDaemonPods). Pods that finished and are being
// deleted are left out unless includeDeletedTerminal; so are pods that
// name no node.
func podsByNode(pods []*corev1.Pod, includeDeletedTerminal bool) map[string][]*corev1.Pod {
	out := map[string][]*corev1.Pod{}
	for _, p := range pods {
		if !includeDeletedTerminal && isTerminal(p) && p.DeletionTimestamp != nil {
			continue
		}
		if node := targetNode(p); node != "" {
			out[node] = append(out[node], p)
		}
	}
	return out
}

func isTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// sortOldestFirst orders a node's pods as upstream's
// podByCreationTimestampAndPhase: bound pods first, then by creation
// time, then by name.
func sortOldestFirst(pods []*corev1.Pod) {
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		if (a.Spec.NodeName != "") != (b.Spec.NodeName != "") {
			if a.Spec.NodeName != "" {
				return -1
			}
			return 1
		}
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}
