package agent

import (
	corev1 "k8s.io/api/core/v1"
)

// podPhase derives a pod's phase from its container statuses as kubelet
// does (k8s-semantics 6.1; kubelet_pods.go getPhase, without the alpha
// per-container restart rules):
//   - a regular init container that failed and won't be retried
//     (restartPolicy Never) fails the pod;
//   - while init containers are pending (or sidecars, before the pod has
//     initialized), or a container waits for its first start: Pending;
//   - all containers started and one running: Running;
//   - all stopped: Running if they will restart (Always, or OnFailure
//     with a failure), else Succeeded when all exited 0, else Failed.
func podPhase(pod *corev1.Pod, init, app []corev1.ContainerStatus, initialized bool) corev1.PodPhase {
	spec := &pod.Spec
	pendingInit, pendingSidecars, failedInit := 0, 0, 0
	running, waiting, stopped, succeeded, unknown := 0, 0, 0, 0, 0

	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		st, ok := findStatus(init, c.Name)
		if isSidecar(c) {
			switch {
			case !ok:
				pendingSidecars++
				unknown++
			case st.State.Running != nil:
				if st.Started == nil || !*st.Started {
					pendingSidecars++
				}
				running++
			case st.State.Terminated != nil:
			case st.State.Waiting != nil:
				if st.LastTerminationState.Terminated == nil {
					pendingSidecars++
					waiting++
				}
			default:
				pendingSidecars++
				unknown++
			}
			continue
		}
		switch {
		case !ok, st.State.Running != nil:
			pendingInit++
		case st.State.Terminated != nil:
			if st.State.Terminated.ExitCode != 0 {
				failedInit++
			}
		case st.State.Waiting != nil:
			if t := st.LastTerminationState.Terminated; t != nil {
				if t.ExitCode != 0 {
					failedInit++
				}
			} else {
				pendingInit++
			}
		default:
			pendingInit++
		}
	}

	for i := range spec.Containers {
		st, ok := findStatus(app, spec.Containers[i].Name)
		switch {
		case !ok:
			unknown++
		case st.State.Running != nil:
			running++
		case st.State.Terminated != nil:
			stopped++
			if st.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case st.State.Waiting != nil:
			if st.LastTerminationState.Terminated != nil {
				stopped++
			} else {
				waiting++
			}
		default:
			unknown++
		}
	}

	if failedInit > 0 && spec.RestartPolicy == corev1.RestartPolicyNever {
		return corev1.PodFailed
	}
	switch {
	case pendingInit > 0 || (pendingSidecars > 0 && !initialized), waiting > 0:
		return corev1.PodPending
	case running > 0 && unknown == 0:
		return corev1.PodRunning
	case running == 0 && stopped > 0 && unknown == 0:
		switch {
		case spec.RestartPolicy == corev1.RestartPolicyAlways:
			return corev1.PodRunning
		case stopped == succeeded:
			return corev1.PodSucceeded
		case spec.RestartPolicy == corev1.RestartPolicyNever:
			return corev1.PodFailed
		}
		return corev1.PodRunning // OnFailure, restarting a failure
	}
	return corev1.PodPending
}

func findStatus(sts []corev1.ContainerStatus, name string) (*corev1.ContainerStatus, bool) {
	for i := range sts {
		if sts[i].Name == name {
			return &sts[i], true
		}
	}
	return nil, false
}

// isSidecar reports whether an init container is a sidecar (restartPolicy
// Always).
func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// shouldRestart reports whether a container that exited with code is
// started again under the pod's restartPolicy.
func shouldRestart(policy corev1.RestartPolicy, code int32) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return code != 0
	}
	return true
}
