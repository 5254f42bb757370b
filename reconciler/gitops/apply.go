package gitops

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
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
	// spec, so the pin goes.
	liftedPin bool
	// owner is the other source, for verdictConflict.
	owner string
	// adoptedFrom names the source that made the object when that source
	// is no longer configured on this server: the object is adopted.
	adoptedFrom string
}

// heldObject is what the last apply of this process left on one object
// of a source: the controller's own record, which drift checks and the
// next merge trust rather than the object's annotations (anyone may edit
// those).
type heldObject struct {
	// d is the manifest the applied revision declares for the object.
	d *desiredObject
	// last and rev are the AnnotationLastApplied and AnnotationRevision
	// the object was left with (a pinned object keeps older ones).
	last, rev string
}

// decide computes what applying d as source's revision does to live (nil
// when the store has no such object). revision "" keeps the object's
// AnnotationRevision (a drift correction puts back the revision it had).
// held, when set, is the controller's record of the object as its source
// applied it: the base of the three-way merge, whatever the object's own
// annotations say, and proof that the object is source's even if its
// label was changed. An object labeled with a source that is not
// configured on this server is adopted (adoptedFrom).
func (c *Controller) decide(d *desiredObject, live store.Object, source, revision string, held *heldObject) (decision, error) {
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
	if owner := lm.GetLabels()[LabelSource]; owner != "" && owner != source && held == nil {
		if _, configured := c.sources[owner]; configured {
			dec.verdict, dec.owner = verdictConflict, owner
			return dec, nil
		}
		dec.adoptedFrom = owner
	}
	liveAnn := lm.GetAnnotations()
	if pin := liveAnn[AnnotationPinned]; pin != "" {
		// Only a new revision lifts a pin: a drift check (revision "")
		// leaves every pinned object alone.
		if revision == "" || pinHolds(pin, d.lastApplied) {
			dec.verdict = verdictPinned
			return dec, nil
		}
		dec.liftedPin = true
	}
	lastText, liveRev, hasRev := liveAnn[AnnotationLastApplied], "", false
	if rev, ok := liveAnn[AnnotationRevision]; ok {
		liveRev, hasRev = rev, true
	}
	if held != nil {
		lastText, liveRev, hasRev = held.last, held.rev, held.rev != ""
	}
	var last map[string]any
	if lastText != "" {
		last, _ = decodeJSONMap([]byte(lastText)) // unreadable: merged as if adopted
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
	if hasRev {
		ann[AnnotationRevision] = liveRev
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

// held returns the controller's record of object k of source, and
// whether the source has been applied since this process started (when
// not, the objects' own annotations are all there is).
func (c *Controller) held(source string, k objectKey) (*heldObject, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state[source]
	if st == nil || st.applied == nil {
		return nil, false
	}
	return st.applied[k], true
}

// holderOf returns the source whose last apply left object k, if any.
func (c *Controller) holderOf(k objectKey) (string, *heldObject) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, name := range c.names {
		if h := c.state[name].applied[k]; h != nil {
			return name, h
		}
	}
	return "", nil
}

// released returns a copy of obj that no source manages any more: the
// source label and the GitOps annotations removed (berth.io/prune is the
// user's and stays).
func released(obj store.Object) store.Object {
	out := obj.DeepCopyObject()
	m := metaOf(out)
	if l := m.GetLabels(); l != nil {
		l = maps.Clone(l)
		delete(l, LabelSource)
		m.SetLabels(l)
	}
	if a := m.GetAnnotations(); a != nil {
		a = maps.Clone(a)
		for _, k := range []string{AnnotationLastApplied, AnnotationRevision, AnnotationPinned, AnnotationPinnedReason} {
			delete(a, k)
		}
		m.SetAnnotations(a)
	}
	return out
}

// terminating reports whether obj is being deleted (a Pod stopping on
// its node): it is as good as gone.
func terminating(obj store.Object) bool {
	return metaOf(obj).GetDeletionTimestamp() != nil
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
	// berth.io/prune: disabled: released (no longer the source's).
	kept []objectKey
	// nsKept are Namespaces that left the source but still hold objects
	// after the apply: not pruned (yet).
	nsKept []namespaceKept
}

// namespaceKept is a Namespace not pruned, with some of what it holds.
type namespaceKept struct {
	key     objectKey
	holders []string
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
	add(len(r.kept), "kept (berth.io/prune: disabled; no longer managed by the source)")
	add(len(r.nsKept), "Namespace(s) not pruned (they still hold objects)")
	add(r.count(verdictPinned), "pinned (left as they are)")
	if parts == nil {
		return "no changes"
	}
	return strings.Join(parts, ", ")
}

// changed reports whether the apply wrote anything.
func (r *applyResult) changed() bool {
	return r.count(verdictCreate)+r.count(verdictUpdate) > 0 || len(r.pruned) > 0 || len(r.kept) > 0
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
	// ReasonAdopted: an object of a source no longer configured on this
	// server was taken over (an event on the object).
	ReasonAdopted = "Adopted"
	// ReasonKept: an object that left its source was kept (berth.io/prune:
	// disabled) and released (an event on the object).
	ReasonKept = "Kept"
	// ReasonNamespaceKept: a Namespace that left its source still holds
	// objects and was not pruned (an event on the Source).
	ReasonNamespaceKept = "NamespaceNotEmpty"
	// ReasonNotConfigured: a Source object in the store whose source this
	// server no longer has.
	ReasonNotConfigured = "NotConfigured"
)

// plan decides, without writing, what applying objs as source's revision
// does: the decisions for every object, and what leaves the source (the
// objects to prune or to release, as read).
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
		h, _ := c.held(source, d.key)
		dec, err := c.decide(d, live, source, revision, h)
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
	leaving := map[objectKey]store.Object{}
	for k, obj := range owned {
		if want[k] {
			continue
		}
		leaving[k] = obj
		if metaOf(obj).GetAnnotations()[AnnotationPrune] == PruneDisabled {
			res.kept = append(res.kept, k)
			continue
		}
		res.pruned = append(res.pruned, k)
	}
	// SPEC: a revision that would prune every object of the source is
	// refused, whether it declares nothing or only other objects.
	if len(res.pruned) > 0 && len(res.pruned) == len(owned) && !allowPruneAll {
		what := "declares no objects"
		if len(objs) > 0 {
			what = "declares none of the source's objects"
		}
		return nil, nil, &applyError{reason: ReasonPruneAllRefused, msg: fmt.Sprintf(
			"it %s and would delete all %d of them; refused as a likely mistake (start the source with --allow-prune-all true to allow it)",
			what, len(res.pruned))}
	}
	if err := c.keepNonEmptyNamespaces(ctx, res, want); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(res.pruned, comparePruneOrder)
	slices.SortFunc(res.kept, comparePruneOrder)
	return res, leaving, nil
}

// maxHolders is how many objects a kept Namespace's message names.
const maxHolders = 3

// keepNonEmptyNamespaces takes out of res.pruned the Namespaces that would
// still hold objects after the apply: objects declared (want), kept,
// another source's or made by hand. Berth has no namespace controller:
// deleting such a Namespace would leave its objects in a Namespace that
// does not exist. Objects a controller owns go with their owner, and
// terminating ones are as good as gone.
func (c *Controller) keepNonEmptyNamespaces(ctx context.Context, res *applyResult, want map[objectKey]bool) error {
	pruning := make(map[objectKey]bool, len(res.pruned))
	for _, k := range res.pruned {
		pruning[k] = true
	}
	var out []objectKey
	for _, k := range res.pruned {
		if k.Kind != "Namespace" {
			out = append(out, k)
			continue
		}
		var holders []string
		for w := range want {
			if w.Namespace == k.Name && w.Kind != "Namespace" {
				holders = append(holders, w.String())
			}
		}
		for _, kind := range c.kinds {
			if kind == "Namespace" {
				continue
			}
			objs, _, err := c.st.List(ctx, kind, store.ListOptions{Namespace: k.Name})
			if err != nil {
				return err
			}
			for _, obj := range objs {
				ok := keyOf(obj)
				if pruning[ok] || want[ok] || terminating(obj) || metav1.GetControllerOfNoCopy(metaOf(obj)) != nil {
					continue
				}
				holders = append(holders, ok.String())
			}
		}
		if holders == nil {
			out = append(out, k)
			continue
		}
		slices.Sort(holders)
		res.nsKept = append(res.nsKept, namespaceKept{key: k, holders: holders})
	}
	res.pruned = out
	return nil
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
// template carries the label is its ReplicaSet's, not Git's) and those
// being deleted.
func (c *Controller) listOwned(ctx context.Context, source string) (map[objectKey]store.Object, error) {
	sel := labels.SelectorFromSet(labels.Set{LabelSource: source})
	out := map[objectKey]store.Object{}
	for _, kind := range c.kinds {
		objs, _, err := c.st.List(ctx, kind, store.ListOptions{Selector: sel})
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			// A terminating object (a pruned Pod stopping) is as good as
			// gone: not pruned again, not counted by the prune-all guard.
			if metav1.GetControllerOfNoCopy(metaOf(obj)) != nil || terminating(obj) {
				continue
			}
			out[keyOf(obj)] = obj
		}
	}
	return out, nil
}

// commit writes a plan in one transaction: Namespaces, the other objects,
// then what left the source. An object that changed since it was planned
// (a controller wrote its status meanwhile) is decided again on its
// current state, so nothing a controller wrote is overwritten. What left
// the source is read again in the transaction: an object no longer the
// source's, or gone, is left alone; one annotated berth.io/prune:
// disabled by now is released rather than deleted; the delete itself is
// conditioned on the version read. res.pruned and res.kept then say what
// was done.
func (c *Controller) commit(ctx context.Context, source, revision string, res *applyResult, leaving map[objectKey]store.Object) error {
	if !res.changed() {
		return nil
	}
	var pruned, kept []objectKey
	err := c.st.Txn(ctx, func(tx store.Txn) error {
		pruned, kept = nil, nil
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
				h, _ := c.held(source, k)
				again, err := c.decide(dec.d, cur, source, revision, h)
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
		keys := append(append([]objectKey(nil), res.kept...), res.pruned...)
		slices.SortStableFunc(keys, comparePruneOrder)
		for _, k := range keys {
			cur, err := tx.Get(k.Kind, k.Namespace, k.Name)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			m := metaOf(cur)
			if m.GetUID() != metaOf(leaving[k]).GetUID() || m.GetLabels()[LabelSource] != source || terminating(cur) {
				continue // no longer the object planned, or not the source's
			}
			if m.GetAnnotations()[AnnotationPrune] == PruneDisabled {
				if _, err := tx.Update(released(cur)); err != nil {
					return fmt.Errorf("release %s: %w", k, err)
				}
				kept = append(kept, k)
				continue
			}
			rv, err := strconv.ParseInt(m.GetResourceVersion(), 10, 64)
			if err != nil {
				return fmt.Errorf("prune %s: resourceVersion %q: %w", k, m.GetResourceVersion(), err)
			}
			err = tx.Delete(k.Kind, k.Namespace, k.Name, store.DeleteOptions{UID: string(m.GetUID()), ResourceVersion: rv})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("prune %s: %w", k, err)
			}
			pruned = append(pruned, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	res.pruned, res.kept = pruned, kept
	return nil
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
