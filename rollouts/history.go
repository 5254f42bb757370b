package rollouts

import (
	"bytes"
	"fmt"
	"slices"
	"text/tabwriter"

	appsv1 "k8s.io/api/apps/v1"
)

// HistoryEntry is one row of `rollout history`.
type HistoryEntry struct {
	Revision    int64
	ChangeCause string // "" when none; FormatHistory prints "<none>"
	ReplicaSet  *appsv1.ReplicaSet
}

// History lists d's revisions in ascending order, one per revision, as
// kubectl's DeploymentHistoryViewer builds them from the ReplicaSets d owns
// (rss): a ReplicaSet without a revision annotation is revision 0, an
// unparseable one is left out, and when two carry the same revision the new
// ReplicaSet, else the newer one, wins. ChangeCause is the ReplicaSet's
// kubernetes.io/change-cause annotation, else the same annotation on its pod
// template (kubectl reads it off the template it displays).
func History(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) []HistoryEntry {
	byRev := make(map[int64]HistoryEntry)
	for _, rs := range ownedInHistoryOrder(d, rss) {
		v, err := Revision(rs)
		if err != nil {
			continue
		}
		cause := rs.Annotations[ChangeCauseAnnotation]
		if cause == "" {
			cause = rs.Spec.Template.Annotations[ChangeCauseAnnotation]
		}
		byRev[v] = HistoryEntry{Revision: v, ChangeCause: cause, ReplicaSet: rs}
	}
	out := make([]HistoryEntry, 0, len(byRev))
	for _, e := range byRev {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b HistoryEntry) int {
		switch {
		case a.Revision < b.Revision:
			return -1
		case a.Revision > b.Revision:
			return 1
		}
		return 0
	})
	return out
}

// FormatHistory renders entries as kubectl's history table (tabwriter,
// padding 2):
//
//	REVISION  CHANGE-CAUSE
//	1         <none>
//	2         kubectl set image ...
//
// or "No rollout history found." without entries. kubectl prints
// "<kind>.<group>/<name> " and a newline before it.
func FormatHistory(entries []HistoryEntry) string {
	if len(entries) == 0 {
		return "No rollout history found."
	}
	var buf bytes.Buffer
	w := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	fmt.Fprintf(w, "REVISION\tCHANGE-CAUSE\n")
	for _, e := range entries {
		cause := e.ChangeCause
		if cause == "" {
			cause = "<none>"
		}
		fmt.Fprintf(w, "%d\t%s\n", e.Revision, cause)
	}
	w.Flush()
	return buf.String()
}

// HistoryRevision returns the entry of revision for `rollout history
// --revision=N` with kubectl's errors: "revision must be a positive integer:
// N" for N < 0, "unable to find the specified revision" when absent. kubectl
// checks for an empty history first ("No rollout history found.").
func HistoryRevision(entries []HistoryEntry, revision int64) (HistoryEntry, error) {
	if revision < 0 {
		return HistoryEntry{}, fmt.Errorf("revision must be a positive integer: %v", revision)
	}
	for _, e := range entries {
		if e.Revision == revision {
			return e, nil
		}
	}
	return HistoryEntry{}, fmt.Errorf("unable to find the specified revision")
}
