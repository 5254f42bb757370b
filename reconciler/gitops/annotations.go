package gitops

// The labels and annotations by which the store records what a source
// applied. They are part of the user contract (SPEC.md): users see them
// in `berth get -o yaml` and set berth.io/prune themselves.
const (
	// LabelSource names the source an object came from.
	LabelSource = "berth.io/source"
	// AnnotationRevision is the source revision that last applied the
	// object.
	AnnotationRevision = "berth.io/revision"
	// AnnotationLastApplied is the object's manifest as Git last declared
	// it (JSON), the base of the three-way merge, as kubectl apply's
	// last-applied-configuration.
	AnnotationLastApplied = "berth.io/last-applied"
	// AnnotationPrune set to PruneDisabled keeps an object that left the
	// source.
	AnnotationPrune = "berth.io/prune"
	PruneDisabled   = "disabled"
	// AnnotationPinned marks an object held off its Git version (`berth
	// rollout undo`): its value is PinHash of the object's
	// AnnotationLastApplied when it was pinned (the hash of its spec), so
	// a new revision that changes the object's spec lifts the pin.
	AnnotationPinned = "berth.io/pinned"
	// AnnotationPinnedReason says why, for `get` and `describe`
	// ("rollout undo --to-revision 1").
	AnnotationPinnedReason = "berth.io/pinned-reason"
)
