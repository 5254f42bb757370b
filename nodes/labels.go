package nodes

import (
	corev1 "k8s.io/api/core/v1"
)

// Label keys the agent puts on sandboxes and containers, the ones kubelet
// uses (pkg/kubelet/types), so crictl users see what they expect and a
// restarted agent can find the pods it was running.
const (
	LabelPodName       = "io.kubernetes.pod.name"
	LabelPodNamespace  = "io.kubernetes.pod.namespace"
	LabelPodUID        = "io.kubernetes.pod.uid"
	LabelContainerName = "io.kubernetes.container.name"
	// LabelManagedBy marks what berth's agent made, so that it never
	// touches other sandboxes in the same runtime namespace.
	LabelManagedBy = "io.berth.managed-by"
	// ManagedByAgent is LabelManagedBy's value.
	ManagedByAgent = "berth-agent"
)

// SandboxLabels returns the labels of pod's sandbox.
func SandboxLabels(pod *corev1.Pod) map[string]string {
	return map[string]string{
		LabelPodName:      pod.Name,
		LabelPodNamespace: pod.Namespace,
		LabelPodUID:       string(pod.UID),
		LabelManagedBy:    ManagedByAgent,
	}
}

// ContainerLabels returns the labels of the container named name in pod.
func ContainerLabels(pod *corev1.Pod, name string) map[string]string {
	l := SandboxLabels(pod)
	l[LabelContainerName] = name
	return l
}
