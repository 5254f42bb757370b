// Package gitops applies source revisions to the store: the heart of
// berth's GitOps contract (SPEC.md, "GitOps semantics"). Its Controller,
// keyed by source name, decodes and validates each snapshot with the code
// of `berth validate`, applies a valid revision whole in one store
// transaction with a kubectl-apply-style three-way merge, prunes what left
// Git, refuses what would prune everything, puts drifted objects back,
// honours pins (`rollout undo`, `sync --revision`) and keeps each Source's
// status — conditions as Flux's, per-object sync and health as Argo CD's.
//
// State lives in the store (the labels and annotations of annotations.go,
// the Source objects); the latest snapshot in memory is only a cache that
// the sources fill again after a restart.
package gitops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
	"github.com/berth-io/berth/workloads"
)

// Name is the controller's name (and its queue's).
const Name = "gitops"

// statusInterval is the least time between two refreshes of a source's
// resources[] driven by object changes: a rollout changes Deployments
// many times a second, the status follows at most once a second.
const statusInterval = time.Second

// DefaultResyncInterval is how often each source's current revision is
// applied again in full when nothing else triggered it, as Flux's
// Kustomization interval: drift the watch missed is put back then.
const DefaultResyncInterval = 10 * time.Minute

// Options configure a Controller.
type Options struct {
	// Store is where objects are applied and Sources kept (required).
	Store store.Store
	// Recorder records events on Sources and on corrected objects
	// (default: none).
	Recorder controller.Recorder
	// Clock is time (default: the real clock).
	Clock clock.WithTicker
	// Log gets errors (default: discarded).
	Log *slog.Logger
	// Lock is shared with the rollout actions: every GitOps write runs
	// under it, so a concurrent `berth sync` and `berth rollout undo` are
	// serialized and neither is lost (default: a lock of its own).
	Lock sync.Locker
	// Sources are the configured sources, for Spec, At and Trigger.
	Sources []sources.Source
	// ResyncInterval is how often a source's current revision is applied
	// again in full (default DefaultResyncInterval; negative: never), on
	// the Manager's clock.
	ResyncInterval time.Duration
}

// Controller applies source revisions. Build it with New, connect it with
// Register, feed it with Update; it is also the api.Syncer of `berth sync`
// and `berth diff`. Safe for concurrent use.
type Controller struct {
	st    store.Store
	rec   controller.Recorder
	clock clock.WithTicker
	log   *slog.Logger
	lock  sync.Locker
	// kinds are the kinds a source may declare that the store holds.
	kinds []string
	// resync is Options.ResyncInterval (0: none).
	resync time.Duration

	names   []string // configured order
	sources map[string]sources.Source

	mu    sync.Mutex
	state map[string]*sourceState
	queue *controller.Queue
}

// sourceState is what the controller remembers of a source between syncs;
// all of it can be lost (a restart) without harm.
type sourceState struct {
	latest   *sources.Snapshot
	fetchErr error
	// pinned caches the snapshot of spec.pinnedRevision (fetched with At).
	pinned *sources.Snapshot
	// conflict: the last attempt hit another source's object; retried
	// when a labeled object goes away or leaves its source.
	conflict bool
	// applied is what the last successful apply of this process left on
	// each object of the source (replaced whole, never changed): drift
	// checks and sync statuses compare with it rather than with the
	// objects' own annotations. nil until the first apply after a start.
	applied map[objectKey]*heldObject
	// dirty are the objects changed since the last status refresh; true
	// when their sync status needs computing again (a spec, label or
	// annotation change, a create or a delete), false for health only.
	dirty map[objectKey]bool
}

var _ api.Syncer = (*Controller)(nil)

