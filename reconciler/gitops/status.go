package gitops

import (
	"context"
	"errors"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

// ensureResource returns the Source object of a configured source,
// creating it, or updating its spec to the configured one. The pin
// (spec.pinnedRevision) is the store's: it survives restarts.
func (c *Controller) ensureResource(ctx context.Context, name string) (*sources.Resource, error) {
	for {
		want := c.sources[name].Spec()
		obj, err := c.st.Get(ctx, sources.Kind, "", name)
		if errors.Is(err, store.ErrNotFound) {
			want.PinnedRevision = ""
			res := &sources.Resource{
				TypeMeta:   metav1.TypeMeta{APIVersion: sources.APIVersion, Kind: sources.Kind},
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec:       want,
			}
			created, err := c.st.Create(ctx, res)
			if errors.Is(err, store.ErrAlreadyExists) {
				continue
			}
			if err != nil {
				return nil, err
			}
			return created.(*sources.Resource), nil
		}
		if err != nil {
			return nil, err
		}
		res := obj.(*sources.Resource)
		want.PinnedRevision = res.Spec.PinnedRevision
		if res.Spec == want {
			return res, nil
		}
		res.Spec = want
		updated, err := c.st.Update(ctx, res)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return updated.(*sources.Resource), nil
	}
}

// writeStatus stores status as res's, only when it changed. A conflict
// (the spec was edited meanwhile) re-reads and writes the status again.
func (c *Controller) writeStatus(ctx context.Context, res *sources.Resource, status sources.SourceStatus) error {
	for {
		if equality.Semantic.DeepEqual(res.Status, status) {
			return nil
		}
		next := res.DeepCopyObject().(*sources.Resource)
		next.Status = status
		_, err := c.st.Update(ctx, next)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		obj, err := c.st.Get(ctx, sources.Kind, "", res.Name)
		if err != nil {
			return err
		}
		res = obj.(*sources.Resource)
	}
}

// setSucceeded marks the last attempt good: Ready, neither reconciling
// nor stalled (kstatus: an absent condition is False).
func (c *Controller) setSucceeded(s *sources.SourceStatus, msg string) {
	c.setCondition(s, sources.ConditionReady, metav1.ConditionTrue, ReasonSucceeded, msg)
	meta.RemoveStatusCondition(&s.Conditions, sources.ConditionReconciling)
	meta.RemoveStatusCondition(&s.Conditions, sources.ConditionStalled)
}

// setFailed marks the last attempt failed: stalled when only a new
// revision can fix it (validation, prune-all, conflict), reconciling with
// retries otherwise (a fetch or store error).
func (c *Controller) setFailed(s *sources.SourceStatus, reason, msg string, stalled bool) {
	c.setCondition(s, sources.ConditionReady, metav1.ConditionFalse, reason, msg)
	if stalled {
		c.setCondition(s, sources.ConditionStalled, metav1.ConditionTrue, reason, msg)
		meta.RemoveStatusCondition(&s.Conditions, sources.ConditionReconciling)
	} else {
		c.setCondition(s, sources.ConditionReconciling, metav1.ConditionTrue, ReasonRetrying, msg)
		meta.RemoveStatusCondition(&s.Conditions, sources.ConditionStalled)
	}
}

func (c *Controller) setCondition(s *sources.SourceStatus, typ string, st metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&s.Conditions, metav1.Condition{
		Type: typ, Status: st, Reason: reason, Message: msg, LastTransitionTime: c.now(),
	})
}

