package sources

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// APIVersion and Kind of a Resource.
const (
	APIVersion = "berth.io/v1"
	Kind       = "Source"
)

// Source types.
const (
	TypeGit = "git"
	TypeDir = "dir"
)

// Resource is a source as the store and the API hold it (kind Source,
// apiVersion berth.io/v1), with its status, as Flux's GitRepository plus
// Kustomization are together: what is fetched, and how applying it went.
type Resource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              SourceSpec   `json:"spec"`
	Status            SourceStatus `json:"status,omitempty"`
}

// SourceSpec is what a source fetches.
type SourceSpec struct {
	// Type is TypeGit or TypeDir.
	Type string `json:"type"`
	// URL is the repository (file://, a local path, https://, ssh://,
	// git@host:path) for Git, the folder for a folder source.
	URL string `json:"url"`
	// Branch, Tag or Commit select what a Git source follows (at most one;
	// none: the remote's default branch).
	Branch string `json:"branch,omitempty"`
	Tag    string `json:"tag,omitempty"`
	Commit string `json:"commit,omitempty"`
	// Path is the sub-folder of the repository holding the manifests.
	Path string `json:"path,omitempty"`
	// Interval is how often a Git source polls (with jitter).
	Interval metav1.Duration `json:"interval,omitempty"`
	// Timeout bounds one fetch.
	Timeout metav1.Duration `json:"timeout,omitempty"`
	// PinnedRevision, set by `berth sync --revision SHA`, holds the source
	// at that revision until `berth sync --latest` clears it.
	PinnedRevision string `json:"pinnedRevision,omitempty"`
	// AllowPruneAll lets a revision delete every object of the source
	// (otherwise such a revision is refused as a likely mistake).
	AllowPruneAll bool `json:"allowPruneAll,omitempty"`
}

// Condition types of a source, as Flux's.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
)

// Sync statuses of an object, as Argo CD's plus Pinned.
const (
	SyncSynced    = "Synced"
	SyncOutOfSync = "OutOfSync"
	SyncPinned    = "Pinned"
)

// Health statuses of an object, as Argo CD's.
const (
	HealthHealthy     = "Healthy"
	HealthProgressing = "Progressing"
	HealthDegraded    = "Degraded"
	HealthSuspended   = "Suspended"
	HealthMissing     = "Missing"
)

// SourceStatus is how fetching and applying a source went.
type SourceStatus struct {
	// LastAppliedRevision is the revision whose objects are in the store.
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`
	// LastAttemptedRevision is the newest revision fetched and tried
	// (different from the applied one when it did not validate).
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`
	// LastAppliedTime is when LastAppliedRevision was applied.
	LastAppliedTime *metav1.Time `json:"lastAppliedTime,omitempty"`
	// Conditions: Ready (True once a revision is applied and the last
	// attempt succeeded), Reconciling (a fetch or apply in progress),
	// Stalled (the last attempt failed and will not succeed without a new
	// revision: it did not validate), each with a reason and a message
	// naming file:line.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Skipped lists files left out of the last snapshot and why.
	Skipped []string `json:"skipped,omitempty"`
	// Resources are the objects of the applied revision with their sync
	// status and health.
	Resources []ResourceStatus `json:"resources,omitempty"`
}

// ResourceStatus is one object of a source, as Argo CD lists them.
type ResourceStatus struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Sync is SyncSynced, SyncOutOfSync or SyncPinned.
	Sync string `json:"sync"`
	// Health is one of the Health* values ("" for kinds without health,
	// such as ConfigMap).
	Health string `json:"health,omitempty"`
	// Message explains an unhealthy or out-of-sync object.
	Message string `json:"message,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (r *Resource) DeepCopyObject() runtime.Object {
	if r == nil {
		return nil
	}
	out := *r
	r.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	out.Status = r.Status.deepCopy()
	return &out
}

func (s SourceStatus) deepCopy() SourceStatus {
	out := s
	if s.LastAppliedTime != nil {
		t := *s.LastAppliedTime
		out.LastAppliedTime = &t
	}
	if s.Conditions != nil {
		out.Conditions = make([]metav1.Condition, len(s.Conditions))
		for i := range s.Conditions {
			s.Conditions[i].DeepCopyInto(&out.Conditions[i])
		}
	}
	out.Skipped = append([]string(nil), s.Skipped...)
	out.Resources = append([]ResourceStatus(nil), s.Resources...)
	return out
}
