package gitops

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

// HealthUnknown is Argo CD's status for an object whose state says nothing
// conclusive (a Pod in phase Unknown).
const HealthUnknown = "Unknown"

// Health assesses an object as Argo CD's gitops-engine does (pkg/health),
// for the kinds berth serves: Deployment, ReplicaSet, DaemonSet, Pod, Job,
// CronJob (Argo CD's Lua check) and Service.
// It returns one of the sources.Health* values (or HealthUnknown) and a
// message, or "" for kinds that have no health (ConfigMap, Secret,
// Namespace, ...). It is pure: it reads only obj.
func Health(obj store.Object) (status, message string) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return deploymentHealth(o)
	case *appsv1.ReplicaSet:
		return replicaSetHealth(o)
	case *corev1.Pod:
		return podHealth(o)
	case *appsv1.DaemonSet:
		return daemonSetHealth(o)
	case *batchv1.Job:
		return jobHealth(o)
	case *batchv1.CronJob:
		return cronJobHealth(o)
	case *corev1.Service:
		return serviceHealth(o)
	}
	return "", ""
}

// deploymentHealth follows kubectl rollout status, as Argo CD does.
func deploymentHealth(d *appsv1.Deployment) (string, string) {
	if d.Spec.Paused {
		return sources.HealthSuspended, "Deployment is paused"
	}
	if d.Generation > d.Status.ObservedGeneration {
		return sources.HealthProgressing, "Waiting for rollout to finish: observed deployment generation less than desired generation"
	}
	st := d.Status
	var progressing *appsv1.DeploymentCondition
	for i := range st.Conditions {
		if st.Conditions[i].Type == appsv1.DeploymentProgressing {
			progressing = &st.Conditions[i]
		}
	}
	switch {
	case progressing != nil && progressing.Reason == "ProgressDeadlineExceeded":
		return sources.HealthDegraded, fmt.Sprintf("Deployment %q exceeded its progress deadline", d.Name)
	case d.Spec.Replicas != nil && st.UpdatedReplicas < *d.Spec.Replicas:
		return sources.HealthProgressing, fmt.Sprintf("Waiting for rollout to finish: %d out of %d new replicas have been updated...", st.UpdatedReplicas, *d.Spec.Replicas)
	case st.Replicas > st.UpdatedReplicas:
		return sources.HealthProgressing, fmt.Sprintf("Waiting for rollout to finish: %d old replicas are pending termination...", st.Replicas-st.UpdatedReplicas)
	case st.AvailableReplicas < st.UpdatedReplicas:
		return sources.HealthProgressing, fmt.Sprintf("Waiting for rollout to finish: %d of %d updated replicas are available...", st.AvailableReplicas, st.UpdatedReplicas)
	}
	return sources.HealthHealthy, ""
}

func replicaSetHealth(rs *appsv1.ReplicaSet) (string, string) {
	if rs.Generation > rs.Status.ObservedGeneration {
		return sources.HealthProgressing, "Waiting for rollout to finish: observed replica set generation less than desired generation"
	}
	for _, c := range rs.Status.Conditions {
		if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
			return sources.HealthDegraded, c.Message
		}
	}
	if rs.Spec.Replicas != nil && rs.Status.AvailableReplicas < *rs.Spec.Replicas {
		return sources.HealthProgressing, fmt.Sprintf("Waiting for rollout to finish: %d out of %d new replicas are available...", rs.Status.AvailableReplicas, *rs.Spec.Replicas)
	}
	return sources.HealthHealthy, ""
}

func podHealth(p *corev1.Pod) (string, string) {
	// Only for pods that restart forever: a Job's pod waiting on a bad
	// image may still recover and is not judged early (Argo CD's reason:
	// its hooks).
	if p.Spec.RestartPolicy == corev1.RestartPolicyAlways {
		var msgs []string
		for _, cs := range p.Status.ContainerStatuses {
			w := cs.State.Waiting
			if w != nil && (strings.HasPrefix(w.Reason, "Err") || strings.HasSuffix(w.Reason, "Error") || strings.HasSuffix(w.Reason, "BackOff")) {
				msgs = append(msgs, w.Message)
			}
		}
		if msgs != nil {
			return sources.HealthDegraded, strings.Join(msgs, ", ")
		}
	}
	switch p.Status.Phase {
	case corev1.PodPending:
		return sources.HealthProgressing, p.Status.Message
	case corev1.PodSucceeded:
		return sources.HealthHealthy, p.Status.Message
	case corev1.PodFailed:
		if p.Status.Message != "" {
			return sources.HealthDegraded, p.Status.Message
		}
		for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if msg := containerFailMessage(cs); msg != "" {
				return sources.HealthDegraded, msg
			}
		}
		return sources.HealthDegraded, ""
	case corev1.PodRunning:
		switch p.Spec.RestartPolicy {
		case corev1.RestartPolicyAlways:
			if podReady(p) {
				return sources.HealthHealthy, p.Status.Message
			}
			for _, cs := range p.Status.ContainerStatuses {
				if cs.LastTerminationState.Terminated != nil {
					return sources.HealthDegraded, p.Status.Message
				}
			}
			return sources.HealthProgressing, p.Status.Message
		case corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
			// Pods with a finite life are on their way, not healthy.
			return sources.HealthProgressing, p.Status.Message
		}
	}
	return HealthUnknown, p.Status.Message
}