// New returns a controller for opts.Sources.
func New(opts Options) (*Controller, error) {
	if opts.Store == nil {
		return nil, errors.New("gitops: Options.Store is required")
	}
	c := &Controller{
		st:      opts.Store,
		rec:     opts.Recorder,
		clock:   opts.Clock,
		log:     opts.Log,
		lock:    opts.Lock,
		resync:  opts.ResyncInterval,
		sources: map[string]sources.Source{},
		state:   map[string]*sourceState{},
	}
	if c.rec == nil {
		c.rec = nopRecorder{}
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.lock == nil {
		c.lock = &sync.Mutex{}
	}
	switch {
	case c.resync == 0:
		c.resync = DefaultResyncInterval
	case c.resync < 0:
		c.resync = 0
	}
	for _, s := range opts.Sources {
		name := s.Name()
		if name == "" || strings.ContainsAny(name, "/:") {
			return nil, fmt.Errorf("gitops: source name %q: use letters, digits, '-' and '.'", name)
		}
		if _, dup := c.sources[name]; dup {
			return nil, fmt.Errorf("gitops: two sources named %q; give one a different name", name)
		}
		c.sources[name] = s
		c.names = append(c.names, name)
		c.state[name] = &sourceState{}
	}
	stored := map[string]bool{}
	for _, k := range store.Kinds() {
		stored[k] = true
	}
	for _, sk := range workloads.ServedKinds() {
		kind := sk[strings.LastIndexByte(sk, '/')+1:]
		if stored[kind] && !slices.Contains(c.kinds, kind) {
			c.kinds = append(c.kinds, kind)
		}
	}
	return c, nil
}

// Update is the sources' Run callback: it remembers a source's latest
// snapshot (or the error of a failed fetch) and queues the source.
func (c *Controller) Update(source string, snap sources.Snapshot, err error) {
	c.mu.Lock()
	st := c.state[source]
	if st == nil {
		c.mu.Unlock()
		c.log.Error("gitops: update from an unknown source", "source", source)
		return
	}
	if err != nil {
		st.fetchErr = err
	} else {
		s := snap
		st.latest, st.fetchErr = &s, nil
	}
	q := c.queue
	c.mu.Unlock()
	if q != nil {
		q.Add(sourceKey(source))
	}
}

// Queue keys: a source, one object's drift check, a source's status, and
// the Source objects of sources no longer configured.
const (
	prefixSource = "source:"
	prefixObject = "object:"
	prefixStatus = "status:"
	keyStale     = "stale-sources"
)

func sourceKey(name string) string { return prefixSource + name }
func statusKey(name string) string { return prefixStatus + name }
func objectQueueKey(k objectKey) string {
	return prefixObject + k.Kind + "/" + k.Namespace + "/" + k.Name
}

// Register adds the controller to m. It watches Source objects (a spec
// change re-applies) and every kind a source may declare that m's cache
// holds: a change to an object carrying LabelSource is checked for drift,
// a deleted one is re-created by its source, and any change refreshes the
// source's resources[] (debounced). Every source is queued at once, which
// creates its Source object, and again every ResyncInterval; so are the
// Source objects of sources this server no longer has.
func (c *Controller) Register(m *controller.Manager) {
	q := m.Register(reconcilerOf{c})
	c.mu.Lock()
	c.queue = q
	c.mu.Unlock()
	cache := m.Cache()
	if cache.Has(sources.Kind) {
		cache.AddHandler(sources.Kind, func(old, new store.Object) {
			if new == nil || (old != nil && metaOf(old).GetGeneration() == metaOf(new).GetGeneration()) {
				return // our own status writes
			}
			if _, ok := c.sources[metaOf(new).GetName()]; ok {
				q.Add(sourceKey(metaOf(new).GetName()))
			} else {
				q.Add(keyStale)
			}
		})
	}
	for _, kind := range c.kinds {
		if cache.Has(kind) {
			cache.AddHandler(kind, c.objectChanged)
		}
	}
	for _, name := range c.names {
		q.Add(sourceKey(name))
	}
	q.Add(keyStale)
}

// objectChanged maps a change of an object to queue keys. The sources
// concerned are the one its label names now, the one it named before,
// and the one whose last apply left it (a label removed or changed by
// hand is drift too).
func (c *Controller) objectChanged(old, new store.Object) {
	q := c.queue
	obj := new
	if obj == nil {
		obj = old
	}
	k := keyOf(obj)
	var srcs []string
	addSource := func(name string) {
		if _, ok := c.sources[name]; ok && !slices.Contains(srcs, name) {
			srcs = append(srcs, name)
		}
	}
	holder, _ := c.holderOf(k)
	oldSrc, newSrc := "", ""
	if old != nil {
		oldSrc = metaOf(old).GetLabels()[LabelSource]
	}
	if new != nil {
		newSrc = metaOf(new).GetLabels()[LabelSource]
	}
	addSource(holder)
	addSource(newSrc)
	addSource(oldSrc)
	if len(srcs) == 0 && oldSrc == "" {
		return
	}
	user := new == nil || old == nil || userChange(old, new)
	c.mu.Lock()
	for _, name := range srcs {
		st := c.state[name]
		if st.dirty == nil {
			st.dirty = map[objectKey]bool{}
		}
		st.dirty[k] = st.dirty[k] || user
	}
	var retry []string
	if oldSrc != "" && oldSrc != newSrc {
		// Gone, released or relabeled: a source that conflicted on it may
		// take it now.
		for name, st := range c.state {
			if st.conflict {
				retry = append(retry, name)
			}
		}
	}
	c.mu.Unlock()
	for _, name := range srcs {
		q.AddAfter(statusKey(name), statusInterval)
	}
	for _, name := range retry {
		q.Add(sourceKey(name))
	}
	if new == nil {
		if _, ok := c.sources[oldSrc]; ok {
			q.Add(sourceKey(oldSrc)) // deleted by hand: re-created (pruned: no-op)
		}
		if holder != "" && holder != oldSrc {
			q.Add(sourceKey(holder))
		}
		return
	}
	if !user || len(srcs) == 0 {
		return // a status write: no drift possible
	}
	q.Add(objectQueueKey(k))
}

// userChange reports whether an update may have changed what GitOps
// manages: the spec (generation), labels or annotations.
func userChange(old, new store.Object) bool {
	om, nm := metaOf(old), metaOf(new)
	return om.GetGeneration() != nm.GetGeneration() ||
		!mapsEqual(om.GetLabels(), nm.GetLabels()) ||
		!mapsEqual(om.GetAnnotations(), nm.GetAnnotations())
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// reconcilerOf is the controller.Controller face of a Controller (its own
// Sync is api.Syncer's).
type reconcilerOf struct{ c *Controller }

func (r reconcilerOf) Name() string { return Name }

func (r reconcilerOf) Sync(ctx context.Context, key string) error {
	c := r.c
	switch {
	case strings.HasPrefix(key, prefixSource):
		return c.reconcileSource(ctx, strings.TrimPrefix(key, prefixSource))
	case strings.HasPrefix(key, prefixObject):
		parts := strings.SplitN(strings.TrimPrefix(key, prefixObject), "/", 3)
		if len(parts) != 3 {
			return nil
		}
		return c.checkDrift(ctx, objectKey{Kind: parts[0], Namespace: parts[1], Name: parts[2]})
	case strings.HasPrefix(key, prefixStatus):
		return c.refreshStatus(ctx, strings.TrimPrefix(key, prefixStatus))
	case key == keyStale:
		return c.markUnconfigured(ctx)
	}
	return nil
}

// snapshotFor returns the snapshot a source should be at: its pinned
// revision (fetched with At when not cached), else its latest. ok is
// false when there is none yet.
func (c *Controller) snapshotFor(ctx context.Context, name, pinnedRevision string) (snap *sources.Snapshot, err error) {
	c.mu.Lock()
	st := c.state[name]
	latest, pinned := st.latest, st.pinned
	c.mu.Unlock()
	if pinnedRevision == "" {
		return latest, nil
	}
	if pinned != nil && pinned.Revision == pinnedRevision {
		return pinned, nil
	}
	s, err := c.sources[name].At(ctx, pinnedRevision)
	if err != nil {
		return nil, fmt.Errorf("fetching pinned revision %s: %w", shortRevision(pinnedRevision), err)
	}
	c.mu.Lock()
	st.pinned = &s
	c.mu.Unlock()
	return &s, nil
}

// reconcileSource brings a source's objects to the revision it should be
// at and writes its status.
func (c *Controller) reconcileSource(ctx context.Context, name string) error {
	if _, ok := c.sources[name]; !ok {
		return nil
	}
	c.mu.Lock()
	q := c.queue
	c.mu.Unlock()
	if q != nil && c.resync > 0 {
		// The periodic full apply: the same revision again, which puts
		// back whatever drift the watch did not catch.
		q.AddAfter(sourceKey(name), c.resync)
	}
	res, err := c.ensureResource(ctx, name)
	if err != nil {
		return err
	}
	snap, fetchErr := c.snapshotFor(ctx, name, res.Spec.PinnedRevision)

	c.lock.Lock()
	defer c.lock.Unlock()
	// Re-read under the lock: `berth sync` may have moved the pin.
	res, err = c.ensureResource(ctx, name)
	if err != nil {
		return err
	}
	if snap != nil && res.Spec.PinnedRevision != "" && snap.Revision != res.Spec.PinnedRevision {
		return errors.New("gitops: the pin moved meanwhile; trying again")
	}
	c.mu.Lock()
	st := c.state[name]
	latestErr := st.fetchErr
	latest := st.latest
	c.mu.Unlock()
	if fetchErr == nil && snap == nil {
		fetchErr = latestErr
	}
	if snap == nil {
		return c.recordNoSnapshot(ctx, res, fetchErr)
	}
	if res.Spec.PinnedRevision != "" {
		latestErr = nil // the pinned revision was fetched on its own
	}
	_, err = c.applySnapshot(ctx, res, snap, latest, latestErr)
	if isStalled(err) {
		return nil // recorded in the status (Stalled); a new revision will retry
	}
	// Anything else (a store error, a merge that failed): the status says
	// Reconciling, ProgressingWithRetry, and the queue retries with backoff.
	return err
}

func isValidation(err error) bool {
	var v *validationError
	return errors.As(err, &v)
}

// stalledError is a failure that only a new revision can fix.
type stalledError struct{ error }

func (e stalledError) Unwrap() error { return e.error }

// isStalled reports whether err is an attempt that trying again cannot
// fix (the status says Stalled): a revision that does not decode or
// validate, would prune everything, or conflicts with another source.
func isStalled(err error) bool {
	var aerr *applyError
	var s stalledError
	return isValidation(err) || errors.As(err, &s) || (errors.As(err, &aerr) && aerr.reason != ReasonApplyFailed)
}

// applySnapshot decodes, validates and applies snap to source res and
// writes res's status. Callers hold c.lock. latest is the newest
// snapshot fetched (for the status of a pinned source); fetchErr, when
// set, is why no newer one could be fetched: the source is then not Ready
// even though snap applied.
func (c *Controller) applySnapshot(ctx context.Context, res *sources.Resource, snap, latest *sources.Snapshot, fetchErr error) (*applyResult, error) {
	name := res.Name
	rev := snap.Revision
	status := res.DeepCopyObject().(*sources.Resource).Status
	status.LastAttemptedRevision = rev
	status.Skipped = append([]string(nil), snap.Skipped...)

	objs, err := decodeFiles(snap.Files)
	if err != nil {
		msg := fmt.Sprintf("revision %s not applied: %v", c.describeRevision(name, rev), err)
		reason := ReasonValidationFailed
		if !isValidation(err) {
			reason = ReasonApplyFailed
		}
		c.setFailed(&status, reason, msg, true)
		c.rec.Eventf(res, corev1.EventTypeWarning, reason, "%s", msg)
		return nil, errors.Join(stalledError{err}, c.writeStatus(ctx, res, status))
	}
	for _, w := range objs.warnings {
		c.log.Warn("gitops: manifest warning", "source", name, "revision", rev, "warning", w.String())
	}

	result, leaving, err := c.plan(ctx, name, rev, res.Spec.AllowPruneAll, objs.objects)
	if err == nil {
		err = c.commit(ctx, name, rev, result, leaving)
	}
	c.mu.Lock()
	var aerr *applyError
	c.state[name].conflict = errors.As(err, &aerr) && aerr.reason == ReasonConflict
	c.mu.Unlock()
	if err != nil {
		reason, stalled := ReasonApplyFailed, false
		if errors.As(err, &aerr) {
			reason, stalled = aerr.reason, aerr.reason != ReasonApplyFailed
		}
		msg := fmt.Sprintf("revision %s not applied: %v", c.describeRevision(name, rev), err)
		c.setFailed(&status, reason, msg, stalled)
		c.rec.Eventf(res, corev1.EventTypeWarning, reason, "%s", msg)
		return nil, errors.Join(err, c.writeStatus(ctx, res, status))
	}

	c.hold(name, result)
	for _, d := range result.decisions {
		if d.liftedPin && d.out != nil {
			c.rec.Eventf(d.out, corev1.EventTypeNormal, ReasonPinLifted,
				"Revision %s changes the spec; the pin is lifted and Git's version applied", shortRevision(rev))
		}
		if d.adoptedFrom != "" && d.out != nil {
			c.rec.Eventf(d.out, corev1.EventTypeWarning, ReasonAdopted,
				"adopted from source %q, which is no longer configured on this server", d.adoptedFrom)
		}
	}
	for _, k := range result.kept {
		if obj := leaving[k]; obj != nil {
			c.rec.Eventf(obj, corev1.EventTypeNormal, ReasonKept,
				"%s left source %q and is kept (berth.io/prune: disabled): no longer managed by it", k, name)
		}
	}
	for _, nk := range result.nsKept {
		held := nk.holders
		more := ""
		if len(held) > maxHolders {
			more = fmt.Sprintf(" and %d more", len(held)-maxHolders)
			held = held[:maxHolders]
		}
		c.rec.Eventf(res, corev1.EventTypeWarning, ReasonNamespaceKept,
			"%s left the source but still holds %s%s; not pruned while it is not empty", nk.key, strings.Join(held, ", "), more)
	}
	msg := "Applied revision: " + c.describeRevision(name, rev)
	if res.Spec.PinnedRevision != "" {
		msg += " (pinned by `berth sync --revision`"
		if latest != nil && latest.Revision != rev {
			msg += "; latest is " + shortRevision(latest.Revision)
		}
		msg += "; `berth sync --latest` follows the source again)"
	}
	if status.LastAppliedRevision != rev || result.changed() {
		now := c.now()
		status.LastAppliedTime = &now
		c.rec.Eventf(res, corev1.EventTypeNormal, ReasonSucceeded, "%s: %s", msg, result.summary())
	}
	status.LastAppliedRevision = rev
	if fetchErr != nil {
		fmsg := "fetch failed: " + fetchErr.Error() + "; revision " + shortRevision(rev) + " keeps running"
		c.setFailed(&status, ReasonFetchFailed, fmsg, false)
		if cond := meta.FindStatusCondition(res.Status.Conditions, sources.ConditionReady); cond == nil || cond.Message != fmsg {
			c.rec.Eventf(res, corev1.EventTypeWarning, ReasonFetchFailed, "%s", fmsg)
		}
	} else {
		c.setSucceeded(&status, msg)
	}
	status.Resources = c.resourceStatuses(ctx, name, result)
	return result, c.writeStatus(ctx, res, status)
}

// describeRevision formats a revision as Flux does: "main@sha1:abc…" for
// Git, "sha256:…" for a folder.
func (c *Controller) describeRevision(name, rev string) string {
	spec := c.sources[name].Spec()
	if spec.Type == sources.TypeDir {
		return "sha256:" + rev
	}
	ref := spec.Branch
	if ref == "" {
		ref = spec.Tag
	}
	if ref == "" {
		return "sha1:" + rev
	}
	return ref + "@sha1:" + rev
}

// hold records what an apply of source left on each of its objects.
func (c *Controller) hold(source string, r *applyResult) {
	applied := make(map[objectKey]*heldObject, len(r.decisions))
	for _, d := range r.decisions {
		h := &heldObject{d: d.d, last: d.d.lastApplied}
		switch {
		case d.out != nil:
			h.rev = metaOf(d.out).GetAnnotations()[AnnotationRevision]
		case d.live != nil:
			ann := metaOf(d.live).GetAnnotations()
			h.rev = ann[AnnotationRevision]
			if d.verdict == verdictPinned && ann[AnnotationLastApplied] != "" {
				h.last = ann[AnnotationLastApplied] // a pinned object keeps its older manifest
			}
		}
		applied[d.d.key] = h
	}
	c.mu.Lock()
	c.state[source].applied = applied
	c.mu.Unlock()
}

// checkDrift puts one object of a source back to its Git version if it
// drifted (a hand edit), leaving what the three-way merge leaves alone.
// Git's version is the one the source's last apply left (held), not the
// object's own annotations: removing or editing berth.io/last-applied or
// the source label with a hand edit is drift too. Only before the first
// apply after a start are the annotations trusted.
func (c *Controller) checkDrift(ctx context.Context, k objectKey) error {
	c.lock.Lock()
	defer c.lock.Unlock()
	for {
		live, err := c.st.Get(ctx, k.Kind, k.Namespace, k.Name)
		if errors.Is(err, store.ErrNotFound) {
			return nil // its source's key re-creates it
		}
		if err != nil {
			return err
		}
		src, h := c.holderOf(k)
		var d *desiredObject
		if h != nil {
			d = h.d
		} else {
			src = metaOf(live).GetLabels()[LabelSource]
			if _, ok := c.sources[src]; !ok {
				return nil
			}
			if _, applied := c.held(src, k); applied {
				return nil // not in what the source applied: not its object
			}
			var ok bool
			if d, ok = desiredFromLive(live); !ok {
				return nil
			}
		}
		dec, err := c.decide(d, live, src, "", h)
		if err != nil {
			return err
		}
		if dec.verdict != verdictUpdate {
			return nil
		}
		out, err := c.st.Update(ctx, dec.out)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		c.rec.Eventf(out, corev1.EventTypeNormal, ReasonDriftCorrected,
			"%s was changed outside Git; put back to revision %s", k, shortRevision(metaOf(out).GetAnnotations()[AnnotationRevision]))
		return nil
	}
}

// now is the clock's time as the store keeps it (whole seconds), so that a
// status read back compares equal to the one written.
func (c *Controller) now() metav1.Time { return metav1.NewTime(c.clock.Now()).Rfc3339Copy() }

// nopRecorder records nothing.
type nopRecorder struct{}

func (nopRecorder) Eventf(store.Object, string, string, string, ...any) {}
