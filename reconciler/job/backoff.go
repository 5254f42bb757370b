package job

import (
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Pod failure backoff: after a pod of a Job fails, the next pod is created
// no sooner than DefaultPodFailureBackoff after the failure, doubling with
// each further consecutive failure, at most MaxPodFailureBackoff
// (upstream's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff:
// ten minutes since Kubernetes 1.28, whose Job semantics berth follows).
const (
	DefaultPodFailureBackoff = 10 * time.Second
	MaxPodFailureBackoff     = 10 * time.Minute
)

// backoffRecord is upstream's: the failures since the Job's last pod
// success and when the latest of them finished.
type backoffRecord struct {
	failuresAfterLastSuccess int32
	lastFailureTime          *time.Time
}

// backoffStore keeps each Job's record in memory, as upstream does: a
// restarted controller starts every Job without backoff.
type backoffStore struct {
	mu      sync.Mutex
	records map[string]backoffRecord
}

func newBackoffStore() *backoffStore {
	return &backoffStore{records: map[string]backoffRecord{}}
}

// get returns key's record (zero when none).
func (s *backoffStore) get(key string) backoffRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records[key]
}

// set replaces key's record.
func (s *backoffStore) set(key string, r backoffRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[key] = r
}

// remove drops key's record (the Job finished or is gone).
func (s *backoffStore) remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, key)
}

// next is upstream's newBackoffRecord: old moved past the pods that
// finished since it was taken. A success resets the count, keeping only
// the failures that finished after the latest success.
func (old backoffRecord) next(newSucceeded, newFailed []time.Time) backoffRecord {
	succeeded := slices.Clone(newSucceeded)
	failed := slices.Clone(newFailed)
	slices.SortFunc(succeeded, time.Time.Compare)
	slices.SortFunc(failed, time.Time.Compare)
	switch {
	case len(succeeded) == 0 && len(failed) == 0:
		return old
	case len(succeeded) == 0:
		last := failed[len(failed)-1]
		return backoffRecord{failuresAfterLastSuccess: old.failuresAfterLastSuccess + int32(len(failed)), lastFailureTime: &last}
	}
	r := backoffRecord{}
	lastSuccess := succeeded[len(succeeded)-1]
	for i := len(failed) - 1; i >= 0 && failed[i].After(lastSuccess); i-- {
		if r.lastFailureTime == nil {
			t := failed[i]
			r.lastFailureTime = &t
		}
		r.failuresAfterLastSuccess++
	}
	return r
}

// remaining is how long pod creation must still wait at now (upstream's
// getRemainingTimeForFailuresCount).
func (r backoffRecord) remaining(now time.Time) time.Duration {
	return remainingBackoff(r.failuresAfterLastSuccess, r.lastFailureTime, now)
}

// remainingBackoff: the n-th consecutive failure delays the next pod by
// DefaultPodFailureBackoff·2^(n-1), at most MaxPodFailureBackoff, counted
// from the failure.
func remainingBackoff(failures int32, lastFailure *time.Time, now time.Time) time.Duration {
	if failures == 0 || lastFailure == nil {
		return 0
	}
	d := DefaultPodFailureBackoff
	for i := int32(1); i < failures; i++ {
		d *= 2
		if d >= MaxPodFailureBackoff {
			d = MaxPodFailureBackoff
			break
		}
	}
	elapsed := now.Sub(*lastFailure)
	if d < elapsed {
		return 0
	}
	return d - elapsed
}

// finishedTime is when pod finished (upstream's getFinishedTime): the
// latest container exit when every container has exited, else when it
// stopped being Ready, else when its deletion began, else its creation.
func finishedTime(p *corev1.Pod) time.Time {
	if t := containersFinishedAt(p); t != nil {
		return *t
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionFalse && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	if p.DeletionTimestamp != nil {
		grace := int64(0)
		if p.DeletionGracePeriodSeconds != nil {
			grace = *p.DeletionGracePeriodSeconds
		}
		return p.DeletionTimestamp.Add(-time.Duration(grace) * time.Second)
	}
	return p.CreationTimestamp.Time
}

// containersFinishedAt is the latest finishedAt of the pod's containers
// (sidecars included), or nil while one has not exited.
func containersFinishedAt(p *corev1.Pod) *time.Time {
	sidecars := map[string]bool{}
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
		}
	}
	statuses := slices.Clone(p.Status.ContainerStatuses)
	for _, s := range p.Status.InitContainerStatuses {
		if sidecars[s.Name] {
			statuses = append(statuses, s)
		}
	}
	var latest *time.Time
	for _, s := range statuses {
		t := s.State.Terminated
		if t == nil || t.FinishedAt.IsZero() {
			return nil
		}
		if latest == nil || latest.Before(t.FinishedAt.Time) {
			at := t.FinishedAt.Time
			latest = &at
		}
	}
	return latest
}
