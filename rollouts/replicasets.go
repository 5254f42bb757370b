package rollouts

import (
	"cmp"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"
)

// DeploymentReplicas is d.spec.replicas; nil (an undefaulted object) counts
// as the API default, 1. Upstream dereferences without a check.
func DeploymentReplicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// ReplicaSetReplicas is rs.spec.replicas: 0 for a nil ReplicaSet, and the API
// default 1 for a nil field.
func ReplicaSetReplicas(rs *appsv1.ReplicaSet) int32 {
	if rs == nil {
		return 0
	}
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// compareByCreation orders oldest first, names breaking ties (upstream's
// controller.ReplicaSetsByCreationTimestamp).
func compareByCreation(a, b *appsv1.ReplicaSet) int {
	if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return cmp.Compare(a.Name, b.Name)
	}
	if a.CreationTimestamp.Before(&b.CreationTimestamp) {
		return -1
	}
	return 1
}

// SortByCreation returns a copy of rss sorted oldest first, by
// creationTimestamp then name (upstream's ReplicaSetsByCreationTimestamp).
// Upstream sorts its argument in place; berth never reorders the caller's slice.
func SortByCreation(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	out := slices.Clone(rss)
	slices.SortStableFunc(out, compareByCreation)
	return out
}

// sortBySizeOlder sorts in place by spec.replicas descending, older first on
// ties (upstream's ReplicaSetsBySizeOlder: scale-down takes from the old).
func sortBySizeOlder(rss []*appsv1.ReplicaSet) {
	slices.SortStableFunc(rss, func(a, b *appsv1.ReplicaSet) int {
		if c := cmp.Compare(ReplicaSetReplicas(b), ReplicaSetReplicas(a)); c != 0 {
			return c
		}
		return compareByCreation(a, b)
	})
}

// sortBySizeNewer sorts in place by spec.replicas descending, newer first on
// ties (upstream's ReplicaSetsBySizeNewer: scale-up favours the new).
func sortBySizeNewer(rss []*appsv1.ReplicaSet) {
	slices.SortStableFunc(rss, func(a, b *appsv1.ReplicaSet) int {
		if c := cmp.Compare(ReplicaSetReplicas(b), ReplicaSetReplicas(a)); c != 0 {
			return c
		}
		return compareByCreation(b, a)
	})
}

// FilterActiveReplicaSets keeps the non-nil ReplicaSets with spec.replicas > 0,
// in order (mirrors controller.FilterActiveReplicaSets).
func FilterActiveReplicaSets(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range rss {
		if rs != nil && ReplicaSetReplicas(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

// EqualIgnoreHash reports whether two pod templates are semantically equal
// (apimachinery's equality.Semantic) once the pod-template-hash label is
// dropped from both (mirrors util.EqualIgnoreHash). Neither argument changes.
func EqualIgnoreHash(t1, t2 *corev1.PodTemplateSpec) bool {
	if !labelsEqualIgnoreHash(t1.Labels, t2.Labels) {
		return false
	}
	// Shallow copies without the labels: no deep copy of two whole pod
	// templates on every Deployment sync, as upstream makes.
	c1, c2 := *t1, *t2
	c1.Labels, c2.Labels = nil, nil
	return equality.Semantic.DeepEqual(&c1, &c2)
}

// labelsEqualIgnoreHash compares label maps as Semantic.DeepEqual would
// after deleting the pod-template-hash label from both (nil equals empty).
func labelsEqualIgnoreHash(a, b map[string]string) bool {
	n := 0
	for k, v := range a {
		if k == PodTemplateHashLabel {
			continue
		}
		if w, ok := b[k]; !ok || w != v {
			return false
		}
		n++
	}
	for k := range b {
		if k != PodTemplateHashLabel {
			n--
		}
	}
	return n == 0
}

// FindNewReplicaSet returns the ReplicaSet whose template equals d's
// (EqualIgnoreHash), or nil. When several match (possible after upgrades,
// kubernetes#40415) the oldest wins, by creationTimestamp then name (mirrors
// util.FindNewReplicaSet).
func FindNewReplicaSet(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	for _, rs := range SortByCreation(rss) {
		if rs != nil && EqualIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			return rs
		}
	}
	return nil
}

// FindOldReplicaSets splits off the new ReplicaSet and returns the others:
// active are those with spec.replicas != 0, all are every old one. Both come
// oldest first, the order upstream leaves them in after FindNewReplicaSet
// sorted the list (mirrors util.FindOldReplicaSets). The new ReplicaSet is
// recognised by UID, as upstream does, so give ReplicaSets distinct UIDs.
func FindOldReplicaSets(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) (active, all []*appsv1.ReplicaSet) {
	newRS := FindNewReplicaSet(d, rss)
	for _, rs := range SortByCreation(rss) {
		if rs == nil || (newRS != nil && rs.UID == newRS.UID) {
			continue
		}
		all = append(all, rs)
		if ReplicaSetReplicas(rs) != 0 {
			active = append(active, rs)
		}
	}
	return active, all
}

// FindActiveOrLatest returns the only active ReplicaSet, or the newest one
// when none is active (the new ReplicaSet if there is one), or nil when
// several are active and scaling must be proportional (mirrors
// util.FindActiveOrLatest).
func FindActiveOrLatest(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(oldRSs) == 0 {
		return nil
	}
	olds := SortByCreation(oldRSs)
	slices.Reverse(olds)
	active := FilterActiveReplicaSets(append(olds, newRS))
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return olds[0]
	case 1:
		return active[0]
	default:
		return nil
	}
}

// GetReplicaCountForReplicaSets sums spec.replicas (nil entries skipped).
func GetReplicaCountForReplicaSets(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += ReplicaSetReplicas(rs)
	}
	return n
}

