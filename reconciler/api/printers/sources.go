package printers

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/gitops"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

// The label and annotation by which an object says where it came from.
const (
	LabelSource      = gitops.LabelSource
	AnnotationPinned = gitops.AnnotationPinned
)

// SourceIndex finds an object's sync status and health in its source's
// status.resources, for the SYNC and HEALTH columns.
type SourceIndex struct {
	bySource map[string]map[resourceKey]sources.ResourceStatus
}

type resourceKey struct{ kind, namespace, name string }

// NewSourceIndex indexes the resources of srcs.
func NewSourceIndex(srcs []*sources.Resource) *SourceIndex {
	ix := &SourceIndex{bySource: map[string]map[resourceKey]sources.ResourceStatus{}}
	for _, s := range srcs {
		m := map[resourceKey]sources.ResourceStatus{}
		for _, r := range s.Status.Resources {
			m[resourceKey{r.Kind, r.Namespace, r.Name}] = r
		}
		ix.bySource[s.Name] = m
	}
	return ix
}

// Status returns the SYNC and HEALTH cells of obj, of kind: "<none>" for
// an object no source applied, "Pinned" for one `rollout undo` holds off
// its Git version, "Unknown" when the source does not (yet) list it. The
// sync status is the source's; health is the object's own, now.
func (ix *SourceIndex) Status(kind string, obj metav1.Object) (sync, health string) {
	src := obj.GetLabels()[LabelSource]
	if src == "" {
		return "<none>", "<none>"
	}
	sync, health = "Unknown", "Unknown"
	if r, ok := ix.lookup(src, kind, obj.GetNamespace(), obj.GetName()); ok {
		sync, health = r.Sync, orNone(r.Health)
	}
	if obj.GetAnnotations()[AnnotationPinned] != "" {
		sync = sources.SyncPinned
	}
	// Health is assessed on the object as read now: the source's list is
	// refreshed at most once a second and would lag a rollout's end.
	if live, ok := obj.(store.Object); ok {
		if h, _ := gitops.Health(live); h != "" {
			health = h
		}
	}
	return sync, health
}

func (ix *SourceIndex) lookup(src, kind, namespace, name string) (sources.ResourceStatus, bool) {
	m := ix.bySource[src]
	if r, ok := m[resourceKey{kind, namespace, name}]; ok {
		return r, true
	}
	// A source may record cluster-scoped or defaulted objects without
	// the namespace.
	if namespace == metav1.NamespaceDefault {
		r, ok := m[resourceKey{kind, "", name}]
		return r, ok
	}
	return sources.ResourceStatus{}, false
}

// ShortRevision shortens a revision for a table: a bare SHA to 12
// characters, "main@sha1:<sha>" keeps its ref and shortens the hash.
func ShortRevision(rev string) string {
	prefix, hash := "", rev
	if i := strings.LastIndex(rev, ":"); i >= 0 {
		prefix, hash = rev[:i+1], rev[i+1:]
	}
	if len(hash) > 12 {
		hash = hash[:12]
	}
	return prefix + hash
}

// sourceReady returns the READY and STATUS cells from the Ready
// condition.
func sourceReady(s *sources.Resource) (ready, status string) {
	c := findCondition(s.Status.Conditions, sources.ConditionReady)
	if c == nil {
		return "Unknown", "<none>"
	}
	return string(c.Status), orNone(c.Message)
}

func findCondition(conds []metav1.Condition, t string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// sourceRef is what a Git source follows: "branch main", "tag v1",
// "commit abc"; "" for a folder or the remote's default branch.
func sourceRef(s sources.SourceSpec) string {
	switch {
	case s.Branch != "":
		return "branch " + s.Branch
	case s.Tag != "":
		return "tag " + s.Tag
	case s.Commit != "":
		return "commit " + ShortRevision(s.Commit)
	}
	return ""
}
