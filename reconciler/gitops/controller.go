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
	// when a labeled object goes away.
	conflict bool
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

// Queue keys: a source, one object's drift check, a source's status.
const (
	prefixSource = "source:"
	prefixObject = "object:"
	prefixStatus = "status:"
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
// creates its Source object.
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
}

// objectChanged maps a change of a labeled object to queue keys.
func (c *Controller) objectChanged(old, new store.Object) {
	q := c.queue
	if new == nil {
		src := metaOf(old).GetLabels()[LabelSource]
		if src == "" {
			return
		}
		if _, ok := c.sources[src]; ok {
			q.Add(sourceKey(src)) // deleted by hand: re-created (pruned: no-op)
			q.AddAfter(statusKey(src), statusInterval)
		}
		c.mu.Lock()
		var retry []string
		for name, st := range c.state {
			if st.conflict {
				retry = append(retry, name)
			}
		}
		c.mu.Unlock()
		for _, name := range retry {
			q.Add(sourceKey(name))
		}
		return
	}
	nm := metaOf(new)
	src := nm.GetLabels()[LabelSource]
	if src == "" {
		return
	}
	if _, ok := c.sources[src]; !ok {
		return
	}
	q.AddAfter(statusKey(src), statusInterval)
	if old != nil && !userChange(old, new) {
		return // a status write: no drift possible
	}
	if nm.GetAnnotations()[AnnotationLastApplied] != "" {
		q.Add(objectQueueKey(keyOf(new)))
	}
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
	var aerr *applyError
	if errors.As(err, &aerr) || isValidation(err) {
		return nil // recorded in the status; a new revision will retry
	}
	return err
}

func isValidation(err error) bool {
	var v *validationError
	return errors.As(err, &v)
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
		return nil, errors.Join(err, c.writeStatus(ctx, res, status))
	}
	for _, w := range objs.warnings {
		c.log.Warn("gitops: manifest warning", "source", name, "revision", rev, "warning", w.String())
	}

	result, prune, err := c.plan(ctx, name, rev, res.Spec.AllowPruneAll, objs.objects)
	if err == nil {
		err = c.commit(ctx, name, rev, result, prune)
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

	for _, d := range result.decisions {
		if d.liftedPin {
			if d.out != nil {
				c.rec.Eventf(d.out, corev1.EventTypeNormal, ReasonPinLifted,
					"Revision %s changes the manifest; the pin is lifted and Git's version applied", shortRevision(rev))
			}
		}
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

// checkDrift puts one labeled object back to its Git version if it
// drifted (a hand edit), leaving what the three-way merge leaves alone.
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
		src := metaOf(live).GetLabels()[LabelSource]
		if _, ok := c.sources[src]; !ok {
			return nil
		}
		d, ok := desiredFromLive(live)
		if !ok {
			return nil
		}
		dec, err := decide(d, live, src, "")
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
