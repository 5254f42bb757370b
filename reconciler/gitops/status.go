package gitops

import (
	"context"
	"errors"
	"fmt"
	"slices"

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

// writeStatus stores status as source res's, only when it changed. It
// writes the status onto the Source as stored, never res's spec: a spec
// changed in memory (the pin of `berth sync --revision`, before its
// apply succeeded) is not saved by a status write. A conflict re-reads
// and writes the status again.
func (c *Controller) writeStatus(ctx context.Context, res *sources.Resource, status sources.SourceStatus) error {
	if equality.Semantic.DeepEqual(res.Status, status) {
		return nil
	}
	for {
		obj, err := c.st.Get(ctx, sources.Kind, "", res.Name)
		if err != nil {
			return err
		}
		cur := obj.(*sources.Resource)
		if equality.Semantic.DeepEqual(cur.Status, status) {
			return nil
		}
		cur.Status = status
		_, err = c.st.Update(ctx, cur)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
}

// markUnconfigured marks the Source objects of sources this server no
// longer has (renamed, removed): not Ready, reason NotConfigured, rather
// than the Ready=True of their last apply. Their objects stay as they
// are; a configured source that declares one adopts it.
func (c *Controller) markUnconfigured(ctx context.Context) error {
	objs, _, err := c.st.List(ctx, sources.Kind, store.ListOptions{})
	if err != nil {
		return err
	}
	for _, obj := range objs {
		res := obj.(*sources.Resource)
		if _, ok := c.sources[res.Name]; ok {
			continue
		}
		msg := fmt.Sprintf("this server no longer has source %q (no --git or --dir with that --source-name): nothing is applied or pruned; "+
			"its objects stay as they are, and a configured source that declares one adopts it; "+
			"remove this Source with DELETE /apis/berth.io/v1/sources/%s", res.Name, res.Name)
		status := res.DeepCopyObject().(*sources.Resource).Status
		if cond := meta.FindStatusCondition(status.Conditions, sources.ConditionReady); cond != nil &&
			cond.Status == metav1.ConditionFalse && cond.Reason == ReasonNotConfigured && cond.Message == msg {
			continue
		}
		c.setCondition(&status, sources.ConditionReady, metav1.ConditionFalse, ReasonNotConfigured, msg)
		c.setCondition(&status, sources.ConditionStalled, metav1.ConditionTrue, ReasonNotConfigured, msg)
		meta.RemoveStatusCondition(&status.Conditions, sources.ConditionReconciling)
		if err := c.writeStatus(ctx, res, status); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
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

// refreshStatus brings a source's resources[] up to date with the
// objects changed since the last refresh (st.dirty): their health, and
// their sync status when their spec, labels or annotations changed. It
// runs without the GitOps lock (a concurrent apply's status write makes
// the Source's resourceVersion conflict, and the refresh starts again on
// it) and writes the Source only when its status changed.
func (c *Controller) refreshStatus(ctx context.Context, name string) error {
	if _, ok := c.sources[name]; !ok {
		return nil
	}
	c.mu.Lock()
	st := c.state[name]
	dirty := st.dirty
	st.dirty = nil
	c.mu.Unlock()
	if len(dirty) == 0 {
		return nil
	}
	err := c.refreshEntries(ctx, name, dirty)
	if err != nil {
		c.mu.Lock()
		if st.dirty == nil {
			st.dirty = map[objectKey]bool{}
		}
		for k, sync := range dirty {
			st.dirty[k] = st.dirty[k] || sync
		}
		c.mu.Unlock()
	}
	return err
}

func (c *Controller) refreshEntries(ctx context.Context, name string, dirty map[objectKey]bool) error {
	for {
		obj, err := c.st.Get(ctx, sources.Kind, "", name)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		res := obj.(*sources.Resource)
		var entries []sources.ResourceStatus // copied on the first change
		for i, rs := range res.Status.Resources {
			k := objectKey{Kind: rs.Kind, Namespace: rs.Namespace, Name: rs.Name}
			sync, ok := dirty[k]
			if !ok {
				continue
			}
			next := rs
			next.Message = ""
			live, err := c.st.Get(ctx, k.Kind, k.Namespace, k.Name)
			switch {
			case errors.Is(err, store.ErrNotFound):
				next.Sync, next.Health = sources.SyncOutOfSync, sources.HealthMissing
			case err != nil:
				return err
			default:
				if sync || rs.Health == sources.HealthMissing {
					next.Sync = c.syncOf(name, live)
				}
				if next.Sync == sources.SyncPinned {
					next.Message = pinMessage(live)
				}
				c.fillHealth(&next, live)
			}
			if next == rs {
				continue
			}
			if entries == nil {
				entries = slices.Clone(res.Status.Resources)
			}
			entries[i] = next
		}
		if entries == nil {
			return nil // nothing changed: nothing written
		}
		res.Status.Resources = entries
		_, err = c.st.Update(ctx, res)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
}

// syncOf says whether live is as its source's applied revision declares
// (the controller's record of it; before the first apply after a start,
// the object's own last-applied annotation).
func (c *Controller) syncOf(source string, live store.Object) string {
	m := metaOf(live)
	if m.GetLabels()[LabelSource] != source {
		return sources.SyncOutOfSync
	}
	if m.GetAnnotations()[AnnotationPinned] != "" {
		return sources.SyncPinned
	}
	h, applied := c.held(source, keyOf(live))
	var d *desiredObject
	switch {
	case h != nil:
		d = h.d
	case applied:
		return sources.SyncOutOfSync
	default:
		var ok bool
		if d, ok = desiredFromLive(live); !ok {
			return sources.SyncOutOfSync
		}
	}
	dec, err := c.decide(d, live, source, "", h)
	if err != nil || dec.verdict != verdictUnchanged {
		return sources.SyncOutOfSync
	}
	return sources.SyncSynced
}

func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }
