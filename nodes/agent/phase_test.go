package agent

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestPodPhase(t *testing.T) {
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	exited := func(code int32) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}
	}
	waiting := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	st := func(name string, s corev1.ContainerState) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, State: s}
	}
	crashLoop := func(name string, last int32) corev1.ContainerStatus {
		cs := st(name, corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}})
		cs.LastTerminationState = exited(last)
		return cs
	}
	always := corev1.ContainerRestartPolicyAlways
	tests := []struct {
		name        string
		policy      corev1.RestartPolicy
		inits       []string // "sidecar:" prefix for sidecars
		init, app   []corev1.ContainerStatus
		initialized bool
		want        corev1.PodPhase
	}{
		{"no statuses yet", corev1.RestartPolicyAlways, nil, nil, nil, false, corev1.PodPending},
		{"waiting to start", corev1.RestartPolicyAlways, nil, nil, []corev1.ContainerStatus{st("a", waiting), st("b", running)}, false, corev1.PodPending},
		{"all running", corev1.RestartPolicyAlways, nil, nil, []corev1.ContainerStatus{st("a", running), st("b", running)}, false, corev1.PodRunning},
		{"one exited, one running", corev1.RestartPolicyNever, nil, nil, []corev1.ContainerStatus{st("a", exited(1)), st("b", running)}, false, corev1.PodRunning},
		{"crash looping", corev1.RestartPolicyAlways, nil, nil, []corev1.ContainerStatus{crashLoop("a", 1), st("b", exited(0))}, false, corev1.PodRunning},
		{"all exited 0, Always", corev1.RestartPolicyAlways, nil, nil, []corev1.ContainerStatus{st("a", exited(0)), st("b", exited(0))}, false, corev1.PodRunning},
		{"all exited 0, OnFailure", corev1.RestartPolicyOnFailure, nil, nil, []corev1.ContainerStatus{st("a", exited(0)), st("b", exited(0))}, false, corev1.PodSucceeded},
		{"all exited 0, Never", corev1.RestartPolicyNever, nil, nil, []corev1.ContainerStatus{st("a", exited(0)), st("b", exited(0))}, false, corev1.PodSucceeded},
		{"one failed, Never", corev1.RestartPolicyNever, nil, nil, []corev1.ContainerStatus{st("a", exited(0)), st("b", exited(2))}, false, corev1.PodFailed},
		{"one failed, OnFailure", corev1.RestartPolicyOnFailure, nil, nil, []corev1.ContainerStatus{st("a", exited(0)), st("b", exited(2))}, false, corev1.PodRunning},
		{"init running", corev1.RestartPolicyAlways, []string{"i"}, []corev1.ContainerStatus{st("i", running)},
			[]corev1.ContainerStatus{st("a", waiting), st("b", waiting)}, false, corev1.PodPending},
		{"init failed, Never", corev1.RestartPolicyNever, []string{"i"}, []corev1.ContainerStatus{st("i", exited(1))},
			[]corev1.ContainerStatus{st("a", waiting), st("b", waiting)}, false, corev1.PodFailed},
		{"init crash looping, Always", corev1.RestartPolicyAlways, []string{"i"}, []corev1.ContainerStatus{crashLoop("i", 1)},
			[]corev1.ContainerStatus{st("a", waiting), st("b", waiting)}, false, corev1.PodPending},
		{"init done", corev1.RestartPolicyAlways, []string{"i"}, []corev1.ContainerStatus{st("i", exited(0))},
			[]corev1.ContainerStatus{st("a", running), st("b", running)}, true, corev1.PodRunning},
		{"sidecar not started yet", corev1.RestartPolicyAlways, []string{"sidecar:s"}, []corev1.ContainerStatus{st("s", waiting)},
			[]corev1.ContainerStatus{st("a", waiting), st("b", waiting)}, false, corev1.PodPending},
		{"sidecar running with apps", corev1.RestartPolicyAlways, []string{"sidecar:s"},
			[]corev1.ContainerStatus{func() corev1.ContainerStatus { s := st("s", running); tr := true; s.Started = &tr; return s }()},
			[]corev1.ContainerStatus{st("a", running), st("b", running)}, true, corev1.PodRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: tt.policy,
				Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}}
			for _, n := range tt.inits {
				c := corev1.Container{Name: n}
				if len(n) > 8 && n[:8] == "sidecar:" {
					c.Name, c.RestartPolicy = n[8:], &always
				}
				pod.Spec.InitContainers = append(pod.Spec.InitContainers, c)
			}
			if got := podPhase(pod, tt.init, tt.app, tt.initialized); got != tt.want {
				t.Errorf("phase = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPullPolicy(t *testing.T) {
	tests := []struct {
		image  string
		policy corev1.PullPolicy
		want   corev1.PullPolicy
	}{
		{"nginx", "", corev1.PullAlways},
		{"nginx:latest", "", corev1.PullAlways},
		{"nginx:1.27", "", corev1.PullIfNotPresent},
		{"registry:5000/nginx", "", corev1.PullAlways},
		{"registry:5000/nginx:1", "", corev1.PullIfNotPresent},
		{"nginx@sha256:abc", "", corev1.PullIfNotPresent},
		{"nginx", corev1.PullNever, corev1.PullNever},
	}
	for _, tt := range tests {
		if got := pullPolicy(&corev1.Container{Image: tt.image, ImagePullPolicy: tt.policy}); got != tt.want {
			t.Errorf("pullPolicy(%q, %q) = %s, want %s", tt.image, tt.policy, got, tt.want)
		}
	}
}
