// Package daemonset is berth's DaemonSet controller, a port of Kubernetes'
// pkg/controller/daemon: one pod on every node the DaemonSet's placement
// rules admit (node affinity and selector, taints against its tolerations
// and the ones every daemon pod gets), created with a node-name affinity
// that the scheduler honours; pods on nodes that leave or stop admitting it
// deleted; failed pods replaced with backoff; RollingUpdate (maxUnavailable
// or maxSurge, minReadySeconds) and OnDelete updates; a ControllerRevision
// per distinct template for `rollout history` and `rollout undo`; and the
// status counts upstream keeps.
//
// Reads come from the watch cache; every write goes to the store.
// Expectations keep a cache that lags the controller's own writes from
// causing duplicate pods or a rolling update from taking down too many.
// The arithmetic (fenceposts, the rolling step, history) lives in package
// rollouts; the placement rules are the scheduler's (scheduler.PlacePod).
package daemonset

import (
	"context"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// Name is the controller's name (and its queue's).
const Name = "daemonset"

// BurstReplicas caps the pods one sync creates or deletes (upstream's
// default --concurrent-daemonset-syncs burst, 250).
const BurstReplicas = 250

// SelectingAllMessage goes with SelectingAllReason (upstream's words).
const SelectingAllMessage = "This daemon set is selecting all pods. A non-empty selector is required."

// Controller is the DaemonSet controller. Build it with New; it is safe
// for concurrent Syncs of different keys.
type Controller struct {
	store     store.Store
	dsets     controller.Lister
	pods      controller.Lister
	nodes     controller.Lister
	revisions controller.Lister
	recorder  controller.Recorder
	clock     clock.PassiveClock
	burst     int

	exp       *controller.Expectations
	backoff   *failedPodsBackoff
	writes    *controller.WriteTracker
	cacheWait func(ctx context.Context, rv int64) error // set by AddHandlers
}

// New returns a DaemonSet controller that writes to st, reads DaemonSets,
// Pods, Nodes and ControllerRevisions from the watch cache's listers,
// records events with rec and reads time from clk. Register connects it
// to a Manager; a test can call Sync directly.
func New(st store.Store, daemonSets, pods, nodes, revisions controller.Lister, rec controller.Recorder, clk clock.PassiveClock) *Controller {
	writes := controller.NewWriteTracker(st)
	return &Controller{
		store:     writes,
		dsets:     daemonSets,
		pods:      pods,
		nodes:     nodes,
		revisions: revisions,
		recorder:  rec,
		clock:     clk,
		burst:     BurstReplicas,
		exp:       controller.NewExpectations(clk),
		backoff:   newFailedPodsBackoff(),
		writes:    writes,
	}
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Sync implements controller.Controller: upstream's syncDaemonSet. An
// empty selector only gets a SelectingAll event; a DaemonSet being
// deleted is left to the garbage collector. Otherwise it brings the
// history up to date, then (once its earlier creates and deletes are seen)
// manages the nodes, takes a step of the update and prunes the history,
// and always writes the status. It returns a controller.Requeue while a
// failed pod backs off or a pod waits out minReadySeconds.
func (c *Controller) Sync(ctx context.Context, key string) error {
	if err := c.writes.AwaitCache(ctx, c.cacheWait); err != nil {
		return err
	}
	namespace, name := splitKey(key)
	obj, ok := c.dsets.Get(namespace, name)
	if !ok {
		c.exp.Forget(key)
		return nil
	}
	ds := obj.(*appsv1.DaemonSet).DeepCopy()
	if reflect.DeepEqual(ds.Spec.Selector, &metav1.LabelSelector{}) {
		c.recorder.Eventf(ds, corev1.EventTypeWarning, SelectingAllReason, SelectingAllMessage)
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || ds.DeletionTimestamp != nil {
		// An invalid selector matches nothing; validation keeps it out.
		return nil
	}

	cl := &claimer{st: c.store, ds: ds, sel: sel}
	revs, err := c.claimRevisions(ctx, cl)
	if err != nil {
		return err
	}
	cur, old, err := c.constructHistory(ctx, ds, revs)
	if err != nil {
		return err
	}
	pods, err := c.claimPods(ctx, cl)
	if err != nil {
		return err
	}
	s := c.newSyncState(key, ds, cur, pods)

	if !c.exp.Satisfied(key) {
		// Only the status; observedGeneration waits for a sync that acts.
		return c.updateStatus(ctx, s, calculateStatus(s), false)
	}
	err = c.updateDaemonSet(ctx, s, old)
	if statusErr := c.updateStatus(ctx, s, calculateStatus(s), true); err == nil {
		err = statusErr
	}
	if err != nil {
		return err
	}
	if ds.Spec.MinReadySeconds > 0 {
		s.requeueAfter(nextAvailability(s.pods, ds.Spec.MinReadySeconds, s.now))
	}
	if s.requeue > 0 {
		return controller.Requeue{After: s.requeue}
	}
	return nil
}

// updateDaemonSet is upstream's: manage the nodes; when that wrote
// nothing, a step of the RollingUpdate (OnDelete waits for the user to
// delete pods); then prune the history.
func (c *Controller) updateDaemonSet(ctx context.Context, s *syncState, old []*appsv1.ControllerRevision) error {
	if err := c.manage(ctx, s); err != nil {
		return err
	}
	if c.exp.Satisfied(s.key) && rollouts.IsDaemonSetRollingUpdate(s.ds) {
		if err := c.rollingUpdate(ctx, s); err != nil {
			return err
		}
	}
	return c.cleanupHistory(ctx, s.ds, s.pods, old)
}

// newSyncState gathers the nodes and where the DaemonSet's pod may run.
// The template generation is the current revision's number: upstream's
// API server bumps deprecated.daemonset.template.generation on every
// template change; berth has no such server-side hook, and the revision
// number moves exactly then too (a template coming back gets the next
// number), the same after a restart.
func (c *Controller) newSyncState(key string, ds *appsv1.DaemonSet, cur *appsv1.ControllerRevision, pods []*corev1.Pod) *syncState {
	generation := cur.Revision
	s := &syncState{
		ds:         ds,
		key:        key,
		hash:       cur.Labels[hashLabel],
		generation: &generation,
		pods:       pods,
		now:        c.clock.Now(),
		placement:  map[string]nodePlacement{},
	}
	probe := placementPod(ds)
	for _, obj := range c.nodes.List("", nil) {
		node := obj.(*corev1.Node)
		s.nodes = append(s.nodes, node)
		run, stay, reason := nodeShouldRun(probe, node)
		s.placement[node.Name] = nodePlacement{shouldRun: run, shouldContinueRunning: stay, reason: reason}
	}
	return s
}

// splitKey splits a queue key "namespace/name" (or "name").
func splitKey(key string) (namespace, name string) {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

var _ controller.Controller = (*Controller)(nil)
