package rollouts

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// upstream (kubectl) TestViewDeploymentHistory
func TestHistory(t *testing.T) {
	d, rss := rollbackFixture(4, 4)
	for _, r := range rss {
		delete(r.Annotations, ChangeCauseAnnotation)
	}
	rss[2].Annotations[ChangeCauseAnnotation] = "foo change cause"
	rss[3].Annotations[ChangeCauseAnnotation] = "bar change cause"
	want := "REVISION  CHANGE-CAUSE\n" +
		"1         <none>\n" +
		"2         <none>\n" +
		"3         foo change cause\n" +
		"4         bar change cause\n"
	if got := FormatHistory(History(d, rss)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := FormatHistory(History(d, nil)); got != "No rollout history found." {
		t.Errorf("empty: %q", got)
	}

	entries := History(d, rss)
	if e, err := HistoryRevision(entries, 3); err != nil || e.ReplicaSet != rss[2] {
		t.Errorf("revision 3: %+v %v", e, err)
	}
	if _, err := HistoryRevision(entries, 9); err == nil || err.Error() != "unable to find the specified revision" {
		t.Errorf("missing: %v", err)
	}
	if _, err := HistoryRevision(entries, -1); err == nil || err.Error() != "revision must be a positive integer: -1" {
		t.Errorf("negative: %v", err)
	}
}

func TestHistoryEdgeCases(t *testing.T) {
	d, rss := rollbackFixture(3, 3)
	// the change-cause falls back to the pod template's annotation
	delete(rss[0].Annotations, ChangeCauseAnnotation)
	rss[0].Spec.Template.Annotations = map[string]string{ChangeCauseAnnotation: "from template"}
	// an unparseable revision is left out; an unannotated one is revision 0
	withRevision(rss[1], "x")
	extra := rss[2].DeepCopy()
	extra.Name, extra.UID = "moons-bare", "bare"
	extra.Spec.Template.Spec.Containers[0].Image = "foo:bare"
	delete(extra.Annotations, RevisionAnnotation)
	h := History(d, append(rss, extra))
	if len(h) != 3 || h[0].Revision != 0 || h[1].Revision != 1 || h[1].ChangeCause != "from template" || h[2].Revision != 3 {
		t.Errorf("history %+v", h)
	}
	// two ReplicaSets with one revision: the new one wins
	dup := rss[0].DeepCopy()
	dup.Name, dup.UID = "moons-dup", "dup"
	dup.CreationTimestamp = newTimestamp
	withRevision(dup, "3")
	h = History(d, []*appsv1.ReplicaSet{rss[2], dup})
	if len(h) != 1 || h[0].ReplicaSet != rss[2] {
		t.Errorf("duplicate revision: %+v", h)
	}
}
