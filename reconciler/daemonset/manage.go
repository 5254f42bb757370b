package daemonset

import (
	"context"
	"errors"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// syncState carries what one sync learns along the way.
type syncState struct {
	ds         *appsv1.DaemonSet
	key        string
	hash       string
	generation *int64
	nodes      []*corev1.Node
	// placement of the DaemonSet's pod on each node, by node name.
	placement map[string]nodePlacement
	pods      []*corev1.Pod
	now       time.Time
	// requeue, when positive, is when the DaemonSet wants another look
	// (a failed pod's backoff ends, a pod becomes available).
	requeue time.Duration
}

// nodePlacement is upstream's (shouldRun, shouldContinueRunning) and why
// not shouldRun.
type nodePlacement struct {
	shouldRun, shouldContinueRunning bool
	reason                           string
}

// requeueAfter asks for another sync after d, keeping the earliest.
func (s *syncState) requeueAfter(d time.Duration) {
	if d > 0 && (s.requeue == 0 || d < s.requeue) {
		s.requeue = d
	}
}

// manage makes every node run what it should (upstream's manage): a pod
// where one should run and none does; no pod where none may stay; failed
// and succeeded pods replaced (failed ones with backoff); one pod per node
// (two during a surge: one old, one new). Pods for nodes that are gone
// are deleted: unscheduled ones as upstream does, and, since berth has no
// pod garbage collector for lost nodes, bound ones too.
func (c *Controller) manage(ctx context.Context, s *syncState) error {
	byNode := podsByNode(s.pods, false)
	var create []string
	var remove []*corev1.Pod
	for _, node := range s.nodes {
		cr, del := c.podsShouldBeOnNode(s, node.Name, byNode[node.Name])
		if cr {
			create = append(create, node.Name)
		}
		remove = append(remove, del...)
	}
	gone := make([]string, 0)
	for name := range byNode {
		if _, ok := s.placement[name]; !ok {
			gone = append(gone, name)
		}
	}
	slices.Sort(gone)
	for _, name := range gone {
		for _, p := range byNode[name] {
			if p.DeletionTimestamp == nil {
				remove = append(remove, p)
			}
		}
	}
	return c.syncNodes(ctx, s, remove, create)
}

// podsShouldBeOnNode is upstream's: whether node needs a new pod, and
// which of its pods to delete.
func (c *Controller) podsShouldBeOnNode(s *syncState, node string, pods []*corev1.Pod) (create bool, remove []*corev1.Pod) {
	pl := s.placement[node]
	switch {
	case pl.shouldRun && len(pods) == 0:
		return true, nil
	case pl.shouldContinueRunning:
		var running []*corev1.Pod
		for _, p := range pods {
			if p.DeletionTimestamp != nil {
				continue
			}
			switch p.Status.Phase {
			case corev1.PodFailed:
				// Avoid a hot loop with a node that keeps failing its pods.
				key := backoffKey(s.ds, node)
				if wait := c.backoff.wait(key, s.now); wait > 0 {
					s.requeueAfter(wait)
					continue
				}
				c.backoff.next(key, s.now)
				c.recorder.Eventf(s.ds, corev1.EventTypeWarning, FailedDaemonPodReason,
					"Found failed daemon pod %s/%s on node %s, will try to kill it", p.Namespace, p.Name, node)
				remove = append(remove, p)
			case corev1.PodSucceeded:
				c.recorder.Eventf(s.ds, corev1.EventTypeNormal, SucceededDaemonPodReason,
					"Found succeeded daemon pod %s/%s on node %s, will try to delete it", p.Namespace, p.Name, node)
				remove = append(remove, p)
			default:
				running = append(running, p)
			}
		}
		if len(running) == 0 && rollouts.DaemonSetAllowsSurge(s.ds) {
			// Surging, a node must keep a pod that is not going away: its
			// replacement starts now, not once the old one is gone.
			return pl.shouldRun, remove
		}
		if len(running) <= 1 {
			return false, remove
		}
		sortOldestFirst(running)
		if !rollouts.DaemonSetAllowsSurge(s.ds) {
			// Only the oldest pod stays.
			return false, append(remove, running[1:]...)
		}
		// A surge keeps the oldest pod of each revision, and the old one
		// only until the new one is available (or while the old is up).
		var oldestNew, oldestOld *corev1.Pod
		for _, p := range running {
			if rollouts.IsDaemonPodUpdated(p, s.hash, s.generation) {
				if oldestNew == nil {
					oldestNew = p
					continue
				}
			} else if oldestOld == nil {
				oldestOld = p
				continue
			}
			remove = append(remove, p)
		}
		if oldestNew != nil && oldestOld != nil {
			if !rollouts.IsPodReady(oldestOld) || rollouts.IsPodAvailable(oldestNew, s.ds.Spec.MinReadySeconds, s.now) {
				remove = append(remove, oldestOld)
			}
		}
		return false, remove
	case len(pods) > 0:
		// Not even allowed to continue running: all of its pods go.
		for _, p := range pods {
			if p.DeletionTimestamp == nil {
				remove = append(remove, p)
			}
		}
	}
	return false, remove
}

// syncNodes deletes pods and creates a pod on each of nodes, at most
// burst of each per sync, creations in slow-start batches (1, 2, 4...),
// after setting the expectations its own writes will meet (upstream's
// syncNodes).
func (c *Controller) syncNodes(ctx context.Context, s *syncState, remove []*corev1.Pod, nodes []string) error {
	nodes = nodes[:min(len(nodes), c.burst)]
	remove = remove[:min(len(remove), c.burst)]
	podKeys := make([]string, len(remove))
	for i, p := range remove {
		podKeys[i] = p.Namespace + "/" + p.Name
	}
	c.exp.Expect(s.key, len(nodes), podKeys)

	var errs []error
	if len(nodes) > 0 {
		template := podTemplate(s.ds, s.generation, s.hash)
		next := 0
		created, err := slowStartBatch(len(nodes), func() error {
			node := nodes[next]
			next++
			return c.createPod(ctx, s.ds, template, node)
		})
		for i := created; i < len(nodes); i++ {
			c.exp.CreationObserved(s.key) // never attempted, or failed
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	for i, p := range remove {
		if err := c.deletePod(ctx, s.ds, p); err != nil {
			c.exp.DeletionObserved(s.key, podKeys[i])
			if !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// slowStartBatch calls fn count times in batches of 1, 2, 4, ... and
// stops after the first batch with a failure, returning how many calls
// succeeded (upstream's slowStartBatch, calls one after another so that
// the order of created pods stays deterministic).
func slowStartBatch(count int, fn func() error) (int, error) {
	remaining, successes := count, 0
	for batch := min(remaining, 1); batch > 0; batch = min(2*batch, remaining) {
		var firstErr error
		for range batch {
			if err := fn(); err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			successes++
		}
		if firstErr != nil {
			return successes, firstErr
		}
		remaining -= batch
	}
	return successes, nil
}
