package gitops

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/workloads"
)

// verdict is what applying does to one object.
type verdict int

const (
	verdictUnchanged verdict = iota
	verdictCreate
	verdictUpdate
	// verdictPinned: the object is pinned to a manifest the revision does
	// not change; it is left alone.
	verdictPinned
	// verdictConflict: another source owns the object.
	verdictConflict
)

// decision is what applying one desired object does.
type decision struct {
	d       *desiredObject
	verdict verdict
	// live is the stored object the decision was made on (nil: none).
	live store.Object
	// out is the object to write (create or update).
	out store.Object
	// liftedPin: the object was pinned and the revision changes its
	// manifest, so the pin goes.
	liftedPin bool
	// owner is the other source, for verdictConflict.
	owner string
}

// decide computes what applying d as source's revision does to live (nil
// when the store has no such object). revision "" keeps the object's
// AnnotationRevision (a drift correction puts back the revision it had).
func decide(d *desiredObject, live store.Object, source, revision string) (decision, error) {
	dec := decision{d: d, live: live}
	if live == nil {
		if d.typed == nil {
			return dec, fmt.Errorf("%s: no manifest to create it from", d.key)
		}
		out := d.typed.DeepCopyObject()
		workloads.Normalize(out)
		m := metaOf(out)
		m.SetResourceVersion("")
		m.SetLabels(withEntry(m.GetLabels(), LabelSource, source))
		ann := withEntry(m.GetAnnotations(), AnnotationLastApplied, d.lastApplied)
		ann[AnnotationRevision] = revision
		m.SetAnnotations(ann)
		dec.verdict, dec.out = verdictCreate, out
		return dec, nil
	}
	lm := metaOf(live)
	if owner := lm.GetLabels()[LabelSource]; owner != "" && owner != source {
		dec.verdict, dec.owner = verdictConflict, owner
		return dec, nil
	}
	liveAnn := lm.GetAnnotations()
	if pin := liveAnn[AnnotationPinned]; pin != "" {
		// Only a new revision lifts a pin: a drift check (revision "")
		// leaves every pinned object alone.
		if revision == "" || pin == PinHash(d.lastApplied) {
			dec.verdict = verdictPinned
			return dec, nil
		}
		dec.liftedPin = true
	}
	var last map[string]any
	if s := liveAnn[AnnotationLastApplied]; s != "" {
		last, _ = decodeJSONMap([]byte(s)) // unreadable: merged as if adopted
	}
	out, err := mergeObject(live, last, d.manifest)
	if err != nil {
		return dec, fmt.Errorf("%s: %w", d.key, err)
	}
	m := metaOf(out)
	m.SetLabels(withEntry(m.GetLabels(), LabelSource, source))
	ann := withEntry(m.GetAnnotations(), AnnotationLastApplied, d.lastApplied)
	if dec.liftedPin {
		delete(ann, AnnotationPinned)
		delete(ann, AnnotationPinnedReason)
	}
	// The revision annotation moves only with a real change: a commit that
	// leaves an object as it was writes nothing to it (and does not bump
	// a Deployment's generation).
	if rev, ok := liveAnn[AnnotationRevision]; ok {
		ann[AnnotationRevision] = rev
	} else {
		delete(ann, AnnotationRevision)
	}
	m.SetAnnotations(ann)
	if !differs(live, out) {
		dec.verdict = verdictUnchanged
		return dec, nil
	}
	if revision != "" {
		ann[AnnotationRevision] = revision
	}
	dec.verdict, dec.out = verdictUpdate, out
	return dec, nil
}

// withEntry returns a copy of m with k set to v.
func withEntry(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	maps.Copy(out, m)
	out[k] = v
	return out
}

// applyResult is what applying a revision did.
type applyResult struct {
	decisions []decision
	pruned    []objectKey
	// kept are objects that left the source but are annotated
	// berth.io/prune: disabled.
	kept []objectKey
}

func (r *applyResult) count(v verdict) int {
	n := 0
	for _, d := range r.decisions {
		if d.verdict == v {
			n++
		}
	}
	return n
}

// summary says what the apply changed: "2 created, 1 configured, 1
// pruned", or "no changes".
func (r *applyResult) summary() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(r.count(verdictCreate), "created")
	add(r.count(verdictUpdate), "configured")
	add(len(r.pruned), "pruned")
	add(r.count(verdictPinned), "pinned (left as they are)")
	if parts == nil {
		return "no changes"
	}
	return strings.Join(parts, ", ")
}

// changed reports whether the apply wrote anything.
func (r *applyResult) changed() bool {
	return r.count(verdictCreate)+r.count(verdictUpdate) > 0 || len(r.pruned) > 0
}

// applyError is an apply refused as a whole, with the reason its status
// condition carries.
type applyError struct {
	reason string
	msg    string
}

func (e *applyError) Error() string { return e.msg }

// Reasons of a failed attempt, in the Source's conditions and events.
const (
	ReasonSucceeded        = "ReconciliationSucceeded"
	ReasonValidationFailed = "ValidationFailed"
	ReasonPruneAllRefused  = "PruneAllRefused"
	ReasonConflict         = "Conflict"
	ReasonApplyFailed      = "ApplyFailed"
	ReasonFetchFailed      = "FetchFailed"
	ReasonProgressing      = "Progressing"
	ReasonRetrying         = "ProgressingWithRetry"
	ReasonDriftCorrected   = "DriftCorrected"
	ReasonPinLifted        = "PinLifted"
)

