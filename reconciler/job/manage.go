package job

import (
	"context"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/rollouts"
)

// manageJob is upstream's: it deletes every active pod of a suspended Job;
// otherwise it aims at wantActive active pods, the parallelism, but never
// more than the completions still missing (completions < parallelism is
// valid and simply runs fewer pods). Too many active pods (or, Indexed, a
// pod without a valid index or a second pod for an index) are deleted, and
// nothing is created in the same sync; too few are created after the pod
// failure backoff, lowest pending indexes first. It returns the number of
// active pods after its writes.
func (c *Controller) manageJob(ctx context.Context, sc *syncCtx) (int32, error) {
	job := sc.job
	active := int32(len(sc.active))
	if isSuspended(job) {
		removed, err := c.deletePods(ctx, sc, rollouts.PodsToDelete(sc.active, nil, len(sc.active), sc.now))
		return active - removed, err
	}

	var wantActive int32
	if want := completions(job); want == nil {
		// Until one pod succeeds, parallelism pods; after, whatever still runs.
		wantActive = parallelism(job)
		if sc.succeeded > 0 {
			wantActive = active
		}
	} else {
		wantActive = min(max(*want-sc.succeeded, 0), parallelism(job))
	}

	victims := c.podsForRemoval(sc, int(max(active-wantActive, 0)))
	if len(victims) > MaxPodCreateDeletePerSync {
		victims = victims[:MaxPodCreateDeletePerSync]
	}
	if len(victims) > 0 {
		removed, err := c.deletePods(ctx, sc, victims)
		return active - removed, err
	}

	var terminating int32
	if onlyReplaceFailedPods(job) {
		terminating = sc.terminating
	}
	diff := wantActive - terminating - active
	if diff <= 0 {
		return active, nil
	}
	if wait := sc.backoff.remaining(sc.now); wait > 0 {
		c.enqueueAfter(sc.key, wait)
		return active, nil
	}
	diff = min(diff, MaxPodCreateDeletePerSync)
	indexes := make([]int, diff)
	for i := range indexes {
		indexes[i] = noIndex
	}
	if isIndexed(job) {
		var held []*corev1.Pod
		if onlyReplaceFailedPods(job) {
			for _, p := range sc.pods {
				if isTerminating(p) {
					held = append(held, p)
				}
			}
		}
		indexes = firstPendingIndexes(int(diff), int(*completions(job)), sc.succeededIndexes, sc.active, held)
	}
	created, err := c.createPods(ctx, sc.key, job, indexes)
	return active + int32(created), err
}

// podsForRemoval returns at least n of the active pods to delete, the
// least far along first; for an Indexed Job also every pod without a valid
// index and all but one of the pods sharing an index (upstream's
// activePodsForRemoval).
func (c *Controller) podsForRemoval(sc *syncCtx, n int) []*corev1.Pod {
	pick := func(pods []*corev1.Pod, k int) []*corev1.Pod { return rollouts.PodsToDelete(pods, nil, k, sc.now) }
	var rm []*corev1.Pod
	left := sc.active
	if isIndexed(sc.job) {
		rm, left = duplicateIndexPods(sc.active, *completions(sc.job), pick)
	}
	if len(rm) < n {
		rm = append(rm, pick(left, n-len(rm))...)
	}
	return rm
}

// createPods creates one pod per entry of indexes (noIndex for a
// NonIndexed Job) in slow-start batches, with expectations set first so
// the syncs the creations trigger wait for all of them. It returns how
// many it created.
func (c *Controller) createPods(ctx context.Context, key string, job *batchv1.Job, indexes []int) (int, error) {
	n := len(indexes)
	if n == 0 {
		return 0, nil
	}
	c.exp.ExpectCreations(key, n)
	next := 0
	created, err := slowStartBatch(n, slowStartInitialBatchSize, func() error {
		ix := indexes[next]
		next++
		return c.createPod(ctx, job, ix)
	})
	// Pods never created will not show up in the cache.
	for i := created; i < n; i++ {
		c.exp.CreationObserved(key)
	}
	return created, err
}

// createPod creates the pod of job for index ix and records upstream's
// events.
func (c *Controller) createPod(ctx context.Context, job *batchv1.Job, ix int) error {
	obj, err := c.store.Create(ctx, podFromTemplate(job, ix))
	if err != nil {
		c.recorder.Eventf(job, corev1.EventTypeWarning, FailedCreateReason, "Error creating: %v", err)
		return err
	}
	c.recorder.Eventf(job, corev1.EventTypeNormal, SuccessfulCreateReason, "Created pod: %v", obj.(*corev1.Pod).Name)
	return nil
}

// deletePods deletes pods the Job no longer wants (suspension, too many
// running), in one transaction that also removes their tracking finalizer:
// like upstream, a pod deleted this way is not counted as failed. It
// returns how many it deleted; the ready ones among them leave
// status.ready and all join status.terminating.
func (c *Controller) deletePods(ctx context.Context, sc *syncCtx, pods []*corev1.Pod) (int32, error) {
	if len(pods) == 0 {
		return 0, nil
	}
	podKeys := make([]string, len(pods))
	writes := make([]podWrite, len(pods))
	for i, p := range pods {
		podKeys[i] = p.Namespace + "/" + p.Name
		writes[i] = podWrite{pod: p, untrack: isTracked(p), remove: true}
	}
	c.exp.ExpectDeletions(sc.key, podKeys)
	deleted, err := c.commit(ctx, writes, nil)
	if err != nil {
		for _, k := range podKeys {
			c.exp.DeletionObserved(sc.key, k)
		}
		c.recorder.Eventf(sc.job, corev1.EventTypeWarning, FailedDeleteReason, "Error deleting: %v", err)
		return 0, err
	}
	for _, p := range pods {
		if !deleted[p.UID] {
			// Gone already: no event will come for it.
			c.exp.DeletionObserved(sc.key, p.Namespace+"/"+p.Name)
			continue
		}
		c.recorder.Eventf(sc.job, corev1.EventTypeNormal, SuccessfulDeleteReason, "Deleted pod: %v", p.Name)
		if rollouts.IsPodReady(p) {
			sc.ready--
		}
		sc.terminating++
	}
	return int32(len(deleted)), nil
}

// slowStartBatch calls fn count times in batches of 1, 2, 4, ... and stops
// after the first batch with a failure (upstream's slow start): it
// returns how many calls succeeded and the first error.
func slowStartBatch(count, initialBatchSize int, fn func() error) (int, error) {
	remaining, successes := count, 0
	for batch := min(remaining, initialBatchSize); batch > 0; batch = min(2*batch, remaining) {
		var errs []error
		for range batch {
			if err := fn(); err != nil {
				errs = append(errs, err)
				continue
			}
			successes++
		}
		if len(errs) > 0 {
			return successes, errs[0]
		}
		remaining -= batch
	}
	return successes, nil
}
