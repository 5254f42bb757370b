package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// Read-only views of the simulated cluster for tests. They read the store
// (not the watch cache), so they see every write made so far.

// Deployment returns the stored Deployment namespace/name.
func (c *Cluster) Deployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error) {
	obj, err := c.Store.Get(ctx, "Deployment", namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*appsv1.Deployment), nil
}

// ReplicaSet returns the stored ReplicaSet namespace/name.
func (c *Cluster) ReplicaSet(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
	obj, err := c.Store.Get(ctx, "ReplicaSet", namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*appsv1.ReplicaSet), nil
}

// ReplicaSetsOf returns the ReplicaSets whose controller is the
// Deployment with uid, oldest first (creation time, then name).
func (c *Cluster) ReplicaSetsOf(ctx context.Context, namespace string, uid types.UID) ([]*appsv1.ReplicaSet, error) {
	objs, _, err := c.Store.List(ctx, "ReplicaSet", store.ListOptions{Namespace: namespace})
	if err != nil {
		return nil, err
	}
	var out []*appsv1.ReplicaSet
	for _, o := range objs {
		rs := o.(*appsv1.ReplicaSet)
		if ref := metav1.GetControllerOf(rs); ref != nil && ref.UID == uid {
			out = append(out, rs)
		}
	}
	return rollouts.SortByCreation(out), nil
}

// DeploymentReplicaSets reads the Deployment namespace/name and splits
// the ReplicaSets it controls as its controller does: the new one (nil if
// none matches its template) and all the old ones, oldest first.
func (c *Cluster) DeploymentReplicaSets(ctx context.Context, namespace, name string) (d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet, err error) {
	d, err = c.Deployment(ctx, namespace, name)
	if err != nil {
		return nil, nil, nil, err
	}
	rss, err := c.ReplicaSetsOf(ctx, namespace, d.UID)
	if err != nil {
		return nil, nil, nil, err
	}
	newRS = rollouts.FindNewReplicaSet(d, rss)
	for _, rs := range rss {
		if newRS == nil || rs.UID != newRS.UID {
			old = append(old, rs)
		}
	}
	return d, newRS, old, nil
}

// PodsOf returns the pods whose controller has uid (terminating ones
// included), by name.
func (c *Cluster) PodsOf(ctx context.Context, namespace string, uid types.UID) ([]*corev1.Pod, error) {
	objs, _, err := c.Store.List(ctx, "Pod", store.ListOptions{Namespace: namespace})
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for _, o := range objs {
		p := o.(*corev1.Pod)
		if ref := metav1.GetControllerOf(p); ref != nil && ref.UID == uid {
			out = append(out, p)
		}
	}
	return out, nil
}

// Pods returns every pod in namespace, by name.
func (c *Cluster) Pods(ctx context.Context, namespace string) ([]*corev1.Pod, error) {
	objs, _, err := c.Store.List(ctx, "Pod", store.ListOptions{Namespace: namespace})
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*corev1.Pod))
	}
	return out, nil
}

