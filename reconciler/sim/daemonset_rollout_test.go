package sim

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/berth-io/berth/reconciler/rollout"
	"github.com/berth-io/berth/rollouts"
)

// `berth rollout history|undo|restart ds/agent`, as kubectl's daemon set
// rollbacker and history viewer: undo puts a revision's template back,
// the controller rolls to it and renumbers that revision.
func TestDaemonSetRolloutUndoAndHistory(t *testing.T) {
	ctx := context.Background()
	cl := newCluster(t, Options{Nodes: 3})
	actions := rollout.New(rollout.Options{Store: cl.Store, Clock: cl.Clock})
	deployImage := func(image string) {
		updateDS(t, cl, func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Containers[0].Image = image
			if ds.Annotations == nil {
				ds.Annotations = map[string]string{}
			}
			ds.Annotations[rollouts.ChangeCauseAnnotation] = "deploy " + image
		})
		runDS(t, cl)
	}
	applyDS(t, cl, agentDaemonSet("agent:v1", func(ds *appsv1.DaemonSet) {
		ds.Annotations = map[string]string{rollouts.ChangeCauseAnnotation: "deploy agent:v1"}
	}))
	runDS(t, cl)

	if _, err := actions.Undo(ctx, "DaemonSet", scNS, dsName, 0); err == nil || err.Error() != "no last revision to roll back to" {
		t.Fatalf("undo with one revision: %v", err)
	}
	deployImage("agent:v2")
	deployImage("agent:v3")

	hist, err := actions.History(ctx, "DaemonSet", scNS, dsName)
	if err != nil {
		t.Fatal(err)
	}
	var causes []string
	for _, r := range hist {
		causes = append(causes, itoa(r.Revision)+" "+r.ChangeCause)
	}
	if got, want := strings.Join(causes, "; "), "1 deploy agent:v1; 2 deploy agent:v2; 3 deploy agent:v3"; got != want {
		t.Fatalf("history %q, want %q", got, want)
	}
	if !strings.Contains(hist[0].Template, "image: agent:v1") {
		t.Fatalf("revision 1 template:\n%s", hist[0].Template)
	}

	tests := []struct {
		toRevision int64
		wantMsg    string
		wantErr    string
		wantImage  string
		wantRevs   string
	}{
		{toRevision: 1, wantMsg: "rolled back", wantImage: "agent:v1", wantRevs: "2,3,4"},
		{toRevision: 4, wantMsg: "skipped rollback (current template already matches revision 4)", wantImage: "agent:v1", wantRevs: "2,3,4"},
		{toRevision: 0, wantMsg: "rolled back", wantImage: "agent:v3", wantRevs: "2,4,5"},
		{toRevision: 9, wantErr: "unable to find specified revision 9 in history", wantImage: "agent:v3", wantRevs: "2,4,5"},
	}
	for _, tt := range tests {
		msg, err := actions.Undo(ctx, "DaemonSet", scNS, dsName, tt.toRevision)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("undo --to-revision %d: error %v, want %q", tt.toRevision, err, tt.wantErr)
			}
		} else if err != nil || msg != tt.wantMsg {
			t.Fatalf("undo --to-revision %d: %q, %v; want %q", tt.toRevision, msg, err, tt.wantMsg)
		}
		runDS(t, cl)
		wantAllOn(t, cl, tt.wantImage, 3)
		if got := revNumbers(dsRevisions(t, cl)); got != tt.wantRevs {
			t.Fatalf("after undo --to-revision %d: revisions %s, want %s", tt.toRevision, got, tt.wantRevs)
		}
	}

	// restart rolls every pod; pause is kubectl's refusal.
	before := podNamesByNode(t, cl)
	if msg, err := actions.Restart(ctx, "DaemonSet", scNS, dsName); err != nil || msg != "restarted" {
		t.Fatalf("restart: %q, %v", msg, err)
	}
	runDS(t, cl)
	for node, name := range podNamesByNode(t, cl) {
		if before[node] == name {
			t.Fatalf("restart kept pod %s on %s", name, node)
		}
	}
	if _, err := actions.Pause(ctx, "DaemonSet", scNS, dsName); err == nil || !strings.Contains(err.Error(), `daemonsets.apps "agent" pausing is not supported`) {
		t.Fatalf("pause: %v", err)
	}
}
