package rollouts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// DaemonSet revision history: the ControllerRevisions a DaemonSet owns, one
// per distinct pod template, as upstream's daemon controller (history.go)
// and kubectl's DaemonSetRollbacker and DaemonSetHistoryViewer keep and
// read them.

// DaemonSetTemplateGenerationLabel is the pod label carrying the
// DaemonSet's deprecated.daemonset.template.generation when the pod was
// created (upstream's extensions.DaemonSetTemplateGenerationKey).
const DaemonSetTemplateGenerationLabel = "pod-template-generation"

// DaemonSetPatch is what a ControllerRevision of ds stores in data: a
// strategic merge patch that puts ds's pod template back whole,
// {"spec":{"template":{...,"$patch":"replace"}}} (mirrors upstream's
// getPatch). The JSON of the template goes through a generic map, so its
// keys are sorted and the bytes are the same for equal templates: two
// revisions are equal when their data is byte-equal.
func DaemonSetPatch(ds *appsv1.DaemonSet) ([]byte, error) {
	b, err := json.Marshal(&ds.Spec.Template)
	if err != nil {
		return nil, err
	}
	var template map[string]any
	if err := json.Unmarshal(b, &template); err != nil {
		return nil, err
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

// DaemonSetRevisionMatches reports whether rev stores ds's current template
// (mirrors upstream's Match and kubectl's daemonSetMatch).
func DaemonSetRevisionMatches(ds *appsv1.DaemonSet, rev *appsv1.ControllerRevision) (bool, error) {
	patch, err := DaemonSetPatch(ds)
	if err != nil {
		return false, err
	}
	return bytes.Equal(patch, rev.Data.Raw), nil
}

// DaemonSetRevisionTemplate decodes the pod template rev stores. Applying
// the stored patch is exactly this: its "$patch": "replace" swaps the whole
// template.
func DaemonSetRevisionTemplate(rev *appsv1.ControllerRevision) (corev1.PodTemplateSpec, error) {
	var patch struct {
		Spec struct {
			Template *corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(rev.Data.Raw, &patch); err != nil {
		return corev1.PodTemplateSpec{}, fmt.Errorf("revision %d (%s) has invalid data: %w", rev.Revision, rev.Name, err)
	}
	if patch.Spec.Template == nil {
		return corev1.PodTemplateSpec{}, fmt.Errorf("revision %d (%s) stores no pod template", rev.Revision, rev.Name)
	}
	return *patch.Spec.Template, nil
}

// SortRevisions sorts revisions by revision number, then name (upstream's
// historiesByRevision; the name only makes equal numbers deterministic).
func SortRevisions(revs []*appsv1.ControllerRevision) {
	slices.SortStableFunc(revs, func(a, b *appsv1.ControllerRevision) int {
		switch {
		case a.Revision < b.Revision:
			return -1
		case a.Revision > b.Revision:
			return 1
		}
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
}

// MaxRevisionNumber is the highest revision among revs, 0 for none
// (upstream's maxRevision).
func MaxRevisionNumber(revs []*appsv1.ControllerRevision) int64 {
	var m int64
	for _, r := range revs {
		m = max(m, r.Revision)
	}
	return m
}

// NewestRevision picks, among several revisions that store the current
// template (a race, or a restart between two writes), the one to keep: the
// highest revision, the later one on a tie (upstream's dedupCurHistories).
func NewestRevision(revs []*appsv1.ControllerRevision) *appsv1.ControllerRevision {
	var keep *appsv1.ControllerRevision
	for _, r := range revs {
		if keep == nil || r.Revision >= keep.Revision {
			keep = r
		}
	}
	return keep
}

// RevisionsToCleanup returns which of old (the revisions that are not
// current) to delete so that at most limit remain: the lowest revisions
// first, skipping any whose controller-revision-hash a live pod still
// carries (mirrors upstream's cleanupHistory). old is not reordered.
func RevisionsToCleanup(old []*appsv1.ControllerRevision, limit int32, liveHashes map[string]bool) []*appsv1.ControllerRevision {
	toKill := len(old) - int(max(limit, 0))
	if toKill <= 0 {
		return nil
	}
	sorted := slices.Clone(old)
	SortRevisions(sorted)
	var out []*appsv1.ControllerRevision
	for _, r := range sorted {
		if toKill <= 0 {
			break
		}
		if liveHashes[r.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] {
			continue
		}
		out = append(out, r)
		toKill--
	}
	return out
}

// DaemonSetRollbackTarget is kubectl's findHistory for `rollout undo
// ds/NAME --to-revision=N`: the revision numbered toRevision, or for 0 the
// one before the newest. Its errors are kubectl's: "no last revision to
// roll back to" (0 with fewer than two revisions) and "unable to find
// specified revision N in history".
func DaemonSetRollbackTarget(revs []*appsv1.ControllerRevision, toRevision int64) (*appsv1.ControllerRevision, error) {
	if toRevision < 0 {
		return nil, revisionNotFound(toRevision)
	}
	if toRevision == 0 {
		if len(revs) <= 1 {
			return nil, fmt.Errorf("no last revision to roll back to")
		}
		sorted := slices.Clone(revs)
		SortRevisions(sorted)
		return sorted[len(sorted)-2], nil
	}
	for _, r := range revs {
		if r.Revision == toRevision {
			return r, nil
		}
	}
	return nil, revisionNotFound(toRevision)
}

// DaemonSetTemplateGeneration returns ds's
// deprecated.daemonset.template.generation annotation; nil when it is
// absent or not a number (mirrors util.GetTemplateGeneration, which
// reports the parse error; a bad value only disables matching by it).
func DaemonSetTemplateGeneration(ds *appsv1.DaemonSet) *int64 {
	v, ok := ds.Annotations[appsv1.DeprecatedTemplateGeneration]
	if !ok {
		return nil
	}
	g, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	return &g
}

// IsDaemonPodUpdated reports whether pod runs the DaemonSet's current
// template: its controller-revision-hash is hash, or its
// pod-template-generation is generation (mirrors util.IsPodUpdated).
func IsDaemonPodUpdated(pod *corev1.Pod, hash string, generation *int64) bool {
	templateMatches := generation != nil && pod.Labels[DaemonSetTemplateGenerationLabel] == strconv.FormatInt(*generation, 10)
	hashMatches := hash != "" && pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash
	return hashMatches || templateMatches
}

// DaemonSetRollbackSkippedMessage is kubectl's message for an undo whose
// target revision already stores the DaemonSet's template (toRevision as
// requested, 0 when none was given).
func DaemonSetRollbackSkippedMessage(toRevision int64) string {
	return fmt.Sprintf(rollbackSkippedFormat, toRevision)
}
