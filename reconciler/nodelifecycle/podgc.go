package nodelifecycle

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// podGC deletes pods bound to a Node that no longer exists (upstream's
// pod garbage collector, gcOrphaned): nothing will ever run or stop them.
// Its keys are pod keys, and node keys (nodeKey) that check whether a
// node's quarantine entry can be forgotten.
type podGC struct {
	st    store.Store
	cache *controller.Cache
	clock clock.PassiveClock

	mu sync.Mutex
	// missing is, per node name, when a pod's node was first found
	// missing from the store. An entry goes once the node exists again or
	// no pod is bound to it any more.
	missing map[string]time.Time
}

// quarantine is how long a node must stay missing before its pods are
// deleted (upstream's podgc quarantineTime): a pod may be bound, or an
// agent start its pods, just before its Node is registered.
const quarantine = 40 * time.Second

// Name implements controller.Controller.
func (c *podGC) Name() string { return "pod-gc" }

// nodeKeyPrefix starts the node keys: pod keys are "namespace/name" and
// node names have no '/', so "node:name" is never a pod key.
const nodeKeyPrefix = "node:"

func nodeKey(node string) string { return nodeKeyPrefix + node }

// watches wakes a bound pod when it changes, and a deleted node's pods;
// and, for a node in quarantine, its node key when one of its pods goes
// or the node reappears.
func (c *podGC) watches() []controller.Watch {
	return []controller.Watch{
		{Kind: "Pod", Filter: func(_, new store.Object) bool { return new != nil },
			Keys: func(obj store.Object) []string {
				if obj.(*corev1.Pod).Spec.NodeName == "" {
					return nil
				}
				return []string{controller.KeyOf(obj)}
			}},
		{Kind: "Pod", Filter: func(_, new store.Object) bool { return new == nil },
			Keys: func(obj store.Object) []string { return c.missingKey(obj.(*corev1.Pod).Spec.NodeName) }},
		{Kind: "Node", Filter: func(_, new store.Object) bool { return new == nil },
			Keys: func(obj store.Object) []string { return podsOn(c.cache, obj.(*corev1.Node).Name) }},
		{Kind: "Node", Filter: func(_, new store.Object) bool { return new != nil },
			Keys: func(obj store.Object) []string { return c.missingKey(obj.(*corev1.Node).Name) }},
	}
}

// missingKey returns node's node key if node is in quarantine.
func (c *podGC) missingKey(node string) []string {
	if node == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.missing[node]; !ok {
		return nil
	}
	return []string{nodeKey(node)}
}

// Sync implements controller.Controller. The cache may simply not have
// seen a new Node yet, so the store has the last word before a delete,
// which waits out the quarantine.
func (c *podGC) Sync(ctx context.Context, key string) error {
	if node, ok := strings.CutPrefix(key, nodeKeyPrefix); ok {
		c.syncNode(node)
		return nil
	}
	obj, ok := c.cache.Lister("Pod").Get(splitKey(key))
	if !ok {
		return nil
	}
	pod := obj.(*corev1.Pod)
	if pod.Spec.NodeName == "" {
		return nil
	}
	if _, ok := c.cache.Lister("Node").Get("", pod.Spec.NodeName); ok {
		c.found(pod.Spec.NodeName)
		return nil
	}
	_, err := c.st.Get(ctx, "Node", "", pod.Spec.NodeName)
	switch {
	case err == nil:
		c.found(pod.Spec.NodeName)
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	now := c.clock.Now()
	if due := c.missingSince(pod.Spec.NodeName, now).Add(quarantine); now.Before(due) {
		return controller.Requeue{After: due.Sub(now)}
	}
	zero := int64(0)
	err = c.st.Delete(ctx, "Pod", pod.Namespace, pod.Name, store.DeleteOptions{UID: string(pod.UID), GracePeriodSeconds: &zero})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// missingSince returns when node was first found missing, now if just now.
func (c *podGC) missingSince(node string, now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.missing[node]; ok {
		return t
	}
	c.missing[node] = now
	return now
}

// syncNode forgets node's quarantine entry once the cache has the node
// again or no pod bound to it. A pod the cache has not shown yet only
// makes its own Sync start the quarantine over.
func (c *podGC) syncNode(node string) {
	c.mu.Lock()
	_, ok := c.missing[node]
	c.mu.Unlock()
	if !ok {
		return
	}
	if _, ok := c.cache.Lister("Node").Get("", node); ok || len(podsOn(c.cache, node)) == 0 {
		c.found(node)
	}
}

func (c *podGC) found(node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.missing, node)
}