// plan decides, without writing, what applying objs as source's revision
// does: the decisions for every object, and what leaves the source.
func (c *Controller) plan(ctx context.Context, source, revision string, allowPruneAll bool, objs []*desiredObject) (*applyResult, map[objectKey]store.Object, error) {
	owned, err := c.listOwned(ctx, source)
	if err != nil {
		return nil, nil, err
	}
	res := &applyResult{}
	want := make(map[objectKey]bool, len(objs))
	var conflicts []string
	for _, d := range objs {
		want[d.key] = true
		live, ok := owned[d.key]
		if !ok {
			live, err = c.st.Get(ctx, d.key.Kind, d.key.Namespace, d.key.Name)
			if errors.Is(err, store.ErrNotFound) {
				live, err = nil, nil
			}
			if err != nil {
				return nil, nil, err
			}
		}
		dec, err := decide(d, live, source, revision)
		if err != nil {
			return nil, nil, &applyError{reason: ReasonApplyFailed, msg: err.Error()}
		}
		if dec.verdict == verdictConflict {
			conflicts = append(conflicts, fmt.Sprintf("%s (%s:%d) belongs to source %q", d.key, d.origin.File, d.origin.Line, dec.owner))
		}
		res.decisions = append(res.decisions, dec)
	}
	if conflicts != nil {
		return nil, nil, &applyError{reason: ReasonConflict, msg: "objects of another source: " + strings.Join(conflicts, "; ") +
			"; remove them from one of the sources"}
	}
	prune := map[objectKey]store.Object{}
	for k, obj := range owned {
		if want[k] {
			continue
		}
		m := metaOf(obj)
		if m.GetAnnotations()[AnnotationPrune] == PruneDisabled {
			res.kept = append(res.kept, k)
			continue
		}
		prune[k] = obj
		res.pruned = append(res.pruned, k)
	}
	slices.SortFunc(res.pruned, comparePruneOrder)
	if len(objs) == 0 && len(prune) > 0 && !allowPruneAll {
		return nil, nil, &applyError{reason: ReasonPruneAllRefused, msg: fmt.Sprintf(
			"revision %s declares no objects and would delete all %d of the source; refused as a likely mistake (set spec.allowPruneAll to allow it)",
			shortRevision(revision), len(prune))}
	}
	return res, prune, nil
}

// comparePruneOrder deletes Namespaces last, the rest by key.
func comparePruneOrder(a, b objectKey) int {
	an, bn := a.Kind == "Namespace", b.Kind == "Namespace"
	switch {
	case an && !bn:
		return 1
	case bn && !an:
		return -1
	}
	return strings.Compare(a.String(), b.String())
}

// listOwned returns every object labeled as source's, of the kinds a
// source may declare, except those a controller owns (a pod whose
// template carries the label is its ReplicaSet's, not Git's).
func (c *Controller) listOwned(ctx context.Context, source string) (map[objectKey]store.Object, error) {
	sel := labels.SelectorFromSet(labels.Set{LabelSource: source})
	out := map[objectKey]store.Object{}
	for _, kind := range c.kinds {
		objs, _, err := c.st.List(ctx, kind, store.ListOptions{Selector: sel})
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			if metav1.GetControllerOfNoCopy(metaOf(obj)) != nil {
				continue
			}
			out[keyOf(obj)] = obj
		}
	}
	return out, nil
}

// commit writes a plan in one transaction: Namespaces, the other objects,
// then the prunes. An object that changed since it was planned (a
// controller wrote its status meanwhile) is decided again on its current
// state, so nothing a controller wrote is overwritten.
func (c *Controller) commit(ctx context.Context, source, revision string, res *applyResult, prune map[objectKey]store.Object) error {
	if !res.changed() {
		return nil
	}
	return c.st.Txn(ctx, func(tx store.Txn) error {
		for i := range res.decisions {
			dec := &res.decisions[i]
			if dec.verdict == verdictPinned || dec.verdict == verdictConflict {
				continue
			}
			k := dec.d.key
			cur, err := tx.Get(k.Kind, k.Namespace, k.Name)
			if errors.Is(err, store.ErrNotFound) {
				cur, err = nil, nil
			}
			if err != nil {
				return err
			}
			if !sameVersion(cur, dec.live) {
				again, err := decide(dec.d, cur, source, revision)
				if err != nil {
					return err
				}
				if again.verdict == verdictConflict {
					return &applyError{reason: ReasonConflict, msg: fmt.Sprintf("%s now belongs to source %q", k, again.owner)}
				}
				*dec = again
			}
			switch dec.verdict {
			case verdictCreate:
				if _, err := tx.Create(dec.out); err != nil {
					return fmt.Errorf("create %s: %w", k, err)
				}
			case verdictUpdate:
				if _, err := tx.Update(dec.out); err != nil {
					return fmt.Errorf("update %s: %w", k, err)
				}
			}
		}
		for _, k := range res.pruned {
			obj := prune[k]
			err := tx.Delete(k.Kind, k.Namespace, k.Name, store.DeleteOptions{UID: string(metaOf(obj).GetUID())})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("prune %s: %w", k, err)
			}
		}
		return nil
	})
}

// sameVersion reports whether a and b are the same stored version of an
// object (or both absent).
func sameVersion(a, b store.Object) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return metaOf(a).GetResourceVersion() == metaOf(b).GetResourceVersion()
}

// shortRevision abbreviates a commit SHA for messages.
func shortRevision(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
