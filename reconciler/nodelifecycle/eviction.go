package nodelifecycle

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// evictionController deletes pods bound to nodes with NoExecute taints
// they do not tolerate, at once, or after the smallest tolerationSeconds
// of the tolerations that match (upstream's taint eviction controller,
// formerly the NoExecuteTaintManager). Its keys are pod keys.
type evictionController struct {
	st    store.Store
	cache *controller.Cache
	rec   controller.Recorder
	clock clock.PassiveClock

	mu sync.Mutex
	// pending is, per pod key, when its eviction was first scheduled: as
	// upstream's, a later change of taints does not restart the count.
	pending map[string]pendingEviction
}

type pendingEviction struct {
	uid   types.UID
	since time.Time
}

func newEvictionController(st store.Store, cache *controller.Cache, rec controller.Recorder, clk clock.PassiveClock) *evictionController {
	return &evictionController{st: st, cache: cache, rec: rec, clock: clk, pending: map[string]pendingEviction{}}
}

// Name implements controller.Controller.
func (c *evictionController) Name() string { return "taint-eviction" }

// watches wakes a pod when it is bound, and every pod of a node whose
// NoExecute taints change.
func (c *evictionController) watches() []controller.Watch {
	return []controller.Watch{
		{Kind: "Pod", Keys: func(obj store.Object) []string {
			if obj.(*corev1.Pod).Spec.NodeName == "" {
				return nil
			}
			return []string{controller.KeyOf(obj)}
		}},
		{Kind: "Node", Filter: noExecuteChanged, Keys: func(obj store.Object) []string {
			return podsOn(c.cache, obj.(*corev1.Node).Name)
		}},
	}
}

// noExecuteChanged reports whether a node change concerns evictions.
func noExecuteChanged(old, new store.Object) bool {
	var a, b []corev1.Taint
	if old != nil {
		a = noExecute(old.(*corev1.Node).Spec.Taints)
	}
	if new != nil {
		b = noExecute(new.(*corev1.Node).Spec.Taints)
	}
	return !slices.EqualFunc(a, b, func(x, y corev1.Taint) bool { return x.MatchTaint(&y) && x.Value == y.Value })
}

func noExecute(taints []corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}

// podsOn returns the keys of the pods the cache has bound to node.
func podsOn(cache *controller.Cache, node string) []string {
	var keys []string
	for _, o := range cache.Lister("Pod").List("", nil) {
		if o.(*corev1.Pod).Spec.NodeName == node {
			keys = append(keys, controller.KeyOf(o))
		}
	}
	return keys
}

// Sync implements controller.Controller.
func (c *evictionController) Sync(ctx context.Context, key string) error {
	obj, ok := c.cache.Lister("Pod").Get(splitKey(key))
	if !ok {
		c.cancel(key, nil)
		return nil
	}
	pod := obj.(*corev1.Pod)
	if pod.Spec.NodeName == "" || pod.DeletionTimestamp != nil {
		c.cancel(key, nil)
		return nil
	}
	nobj, ok := c.cache.Lister("Node").Get("", pod.Spec.NodeName)
	if !ok {
		c.cancel(key, pod)
		return nil // pod-gc's business
	}
	taints := noExecute(nobj.(*corev1.Node).Spec.Taints)
	delay, evict := evictionDelay(taints, pod.Spec.Tolerations)
	if !evict {
		c.cancel(key, pod)
		return nil
	}
	now := c.clock.Now()
	if due := c.since(key, pod.UID, taints, now).Add(delay); now.Before(due) {
		return controller.Requeue{After: due.Sub(now)}
	}
	c.rec.Eventf(pod, corev1.EventTypeNormal, "TaintManagerEviction", "Marking for deletion Pod %s", key)
	err := c.st.Delete(ctx, "Pod", pod.Namespace, pod.Name, store.DeleteOptions{UID: string(pod.UID)})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	c.forget(key)
	return nil
}

// since returns when the pod's eviction was first scheduled, scheduling
// it now if it was not. After a restart of the controller, the taints'
// timeAdded (set by the lifecycle controller and the API) bring back the
// earlier start: the latest of them, when every taint has one.
func (c *evictionController) since(key string, uid types.UID, taints []corev1.Taint, now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pending[key]; ok && p.uid == uid {
		return p.since
	}
	since := now
	var latest time.Time
	all := true
	for _, t := range taints {
		if t.TimeAdded == nil || t.TimeAdded.Time.After(now) {
			all = false
			break
		}
		if t.TimeAdded.Time.After(latest) {
			latest = t.TimeAdded.Time
		}
	}
	if all && len(taints) > 0 {
		since = latest
	}
	c.pending[key] = pendingEviction{uid: uid, since: since}
	return since
}

// cancel forgets a scheduled eviction; for a pod still there, it says so
// with upstream's event.
func (c *evictionController) cancel(key string, pod *corev1.Pod) {
	c.mu.Lock()
	p, ok := c.pending[key]
	delete(c.pending, key)
	c.mu.Unlock()
	if ok && pod != nil && p.uid == pod.UID {
		c.rec.Eventf(pod, corev1.EventTypeNormal, "TaintManagerEviction", "Cancelling deletion of Pod %s", key)
	}
}

func (c *evictionController) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, key)
}

// splitKey splits "namespace/name".
func splitKey(key string) (namespace, name string) {
	for i := range len(key) {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return "", key
}
