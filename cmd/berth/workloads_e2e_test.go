package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/sources/gittest"
)

func daemonSetManifest(version string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: agent
        image: berth.local/hello:%s
        imagePullPolicy: Never
        env: [{name: VERSION, value: %s}]
        readinessProbe:
          httpGet: {path: /readyz, port: 8080}
          periodSeconds: 1
`, version, version)
}

// jobManifests are a CronJob due every minute that keeps one successful
// Job, and a Job that always fails with backoffLimit 1.
const jobManifests = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "*/1 * * * *"
  successfulJobsHistoryLimit: 1
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - name: tick
            image: berth.local/hello:v1
            imagePullPolicy: Never
            args: ["--exit-after=1s", "--exit-code=0"]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: broken
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: broken
        image: berth.local/hello:v1
        imagePullPolicy: Never
        args: ["--exit-after=500ms", "--exit-code=3"]
`

// TestE2EDaemonSetJobsCronJobs runs issue 6's workloads from Git on real
// containerd: a DaemonSet lands on the node and a commit rolls it; a
// CronJob's Job runs to completion and the history limit prunes older
// ones; a failing Job backs off and fails.
func TestE2EDaemonSetJobsCronJobs(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.Commit(t, map[string]string{"ds.yaml": daemonSetManifest("v1"), "jobs.yaml": jobManifests}, "workloads")
	repo.Push(t)
	s := newE2EServer(t, "--git", repo.URL(), "--interval", "1h", "--source-name", "apps")

	t.Run("a DaemonSet runs one pod on the node and a commit rolls it", func(t *testing.T) {
		s.waitFor(t, "ds/agent ready on the node", time.Minute, func() bool {
			ds := s.daemonSet("agent")
			return ds != nil && ds.Status.DesiredNumberScheduled == 1 && ds.Status.NumberReady == 1
		})
		repo.Commit(t, map[string]string{"ds.yaml": daemonSetManifest("v2")}, "agent v2")
		repo.Push(t)
		if out, errOut, code := s.berth("sync", "apps"); code != 0 {
			t.Fatalf("berth sync: exit %d, %q %q", code, out, errOut)
		}
		s.waitFor(t, "ds/agent rolled to v2", time.Minute, func() bool {
			ds := s.daemonSet("agent")
			if ds == nil || ds.Status.ObservedGeneration < ds.Generation || ds.Status.UpdatedNumberScheduled != 1 || ds.Status.NumberAvailable != 1 {
				return false
			}
			pods := s.pods("app=agent")
			return len(pods) == 1 && pods[0].DeletionTimestamp == nil && strings.HasSuffix(pods[0].Spec.Containers[0].Image, ":v2") && podReady(pods[0])
		})
		out, errOut, code := s.berth("rollout", "history", "ds/agent")
		if code != 0 || !strings.Contains(out, "1 ") || !strings.Contains(out, "2 ") {
			t.Errorf("rollout history ds/agent: exit %d\n%s%s", code, out, errOut)
		}
		if out, errOut, code := s.berth("rollout", "undo", "ds/agent", "--to-revision", "1"); code != 0 || !strings.Contains(out, "daemonset.apps/agent rolled back") {
			t.Fatalf("rollout undo ds/agent: exit %d, %q %q", code, out, errOut)
		}
		if out, errOut, code := s.berth("rollout", "status", "ds/agent", "--timeout", "1m"); code != 0 || !strings.Contains(out, `daemon set "agent" successfully rolled out`) {
			t.Errorf("rollout status ds/agent: exit %d, %q %q", code, out, errOut)
		}
		s.waitFor(t, "ds/agent back on v1", time.Minute, func() bool {
			pods := s.pods("app=agent")
			return len(pods) == 1 && pods[0].DeletionTimestamp == nil && strings.HasSuffix(pods[0].Spec.Containers[0].Image, ":v1") && podReady(pods[0])
		})
	})

	t.Run("a failing Job backs off and fails", func(t *testing.T) {
		s.waitFor(t, "job/broken failed", 2*time.Minute, func() bool {
			j := s.job("broken")
			return j != nil && hasJobCondition(j, batchv1.JobFailed, "BackoffLimitExceeded")
		})
		failed := 0
		for _, p := range s.pods("job-name=broken") {
			if p.Status.Phase == corev1.PodFailed {
				failed++
			}
		}
		if j := s.job("broken"); j.Status.Failed != 2 || failed != 2 {
			t.Errorf("job/broken: status.failed %d, %d failed pods; want 2 and 2 (backoffLimit 1)", j.Status.Failed, failed)
		}
	})

	t.Run("a CronJob runs its Job to completion and keeps one", func(t *testing.T) {
		s.waitFor(t, "a scheduled Job of cj/tick complete", 100*time.Second, func() bool {
			for _, j := range s.jobs() {
				if strings.HasPrefix(j.Name, "tick-") && hasJobCondition(j, batchv1.JobComplete, "") {
					return true
				}
			}
			return false
		})
		// Two more, now: the history limit keeps only the newest.
		for _, name := range []string{"tick-manual-1", "tick-manual-2"} {
			if out, errOut, code := s.berth("create", "job", name, "--from=cronjob/tick"); code != 0 || !strings.Contains(out, "job.batch/"+name+" created") {
				t.Fatalf("create job %s: exit %d, %q %q", name, code, out, errOut)
			}
			s.waitFor(t, name+" complete", time.Minute, func() bool {
				j := s.job(name)
				return j != nil && hasJobCondition(j, batchv1.JobComplete, "")
			})
		}
		s.waitFor(t, "the history limit to prune older Jobs", time.Minute, func() bool {
			n := 0
			for _, j := range s.jobs() {
				if strings.HasPrefix(j.Name, "tick-") {
					n++
				}
			}
			return n == 1
		})
		cj, err := s.client.Get(s.ctx(), "CronJob", "default", "tick")
		if err != nil || cj.(*batchv1.CronJob).Status.LastSuccessfulTime == nil {
			t.Errorf("cj/tick status: %+v, %v; want lastSuccessfulTime set", cj, err)
		}
	})
}

func (s *e2eServer) daemonSet(name string) *appsv1.DaemonSet {
	obj, err := s.client.Get(s.ctx(), "DaemonSet", "default", name)
	if err != nil {
		return nil
	}
	return obj.(*appsv1.DaemonSet)
}

func (s *e2eServer) job(name string) *batchv1.Job {
	obj, err := s.client.Get(s.ctx(), "Job", "default", name)
	if err != nil {
		return nil
	}
	return obj.(*batchv1.Job)
}

func (s *e2eServer) jobs() []*batchv1.Job {
	objs, _, err := s.client.List(s.ctx(), "Job", "default", "")
	if err != nil {
		s.t.Fatalf("list jobs: %v", err)
	}
	out := make([]*batchv1.Job, len(objs))
	for i, o := range objs {
		out[i] = o.(*batchv1.Job)
	}
	return out
}

// hasJobCondition reports whether j has condition typ True (with reason,
// when not empty).
func hasJobCondition(j *batchv1.Job, typ batchv1.JobConditionType, reason string) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == typ && c.Status == corev1.ConditionTrue && (reason == "" || c.Reason == reason) {
			return true
		}
	}
	return false
}