func containerFailMessage(cs corev1.ContainerStatus) string {
	t := cs.State.Terminated
	switch {
	case t == nil:
		return ""
	case t.Message != "":
		return t.Message
	case t.Reason == "OOMKilled":
		return t.Reason
	case t.ExitCode != 0:
		return fmt.Sprintf("container %q failed with exit code %d", cs.Name, t.ExitCode)
	}
	return ""
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func jobHealth(j *batchv1.Job) (string, string) {
	var failed, complete, suspended bool
	var failMsg, msg string
	for _, c := range j.Status.Conditions {
		switch c.Type {
		case batchv1.JobFailed:
			failed, complete, failMsg = true, true, c.Message
		case batchv1.JobComplete:
			complete, msg = true, c.Message
		case batchv1.JobSuspended:
			complete, msg = true, c.Message
			suspended = c.Status == corev1.ConditionTrue
		}
	}
	switch {
	case !complete:
		return sources.HealthProgressing, msg
	case failed:
		return sources.HealthDegraded, failMsg
	case suspended:
		return sources.HealthSuspended, msg
	}
	return sources.HealthHealthy, msg
}

// daemonSetHealth follows kubectl rollout status for DaemonSets, as Argo
// CD's getAppsv1DaemonSetHealth does.
func daemonSetHealth(ds *appsv1.DaemonSet) (string, string) {
	if ds.Generation > ds.Status.ObservedGeneration {
		return sources.HealthProgressing, "Waiting for rollout to finish: observed daemon set generation less than desired generation"
	}
	st := ds.Status
	switch {
	case ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType:
		return sources.HealthHealthy, fmt.Sprintf("daemon set %d out of %d new pods have been updated", st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	case st.UpdatedNumberScheduled < st.DesiredNumberScheduled:
		return sources.HealthProgressing, fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d out of %d new pods have been updated...", ds.Name, st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	case st.NumberAvailable < st.DesiredNumberScheduled:
		return sources.HealthProgressing, fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d of %d updated pods are available...", ds.Name, st.NumberAvailable, st.DesiredNumberScheduled)
	}
	return sources.HealthHealthy, ""
}

// cronJobHealth is Argo CD's CronJob check (resource_customizations
// batch/CronJob/health.lua): suspended, or degraded only when its last run
// is over and did not succeed.
func cronJobHealth(cj *batchv1.CronJob) (string, string) {
	st := cj.Status
	switch {
	case cj.Spec.Suspend != nil && *cj.Spec.Suspend:
		return sources.HealthSuspended, "CronJob is Suspended"
	case st.LastScheduleTime == nil:
		return sources.HealthHealthy, "CronJob has not been scheduled yet"
	case st.LastSuccessfulTime == nil:
		return sources.HealthHealthy, "The CronJob never completed successfully. It may not be healthy"
	case len(st.Active) > 0:
		return sources.HealthHealthy, "The job is running. Its last execution may not have been successful"
	case st.LastSuccessfulTime.Before(st.LastScheduleTime):
		return sources.HealthDegraded, "CronJob has not completed its last execution successfully"
	}
	return sources.HealthHealthy, "CronJob has completed its last execution successfully"
}

// serviceHealth: a LoadBalancer waits for its ingress; any other Service
// is healthy once it exists (Argo CD's getServiceHealth).
func serviceHealth(s *corev1.Service) (string, string) {
	if s.Spec.Type == corev1.ServiceTypeLoadBalancer && len(s.Status.LoadBalancer.Ingress) == 0 {
		return sources.HealthProgressing, ""
	}
	return sources.HealthHealthy, ""
}
