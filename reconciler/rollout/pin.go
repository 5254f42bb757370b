package rollout

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/gitops"
)

// Event reasons of the pin.
const (
	// ReasonPinned: `rollout undo` held an object off its source.
	ReasonPinned = "Pinned"
	// ReasonUnpinned: `rollout resume` lifted the pin.
	ReasonUnpinned = "Unpinned"
)

// gitopsPrefix is the prefix of the annotations the GitOps sync owns.
const gitopsPrefix = "berth.io/"

// PinValue is the value of gitops.AnnotationPinned for an object whose
// gitops.AnnotationLastApplied is lastApplied: gitops.PinHash, the hash
// of the manifest's spec, so that the pin and the sync always agree. The
// sync compares it with the hash of the manifest a new revision declares;
// a difference means Git changed the object's spec, which lifts the pin.
func PinValue(lastApplied string) string {
	return gitops.PinHash(lastApplied)
}

// pin prepares next, the rolled-back copy of live, for the write: the
// GitOps annotations stay live's (a rollback brings back the old
// ReplicaSet's annotations, and the Deployment controller copies every
// annotation it does not skip, berth.io/last-applied included, onto its
// ReplicaSets: restoring those would rewind what the sync last applied),
// and an object that came from a source (gitops.LabelSource) is pinned
// with reason. It reports whether it pinned.
func pin(live, next metav1.Object, reason string) bool {
	ann := next.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	for k := range ann {
		if strings.HasPrefix(k, gitopsPrefix) {
			delete(ann, k)
		}
	}
	for k, v := range live.GetAnnotations() {
		if strings.HasPrefix(k, gitopsPrefix) {
			ann[k] = v
		}
	}
	_, fromSource := live.GetLabels()[gitops.LabelSource]
	if fromSource {
		ann[gitops.AnnotationPinned] = PinValue(live.GetAnnotations()[gitops.AnnotationLastApplied])
		ann[gitops.AnnotationPinnedReason] = reason
	}
	if len(ann) == 0 {
		ann = nil
	}
	next.SetAnnotations(ann)
	return fromSource
}

// unpin removes the pin from obj and returns the reason it had; pinned
// is false when obj was not pinned.
func unpin(obj metav1.Object) (reason string, pinned bool) {
	ann := obj.GetAnnotations()
	if _, pinned = ann[gitops.AnnotationPinned]; !pinned {
		return "", false
	}
	reason = ann[gitops.AnnotationPinnedReason]
	if reason == "" {
		reason = "rollout undo"
	}
	delete(ann, gitops.AnnotationPinned)
	delete(ann, gitops.AnnotationPinnedReason)
	obj.SetAnnotations(ann)
	return reason, true
}

// pinLiftedMessage is Resume's message for a lifted pin.
func pinLiftedMessage(reason string) string {
	return "pin lifted (" + reason + "); it follows its source again"
}