// GetActualReplicaCountForReplicaSets sums status.replicas.
func GetActualReplicaCountForReplicaSets(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += rs.Status.Replicas
		}
	}
	return n
}

// GetReadyReplicaCountForReplicaSets sums status.readyReplicas.
func GetReadyReplicaCountForReplicaSets(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += rs.Status.ReadyReplicas
		}
	}
	return n
}

// GetAvailableReplicaCountForReplicaSets sums status.availableReplicas.
func GetAvailableReplicaCountForReplicaSets(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += rs.Status.AvailableReplicas
		}
	}
	return n
}

// GetTerminatingReplicaCountForReplicaSets sums status.terminatingReplicas.
// A ReplicaSet never synced (observedGeneration 0, field nil) adds nothing;
// a synced one that does not report the field makes the sum unknown (nil)
// (mirrors the upstream function of the same name).
func GetTerminatingReplicaCountForReplicaSets(rss []*appsv1.ReplicaSet) *int32 {
	var n int32
	for _, rs := range rss {
		switch {
		case rs == nil:
		case rs.Status.ObservedGeneration == 0 && rs.Status.TerminatingReplicas == nil:
		case rs.Status.TerminatingReplicas == nil:
			return nil
		default:
			n += *rs.Status.TerminatingReplicas
		}
	}
	return &n
}

// ReplicaSetName is "<deployment>-<hash>", the deployment part truncated so
// the whole fits a DNS-1123 subdomain (mirrors sync.go
// generateReplicaSetName). A hash too long to fit leaves the name untruncated.
func ReplicaSetName(deploymentName, hash string) string {
	maxLen := validation.DNS1123SubdomainMaxLength - 1 - len(hash)
	if len(deploymentName) > maxLen && maxLen > 0 {
		deploymentName = deploymentName[:maxLen]
	}
	return deploymentName + "-" + hash
}

// SetFromReplicaSetTemplate copies template (minus pod-template-hash) into
// d's pod template, as a rollback does (mirrors util.SetFromReplicaSetTemplate).
func SetFromReplicaSetTemplate(d *appsv1.Deployment, template corev1.PodTemplateSpec) {
	t := template.DeepCopy()
	d.Spec.Template.ObjectMeta = t.ObjectMeta
	d.Spec.Template.Spec = t.Spec
	d.Spec.Template.Labels = cloneAndRemove(d.Spec.Template.Labels, PodTemplateHashLabel)
}

// cloneAndAdd returns a copy of m with key=value added.
func cloneAndAdd(m map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out[key] = value
	return out
}

// cloneAndRemove returns a copy of m without key; like upstream's
// labelsutil.CloneAndRemoveLabel it returns m itself when key is absent.
func cloneAndRemove(m map[string]string, key string) map[string]string {
	if _, ok := m[key]; !ok {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}