// EventsFor returns the events recorded about the object with uid, in the
// order they were first recorded.
func (c *Cluster) EventsFor(ctx context.Context, namespace string, uid types.UID) ([]*corev1.Event, error) {
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	objs, _, err := c.Store.List(ctx, "Event", store.ListOptions{Namespace: namespace})
	if err != nil {
		return nil, err
	}
	var out []*corev1.Event
	for _, o := range objs {
		ev := o.(*corev1.Event)
		if ev.InvolvedObject.UID == uid {
			out = append(out, ev)
		}
	}
	slices.SortStableFunc(out, func(a, b *corev1.Event) int {
		if c := a.FirstTimestamp.Compare(b.FirstTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// EventMessages returns "Type Reason Message" for each event about uid
// (see EventsFor) whose reason is one of reasons (all when none given).
func (c *Cluster) EventMessages(ctx context.Context, namespace string, uid types.UID, reasons ...string) ([]string, error) {
	evs, err := c.EventsFor(ctx, namespace, uid)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ev := range evs {
		if len(reasons) == 0 || slices.Contains(reasons, ev.Reason) {
			out = append(out, ev.Type+" "+ev.Reason+" "+ev.Message)
		}
	}
	return out, nil
}

// UpdateDeployment applies mutate to the stored Deployment and writes it,
// retrying on conflicts with the controllers (as upstream's e2e
// UpdateDeploymentWithRetries does). It returns the written Deployment.
func (c *Cluster) UpdateDeployment(ctx context.Context, namespace, name string, mutate func(*appsv1.Deployment)) (*appsv1.Deployment, error) {
	for range 10 {
		d, err := c.Deployment(ctx, namespace, name)
		if err != nil {
			return nil, err
		}
		mutate(d)
		obj, err := c.Store.Update(ctx, d)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return obj.(*appsv1.Deployment), nil
	}
	return nil, fmt.Errorf("sim: Deployment %s/%s: too many conflicts", namespace, name)
}

// ScaleDeployment sets the Deployment's spec.replicas (the scale
// subresource).
func (c *Cluster) ScaleDeployment(ctx context.Context, namespace, name string, replicas int32) (*appsv1.Deployment, error) {
	return c.UpdateDeployment(ctx, namespace, name, func(d *appsv1.Deployment) {
		d.Spec.Replicas = &replicas
	})
}

// RunFor steps the cluster for exactly d of simulated time, calling check
// after every step (nil: none), and leaves the clock at start + d, whether
// or not the cluster went idle on the way. Use it where the cluster never
// idles (crash-looping pods) or to look at a state at a given time.
func (c *Cluster) RunFor(ctx context.Context, d time.Duration, check func()) error {
	deadline := c.Clock.Now().Add(d)
	for {
		progressed := c.Manager.Step(ctx)
		if check != nil {
			check()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if progressed {
			continue
		}
		next, ok := c.Manager.NextDue()
		if !ok || next.After(deadline) {
			if deadline.After(c.Clock.Now()) {
				c.Clock.SetTime(deadline)
				continue // whatever is due exactly at the deadline
			}
			return nil
		}
		if next.After(c.Clock.Now()) {
			c.Clock.SetTime(next)
		}
	}
}

// RunUntil steps the cluster (calling check after every step; nil: none)
// until done reports true, which it asks after every step. It fails if
// done is still false after max of simulated time, or when the cluster
// is idle and done is false.
func (c *Cluster) RunUntil(ctx context.Context, max time.Duration, check func(), done func() (bool, error)) error {
	deadline := c.Clock.Now().Add(max)
	for {
		progressed := c.Manager.Step(ctx)
		if check != nil {
			check()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if progressed {
			continue
		}
		next, due := c.Manager.NextDue()
		if !due {
			return fmt.Errorf("sim: idle at %s and the condition still does not hold", c.Clock.Now().Sub(Epoch))
		}
		if next.After(deadline) {
			return fmt.Errorf("sim: the condition still does not hold after %s of simulated time", max)
		}
		if next.After(c.Clock.Now()) {
			c.Clock.SetTime(next)
		}
	}
}

// State is the Deployments, ReplicaSets and Pods of the store at one
// point of a Recording.
type State struct {
	Deployments map[string]*appsv1.Deployment // by namespace/name
	ReplicaSets map[types.UID]*appsv1.ReplicaSet
	Pods        map[types.UID]*corev1.Pod
}

func newState() *State {
	return &State{
		Deployments: map[string]*appsv1.Deployment{},
		ReplicaSets: map[types.UID]*appsv1.ReplicaSet{},
		Pods:        map[types.UID]*corev1.Pod{},
	}
}

// apply moves the state past one store event.
func (s *State) apply(ev store.Event) {
	deleted := ev.Type == store.Deleted
	switch o := ev.Object.(type) {
	case *appsv1.Deployment:
		key := o.Namespace + "/" + o.Name
		if deleted {
			delete(s.Deployments, key)
		} else {
			s.Deployments[key] = o
		}
	case *appsv1.ReplicaSet:
		if deleted {
			delete(s.ReplicaSets, o.UID)
		} else {
			s.ReplicaSets[o.UID] = o
		}
	case *corev1.Pod:
		if deleted {
			delete(s.Pods, o.UID)
		} else {
			s.Pods[o.UID] = o
		}
	}
}

// Change is one store event of a Recording and the simulated time it was
// seen at (a Step does not move the clock, so this is when it was made).
type Change struct {
	store.Event
	At time.Time
}

// Recording follows every change the store makes from its creation on,
// in order: it keeps them in Changes and replays them into State, calling
// OnChange (when set) with each change and the state right after it. Call
// Check after every step (pass it as RunChecked's check).
type Recording struct {
	clock   interface{ Now() time.Time }
	events  <-chan store.Event
	State   *State
	Changes []Change
	// OnChange, when set, sees every change with the state after it.
	OnChange func(Change, *State)
	// Err is set when the watch was lost (Check was not called often
	// enough): the recording is then incomplete.
	Err error
}

// Record starts a Recording of the cluster's store: the Deployments,
// ReplicaSets and Pods it holds now make the initial State.
func (c *Cluster) Record(ctx context.Context) (*Recording, error) {
	r := &Recording{clock: c.Clock, State: newState()}
	var rv int64
	for _, kind := range []string{"Deployment", "ReplicaSet", "Pod"} {
		objs, listRV, err := c.Store.List(ctx, kind, store.ListOptions{})
		if err != nil {
			return nil, err
		}
		if kind == "Deployment" {
			rv = listRV
		} else if listRV != rv {
			// The store changed between the lists; only a concurrent writer
			// can do that, and the simulator has none while not stepping.
			return nil, fmt.Errorf("sim: the store changed while recording started")
		}
		for _, o := range objs {
			r.State.apply(store.Event{Type: store.Added, Object: o})
		}
	}
	events, err := c.Store.Watch(ctx, "", rv)
	if err != nil {
		return nil, err
	}
	r.events = events
	return r, nil
}

// Check takes in the changes made since the last call.
func (r *Recording) Check() {
	now := r.clock.Now()
	for {
		select {
		case ev, ok := <-r.events:
			if !ok {
				if r.Err == nil {
					r.Err = errors.New("sim: recording watch closed (fell behind)")
				}
				return
			}
			ch := Change{Event: ev, At: now}
			r.Changes = append(r.Changes, ch)
			r.State.apply(ev)
			if r.OnChange != nil {
				r.OnChange(ch, r.State)
			}
		default:
			return
		}
	}
}