// recordNoSnapshot writes the status of a source with nothing to apply
// yet: its fetch failed, or it has not delivered a first snapshot (after
// a restart the applied revision keeps running meanwhile).
func (c *Controller) recordNoSnapshot(ctx context.Context, res *sources.Resource, fetchErr error) error {
	status := res.DeepCopyObject().(*sources.Resource).Status
	if fetchErr != nil {
		msg := "fetch failed: " + fetchErr.Error()
		if status.LastAppliedRevision != "" {
			msg += "; revision " + shortRevision(status.LastAppliedRevision) + " keeps running"
		}
		c.setFailed(&status, ReasonFetchFailed, msg, false)
		if !equality.Semantic.DeepEqual(status, res.Status) {
			c.rec.Eventf(res, "Warning", ReasonFetchFailed, "%s", msg)
		}
		return c.writeStatus(ctx, res, status)
	}
	if meta.FindStatusCondition(status.Conditions, sources.ConditionReady) == nil {
		c.setCondition(&status, sources.ConditionReady, metav1.ConditionUnknown, ReasonProgressing, "waiting for the first fetch")
		c.setCondition(&status, sources.ConditionReconciling, metav1.ConditionTrue, ReasonProgressing, "waiting for the first fetch")
	}
	return c.writeStatus(ctx, res, status)
}

// resourceStatuses lists the objects of an applied revision with their
// sync status and health, as the store now has them.
func (c *Controller) resourceStatuses(ctx context.Context, source string, r *applyResult) []sources.ResourceStatus {
	out := make([]sources.ResourceStatus, 0, len(r.decisions))
	for _, d := range r.decisions {
		rs := sources.ResourceStatus{Kind: d.d.key.Kind, Namespace: d.d.key.Namespace, Name: d.d.key.Name, Sync: sources.SyncSynced}
		if d.verdict == verdictPinned {
			rs.Sync = sources.SyncPinned
			rs.Message = pinMessage(d.live)
		}
		live, err := c.st.Get(ctx, d.d.key.Kind, d.d.key.Namespace, d.d.key.Name)
		if err != nil {
			rs.Sync, rs.Health = sources.SyncOutOfSync, sources.HealthMissing
		} else {
			c.fillHealth(&rs, live)
		}
		out = append(out, rs)
	}
	return out
}

func (c *Controller) fillHealth(rs *sources.ResourceStatus, live store.Object) {
	h, msg := Health(live)
	rs.Health = h
	if rs.Message == "" && h != sources.HealthHealthy {
		rs.Message = msg
	}
}

func pinMessage(obj store.Object) string {
	if obj == nil {
		return ""
	}
	if r := metaOf(obj).GetAnnotations()[AnnotationPinnedReason]; r != "" {
		return "pinned: " + r
	}
	return "pinned"
}

// refreshStatus recomputes a source's resources[] from the store (sync
// status and health move as controllers and users change objects) and
// writes it if it changed.
func (c *Controller) refreshStatus(ctx context.Context, name string) error {
	if _, ok := c.sources[name]; !ok {
		return nil
	}
	c.lock.Lock()
	defer c.lock.Unlock()
	obj, err := c.st.Get(ctx, sources.Kind, "", name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	res := obj.(*sources.Resource)
	if len(res.Status.Resources) == 0 {
		return nil
	}
	status := res.DeepCopyObject().(*sources.Resource).Status
	for i := range status.Resources {
		rs := &status.Resources[i]
		rs.Message = ""
		live, err := c.st.Get(ctx, rs.Kind, rs.Namespace, rs.Name)
		if errors.Is(err, store.ErrNotFound) {
			rs.Sync, rs.Health = sources.SyncOutOfSync, sources.HealthMissing
			continue
		}
		if err != nil {
			return err
		}
		rs.Sync = c.syncOf(name, live)
		if rs.Sync == sources.SyncPinned {
			rs.Message = pinMessage(live)
		}
		c.fillHealth(rs, live)
	}
	return c.writeStatus(ctx, res, status)
}

// syncOf says whether live is as its source's applied revision declares.
func (c *Controller) syncOf(source string, live store.Object) string {
	m := metaOf(live)
	if m.GetLabels()[LabelSource] != source {
		return sources.SyncOutOfSync
	}
	if m.GetAnnotations()[AnnotationPinned] != "" {
		return sources.SyncPinned
	}
	d, ok := desiredFromLive(live)
	if !ok {
		return sources.SyncOutOfSync
	}
	dec, err := decide(d, live, source, "")
	if err != nil || dec.verdict != verdictUnchanged {
		return sources.SyncOutOfSync
	}
	return sources.SyncSynced
}

func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }
