package gitops

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

func TestHealth(t *testing.T) {
	deploy := func(mut func(*appsv1.Deployment)) *appsv1.Deployment {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: 2}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3)},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}}
		mut(d)
		return d
	}
	rset := func(mut func(*appsv1.ReplicaSet)) *appsv1.ReplicaSet {
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Generation: 1}, Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](2)},
			Status: appsv1.ReplicaSetStatus{ObservedGeneration: 1, AvailableReplicas: 2}}
		mut(rs)
		return rs
	}
	pod := func(policy corev1.RestartPolicy, phase corev1.PodPhase, mut func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: policy}, Status: corev1.PodStatus{Phase: phase}}
		if mut != nil {
			mut(p)
		}
		return p
	}
	job := func(conds ...batchv1.JobCondition) *batchv1.Job {
		return &batchv1.Job{Status: batchv1.JobStatus{Conditions: conds}}
	}
	ready := func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}
	dset := func(mut func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Generation: 2},
			Status: appsv1.DaemonSetStatus{ObservedGeneration: 2, DesiredNumberScheduled: 3, UpdatedNumberScheduled: 3, NumberAvailable: 3}}
		mut(ds)
		return ds
	}
	cron := func(mut func(*batchv1.CronJob)) *batchv1.CronJob {
		cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "tick"}}
		mut(cj)
		return cj
	}
	t1 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t2 := metav1.NewTime(t1.Add(time.Minute))
	tests := []struct {
		name    string
		obj     store.Object
		status  string
		message string
	}{
		{"deployment healthy", deploy(func(*appsv1.Deployment) {}), sources.HealthHealthy, ""},
		{"deployment paused", deploy(func(d *appsv1.Deployment) { d.Spec.Paused = true }), sources.HealthSuspended, "Deployment is paused"},
		{"deployment not observed", deploy(func(d *appsv1.Deployment) { d.Generation = 3 }), sources.HealthProgressing,
			"Waiting for rollout to finish: observed deployment generation less than desired generation"},
		{"deployment deadline", deploy(func(d *appsv1.Deployment) {
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded"}}
		}), sources.HealthDegraded, `Deployment "web" exceeded its progress deadline`},
		{"deployment updating", deploy(func(d *appsv1.Deployment) { d.Status.UpdatedReplicas = 1 }), sources.HealthProgressing,
			"Waiting for rollout to finish: 1 out of 3 new replicas have been updated..."},
		{"deployment old pending", deploy(func(d *appsv1.Deployment) { d.Status.Replicas = 4 }), sources.HealthProgressing,
			"Waiting for rollout to finish: 1 old replicas are pending termination..."},
		{"deployment unavailable", deploy(func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 2 }), sources.HealthProgressing,
			"Waiting for rollout to finish: 2 of 3 updated replicas are available..."},
		{"replicaset healthy", rset(func(*appsv1.ReplicaSet) {}), sources.HealthHealthy, ""},
		{"replicaset failure", rset(func(rs *appsv1.ReplicaSet) {
			rs.Status.Conditions = []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Message: "quota"}}
		}), sources.HealthDegraded, "quota"},
		{"replicaset unavailable", rset(func(rs *appsv1.ReplicaSet) { rs.Status.AvailableReplicas = 1 }), sources.HealthProgressing,
			"Waiting for rollout to finish: 1 out of 2 new replicas are available..."},
		{"replicaset not observed", rset(func(rs *appsv1.ReplicaSet) { rs.Generation = 2 }), sources.HealthProgressing,
			"Waiting for rollout to finish: observed replica set generation less than desired generation"},
		{"pod pending", pod(corev1.RestartPolicyAlways, corev1.PodPending, nil), sources.HealthProgressing, ""},
		{"pod ready", pod(corev1.RestartPolicyAlways, corev1.PodRunning, ready), sources.HealthHealthy, ""},
		{"pod running not ready", pod(corev1.RestartPolicyAlways, corev1.PodRunning, nil), sources.HealthProgressing, ""},
		{"pod restarted not ready", pod(corev1.RestartPolicyAlways, corev1.PodRunning, func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}}
		}), sources.HealthDegraded, ""},
		{"pod crash loop", pod(corev1.RestartPolicyAlways, corev1.PodRunning, func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 10s"}}}}
		}), sources.HealthDegraded, "back-off 10s"},
		{"pod image error, Never: not judged early", pod(corev1.RestartPolicyNever, corev1.PodPending, func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull"}}}}
		}), sources.HealthProgressing, ""},
		{"pod job running", pod(corev1.RestartPolicyOnFailure, corev1.PodRunning, ready), sources.HealthProgressing, ""},
		{"pod succeeded", pod(corev1.RestartPolicyNever, corev1.PodSucceeded, nil), sources.HealthHealthy, ""},
		{"pod failed with message", pod(corev1.RestartPolicyNever, corev1.PodFailed, func(p *corev1.Pod) { p.Status.Message = "evicted" }), sources.HealthDegraded, "evicted"},
		{"pod failed exit code", pod(corev1.RestartPolicyNever, corev1.PodFailed, func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2}}}}
		}), sources.HealthDegraded, `container "app" failed with exit code 2`},
		{"pod OOM", pod(corev1.RestartPolicyNever, corev1.PodFailed, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}}}}
		}), sources.HealthDegraded, "OOMKilled"},
		{"pod unknown", pod(corev1.RestartPolicyAlways, corev1.PodUnknown, nil), HealthUnknown, ""},
		{"job running", job(), sources.HealthProgressing, ""},
		{"job complete", job(batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Message: "done"}), sources.HealthHealthy, "done"},
		{"job failed", job(batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Message: "BackoffLimitExceeded"}), sources.HealthDegraded, "BackoffLimitExceeded"},
		{"job suspended", job(batchv1.JobCondition{Type: batchv1.JobSuspended, Status: corev1.ConditionTrue, Message: "suspended"}), sources.HealthSuspended, "suspended"},
		{"service", &corev1.Service{}, sources.HealthHealthy, ""},
		{"load balancer pending", &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}, sources.HealthProgressing, ""},
		{"configmap: no health", &corev1.ConfigMap{}, "", ""},
		{"daemonset healthy", dset(func(*appsv1.DaemonSet) {}), sources.HealthHealthy, ""},
		{"daemonset not observed", dset(func(ds *appsv1.DaemonSet) { ds.Generation = 3 }), sources.HealthProgressing,
			"Waiting for rollout to finish: observed daemon set generation less than desired generation"},
		{"daemonset updating", dset(func(ds *appsv1.DaemonSet) { ds.Status.UpdatedNumberScheduled = 1 }), sources.HealthProgressing,
			`Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...`},
		{"daemonset unavailable", dset(func(ds *appsv1.DaemonSet) { ds.Status.NumberAvailable = 2 }), sources.HealthProgressing,
			`Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...`},
		{"daemonset on delete", dset(func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
			ds.Status.UpdatedNumberScheduled = 1
		}), sources.HealthHealthy, "daemon set 1 out of 3 new pods have been updated"},
		{"cronjob suspended", cron(func(cj *batchv1.CronJob) { cj.Spec.Suspend = ptr.To(true) }), sources.HealthSuspended, "CronJob is Suspended"},
		{"cronjob never scheduled", cron(func(*batchv1.CronJob) {}), sources.HealthHealthy, "CronJob has not been scheduled yet"},
		{"cronjob never succeeded", cron(func(cj *batchv1.CronJob) { cj.Status.LastScheduleTime = &t2 }), sources.HealthHealthy,
			"The CronJob never completed successfully. It may not be healthy"},
		{"cronjob running", cron(func(cj *batchv1.CronJob) {
			cj.Status.LastScheduleTime, cj.Status.LastSuccessfulTime = &t2, &t1
			cj.Status.Active = []corev1.ObjectReference{{Name: "tick-1"}}
		}), sources.HealthHealthy, "The job is running. Its last execution may not have been successful"},
		{"cronjob last run failed", cron(func(cj *batchv1.CronJob) { cj.Status.LastScheduleTime, cj.Status.LastSuccessfulTime = &t2, &t1 }),
			sources.HealthDegraded, "CronJob has not completed its last execution successfully"},
		{"cronjob last run succeeded", cron(func(cj *batchv1.CronJob) { cj.Status.LastScheduleTime, cj.Status.LastSuccessfulTime = &t1, &t2 }),
			sources.HealthHealthy, "CronJob has completed its last execution successfully"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, msg := Health(tt.obj)
			if status != tt.status || msg != tt.message {
				t.Errorf("Health = %q, %q; want %q, %q", status, msg, tt.status, tt.message)
			}
		})
	}
}
