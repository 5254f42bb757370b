package job

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-io/berth/workloads"
)

// Event reasons for pods (upstream's pkg/controller/controller_utils.go).
const (
	SuccessfulCreateReason = "SuccessfulCreate"
	FailedCreateReason     = "FailedCreate"
	SuccessfulDeleteReason = "SuccessfulDelete"
	FailedDeleteReason     = "FailedDelete"
)

// Legacy label keys the API server also puts on a Job's pod template,
// next to batchv1.ControllerUidLabel and batchv1.JobNameLabel.
const (
	legacyControllerUIDLabel = "controller-uid"
	legacyJobNameLabel       = "job-name"
)

// jobKind is the GroupVersionKind of the owner reference put on pods.
var jobKind = batchv1.SchemeGroupVersion.WithKind("Job")

// maxGeneratedNameLength is the longest generateName prefix the API
// server keeps (63 minus its 5 random characters).
const maxGeneratedNameLength = 58

// Tracking of finished pods.
//
// Upstream counts each finished pod exactly once with the finalizer
// batch.kubernetes.io/job-tracking: a pod keeps it until the controller
// has added it to the Job's status, so it cannot vanish uncounted. berth's
// store has no finalizers (a deleted pod goes at once), but it has
// transactions. So the controller still puts the finalizer on every pod
// it creates or adopts, as a marker, "not counted yet", and it counts a
// finished pod and removes the marker in one Txn with the Job's status
// update: a pod without the marker has been counted, a pod with it not.
// No status.uncountedTerminatedPods step is needed, and a crash at any
// point neither loses nor repeats a count.
//
// A pod can still disappear before the controller saw it finished (an
// unscheduled pod deleted by a user is removed at once). The pod handler
// remembers such a pod when its last state still had the marker and the
// next sync counts it (as failed, unless it had succeeded), in memory
// only: after a restart such a pod is not counted. Pods the controller
// deletes itself (suspension, too many running, the Job failing) lose the
// marker in the Txn that deletes them.

// isTracked reports whether pod has not been counted yet.
func isTracked(p *corev1.Pod) bool {
	return slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer)
}

// untracked returns pod's finalizers without the tracking one.
func untracked(finalizers []string) []string {
	return slices.DeleteFunc(slices.Clone(finalizers), func(f string) bool { return f == batchv1.JobTrackingFinalizer })
}

// onlyReplaceFailedPods: with podReplacementPolicy Failed a terminating
// pod is not replaced, nor counted as failed, until it has failed.
func onlyReplaceFailedPods(job *batchv1.Job) bool {
	return job.Spec.PodReplacementPolicy != nil && *job.Spec.PodReplacementPolicy == batchv1.Failed
}

// isPodFailed is upstream's: a Failed pod, or (unless only failed pods are
// replaced) a pod being deleted that did not succeed.
func isPodFailed(p *corev1.Pod, job *batchv1.Job) bool {
	if p.Status.Phase == corev1.PodFailed {
		return true
	}
	if onlyReplaceFailedPods(job) {
		return false
	}
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded
}

func isFinishedPod(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// isActive: not finished and not being deleted.
func isActive(p *corev1.Pod) bool { return !isFinishedPod(p) && p.DeletionTimestamp == nil }

// isTerminating: being deleted and not finished.
func isTerminating(p *corev1.Pod) bool { return !isFinishedPod(p) && p.DeletionTimestamp != nil }

// selectorOf returns the Job's pod selector. Kubernetes' API server writes
// a generated one, batch.kubernetes.io/controller-uid=<uid>, into
// spec.selector at creation unless manualSelector is true; berth's store
// does not, so a Job without one gets that selector here.
func selectorOf(job *batchv1.Job) (labels.Selector, error) {
	if job.Spec.Selector == nil {
		if job.Spec.ManualSelector != nil && *job.Spec.ManualSelector {
			return labels.Nothing(), nil
		}
		return labels.SelectorFromSet(labels.Set{batchv1.ControllerUidLabel: string(job.UID)}), nil
	}
	return metav1.LabelSelectorAsSelector(job.Spec.Selector)
}

// labelSelectorOf is selectorOf as a LabelSelector (for owner lookups).
func labelSelectorOf(job *batchv1.Job) *metav1.LabelSelector {
	if job.Spec.Selector == nil && (job.Spec.ManualSelector == nil || !*job.Spec.ManualSelector) {
		return &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: string(job.UID)}}
	}
	return job.Spec.Selector
}

// podFromTemplate builds a pod of job the way upstream's manageJob and the
// API server together do: template labels plus the Job's generated ones,
// the tracking finalizer, the Job as controller, generateName "<job>-",
// and for index ix (noIndex for a NonIndexed Job) the completion index
// annotation and label, JOB_COMPLETION_INDEX in every container, hostname
// "<job>-<ix>" and generateName "<job>-<ix>-". The pod is defaulted as the
// API server would on create.
func podFromTemplate(job *batchv1.Job, ix int) *corev1.Pod {
	t := job.Spec.Template.DeepCopy()
	lbls := maps.Clone(t.Labels)
	if lbls == nil {
		lbls = map[string]string{}
	}
	if job.Spec.ManualSelector == nil || !*job.Spec.ManualSelector {
		lbls[batchv1.ControllerUidLabel] = string(job.UID)
		lbls[legacyControllerUIDLabel] = string(job.UID)
		lbls[batchv1.JobNameLabel] = job.Name
		lbls[legacyJobNameLabel] = job.Name
	}
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       job.Namespace,
			GenerateName:    job.Name + "-",
			Labels:          lbls,
			Annotations:     maps.Clone(t.Annotations),
			Finalizers:      append(untracked(t.Finalizers), batchv1.JobTrackingFinalizer),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(job, jobKind)},
		},
		Spec: t.Spec,
	}
	if ix != noIndex {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[batchv1.JobCompletionIndexAnnotation] = strconv.Itoa(ix)
		pod.Labels[batchv1.JobCompletionIndexAnnotation] = strconv.Itoa(ix)
		pod.Spec.Hostname = fmt.Sprintf("%s-%d", job.Name, ix)
		pod.GenerateName = generateNameWithIndex(job.Name, ix)
		for i := range pod.Spec.InitContainers {
			addIndexEnv(&pod.Spec.InitContainers[i])
		}
		for i := range pod.Spec.Containers {
			addIndexEnv(&pod.Spec.Containers[i])
		}
	}
	workloads.Default(pod)
	return pod
}

// generateNameWithIndex is "<job>-<ix>-", the job name cut to fit.
func generateNameWithIndex(jobName string, ix int) string {
	suffix := "-" + strconv.Itoa(ix) + "-"
	prefix := jobName + suffix
	if len(prefix) > maxGeneratedNameLength {
		prefix = prefix[:maxGeneratedNameLength-len(suffix)] + suffix
	}
	return prefix
}

// addIndexEnv gives c JOB_COMPLETION_INDEX from the pod's index label,
// unless it sets that variable itself.
func addIndexEnv(c *corev1.Container) {
	for _, e := range c.Env {
		if e.Name == completionIndexEnv {
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{
		Name: completionIndexEnv,
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			APIVersion: "v1",
			FieldPath:  fmt.Sprintf("metadata.labels['%s']", batchv1.JobCompletionIndexAnnotation),
		}},
	})
}
