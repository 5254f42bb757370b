package nodelifecycle

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DrainOptions are `berth drain`'s choices, kubectl's flags.
type DrainOptions struct {
	// Force deletes pods that declare no controller (nothing recreates them).
	Force bool
	// IgnoreDaemonSets leaves DaemonSet pods be instead of failing.
	IgnoreDaemonSets bool
	// DeleteEmptyDirData deletes pods with emptyDir volumes (their data is lost).
	DeleteEmptyDirData bool
}

// DrainPlan is what draining a node does with its pods.
type DrainPlan struct {
	// Evict are the pods to delete, in the order given.
	Evict []*corev1.Pod
	// Warnings and Errors are kubectl's messages, each followed by the
	// pods it concerns ("ignoring DaemonSet-managed Pods: default/ds-x").
	// Any error means nothing may be evicted.
	Warnings, Errors []string
}

// kubectl's drain filter messages.
const (
	msgDaemonSetError   = "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
	msgDaemonSetWarning = "ignoring DaemonSet-managed Pods"
	msgLocalStorage     = "cannot delete Pods with local storage (use --delete-emptydir-data to override)"
	msgLocalStorageWarn = "deleting Pods with local storage"
	msgUnreplicated     = "cannot delete Pods that declare no controller (use --force to override)"
	msgUnreplicatedWarn = "deleting Pods that declare no controller"
)

// PlanDrain runs kubectl drain's pod filters over a node's pods: mirror
// pods are left alone; DaemonSet pods are an error, or with
// IgnoreDaemonSets left running (their controller would put them back
// anyway, and ignores unschedulable); pods with emptyDir volumes need
// DeleteEmptyDirData, pods without a controller need Force (finished pods
// need neither); every other pod is evicted.
func PlanDrain(pods []*corev1.Pod, opts DrainOptions) DrainPlan {
	var plan DrainPlan
	warnings, errs := newGrouped(), newGrouped()
	for _, p := range pods {
		name := p.Namespace + "/" + p.Name
		if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
			continue
		}
		finished := p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
		ref := metav1.GetControllerOf(p)
		if ref != nil && ref.Kind == "DaemonSet" {
			if opts.IgnoreDaemonSets {
				warnings.add(msgDaemonSetWarning, name)
			} else {
				errs.add(msgDaemonSetError, name)
			}
			continue
		}
		ok := true
		if !finished && hasEmptyDir(p) {
			if opts.DeleteEmptyDirData {
				warnings.add(msgLocalStorageWarn, name)
			} else {
				errs.add(msgLocalStorage, name)
				ok = false
			}
		}
		if ref == nil && !finished {
			if opts.Force {
				warnings.add(msgUnreplicatedWarn, name)
			} else {
				errs.add(msgUnreplicated, name)
				ok = false
			}
		}
		if ok {
			plan.Evict = append(plan.Evict, p)
		}
	}
	plan.Warnings, plan.Errors = warnings.lines(), errs.lines()
	if len(plan.Errors) > 0 {
		plan.Evict = nil
	}
	return plan
}

func hasEmptyDir(p *corev1.Pod) bool {
	for _, v := range p.Spec.Volumes {
		if v.EmptyDir != nil {
			return true
		}
	}
	return false
}

// grouped collects pod names under messages, in first-seen order.
type grouped struct {
	order []string
	pods  map[string][]string
}

func newGrouped() *grouped { return &grouped{pods: map[string][]string{}} }

func (g *grouped) add(msg, pod string) {
	if _, ok := g.pods[msg]; !ok {
		g.order = append(g.order, msg)
	}
	g.pods[msg] = append(g.pods[msg], pod)
}

func (g *grouped) lines() []string {
	var out []string
	for _, m := range g.order {
		out = append(out, fmt.Sprintf("%s: %s", m, strings.Join(g.pods[m], ", ")))
	}
	return out
}
