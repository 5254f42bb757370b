package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/gitops"
	"github.com/berth-io/berth/reconciler/sim"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// fixture is a simulated cluster and the rollout actions on its store.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	cluster *sim.Cluster
	rec     *controller.FakeRecorder
	lock    *sync.Mutex
	actions *Actions
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c, err := sim.New(sim.Options{Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Store.Close() })
	f := &fixture{t: t, ctx: context.Background(), cluster: c, rec: controller.NewFakeRecorder(), lock: &sync.Mutex{}}
	f.actions = New(Options{Store: c.Store, Lock: f.lock, Clock: c.Clock, Recorder: f.rec})
	return f
}

// lastApplied is the manifest a source declared for name at image, as
// the sync records it.
func lastApplied(name, image string) string {
	return fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":%q},"spec":{"image":%q}}`, name, image)
}

// deploy applies name at image as a source (fromSource) or a user would,
// and runs the cluster until the rollout is over.
func (f *fixture) deploy(name, image string, fromSource bool) {
	f.t.Helper()
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default",
			Annotations: map[string]string{rollouts.ChangeCauseAnnotation: "deploy " + image}},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
	if fromSource {
		d.Labels = map[string]string{gitops.LabelSource: "apps"}
		d.Annotations[gitops.AnnotationLastApplied] = lastApplied(name, image)
		d.Annotations[gitops.AnnotationRevision] = "sha-" + image
	}
	if _, err := f.cluster.ApplyDeployment(f.ctx, d); err != nil {
		f.t.Fatal(err)
	}
	f.run()
}

// run steps the cluster for two simulated minutes: enough for a rollout
// of pods that are ready at once. (It never idles: the controller
// rechecks the progress deadline.)
func (f *fixture) run() {
	f.t.Helper()
	if err := f.cluster.RunFor(f.ctx, 2*time.Minute, nil); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) deployment(name string) *appsv1.Deployment {
	f.t.Helper()
	d, err := f.cluster.Deployment(f.ctx, "default", name)
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// rolledOut deploys name at v1 then v2: revisions 1 and 2.
func (f *fixture) rolledOut(name string, fromSource bool) {
	f.t.Helper()
	f.deploy(name, "app:v1", fromSource)
	f.deploy(name, "app:v2", fromSource)
}

func image(d *appsv1.Deployment) string { return d.Spec.Template.Spec.Containers[0].Image }

func TestUndoPinsObjectFromSource(t *testing.T) {
	tests := []struct {
		name       string
		toRevision int64
		wantReason string
	}{
		{"to revision 1", 1, "rollout undo --to-revision 1"},
		{"previous revision", 0, "rollout undo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.rolledOut("web", true)
			msg, err := f.actions.Undo(f.ctx, "Deployment", "default", "web", tt.toRevision)
			if err != nil || msg != "rolled back" {
				t.Fatalf("Undo = %q, %v; want rolled back", msg, err)
			}
			check := func(when string) {
				d := f.deployment("web")
				if image(d) != "app:v1" {
					t.Errorf("%s: image %s, want app:v1", when, image(d))
				}
				want := map[string]string{
					gitops.AnnotationPinned:       PinValue(lastApplied("web", "app:v2")),
					gitops.AnnotationPinnedReason: tt.wantReason,
					// The GitOps annotations stay the live ones, not
					// revision 1's copies on its ReplicaSet.
					gitops.AnnotationLastApplied: lastApplied("web", "app:v2"),
					gitops.AnnotationRevision:    "sha-app:v2",
					// kubectl's undo brings the change-cause back.
					rollouts.ChangeCauseAnnotation: "deploy app:v1",
				}
				for k, v := range want {
					if got := d.Annotations[k]; got != v {
						t.Errorf("%s: annotation %s = %q, want %q", when, k, got, v)
					}
				}
			}
			check("after undo")
			f.run() // the controller rolls back to v1 and keeps the pin
			check("after the rollout")
			if d := f.deployment("web"); d.Annotations[rollouts.RevisionAnnotation] != "3" {
				t.Errorf("revision %q after the rollout, want 3", d.Annotations[rollouts.RevisionAnnotation])
			}
			wantEvent := fmt.Sprintf("Normal Pinned Pinned by %s: held off source \"apps\" until a new revision changes it or `berth rollout resume`", tt.wantReason)
			if diff := cmp.Diff([]string{wantEvent}, f.rec.Events()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUndoDoesNotPin(t *testing.T) {
	tests := []struct {
		name       string
		fromSource bool
		toRevision int64
		wantMsg    string
	}{
		{"hand-made deployment", false, 1, "rolled back"},
		{"skipped rollback", true, 2, "skipped rollback (current template already matches revision 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.rolledOut("web", tt.fromSource)
			before := f.deployment("web")
			msg, err := f.actions.Undo(f.ctx, "Deployment", "default", "web", tt.toRevision)
			if err != nil || msg != tt.wantMsg {
				t.Fatalf("Undo = %q, %v; want %q", msg, err, tt.wantMsg)
			}
			d := f.deployment("web")
			for _, k := range []string{gitops.AnnotationPinned, gitops.AnnotationPinnedReason} {
				if v, ok := d.Annotations[k]; ok {
					t.Errorf("annotation %s = %q, want none", k, v)
				}
			}
			if tt.wantMsg != "rolled back" && d.ResourceVersion != before.ResourceVersion {
				t.Error("a skipped rollback wrote the Deployment")
			}
			if ev := f.rec.Events(); len(ev) != 0 {
				t.Errorf("events %q, want none", ev)
			}
		})
	}
}

func TestUndoErrors(t *testing.T) {
	f := newFixture(t)
	f.rolledOut("web", true)
	f.deploy("one", "app:v1", true)
	rss, err := f.cluster.ReplicaSetsOf(f.ctx, "default", f.deployment("web").UID)
	if err != nil || len(rss) == 0 {
		t.Fatalf("ReplicaSets of web: %v, %v", rss, err)
	}
	rsName := rss[0].Name
	tests := []struct {
		name, kind, obj string
		toRevision      int64
		want            string
		notFound        bool
	}{
		{name: "unknown revision", kind: "Deployment", obj: "web", toRevision: 7, want: "unable to find specified revision 7 in history"},
		{name: "negative revision", kind: "Deployment", obj: "web", toRevision: -1, want: "unable to find specified revision -1 in history"},
		{name: "no previous revision", kind: "Deployment", obj: "one", want: `no rollout history found for deployment "one"`},
		{name: "missing deployment", kind: "Deployment", obj: "nope", want: `deployments.apps "nope" not found`, notFound: true},
		{name: "missing object of another kind", kind: "ConfigMap", obj: "web", want: `configmaps "web" not found`, notFound: true},
		{name: "apps kind", kind: "ReplicaSet", obj: rsName, want: `no rollbacker has been implemented for "ReplicaSet.apps"`},
		{name: "unknown kind", kind: "Gadget", obj: "web", want: `the server doesn't have a resource type "gadgets"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := f.actions.Undo(f.ctx, tt.kind, "default", tt.obj, tt.toRevision)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Undo = %q, %v; want error %q", msg, err, tt.want)
			}
			if got := errors.Is(err, store.ErrNotFound); got != tt.notFound {
				t.Errorf("errors.Is(err, store.ErrNotFound) = %v, want %v", got, tt.notFound)
			}
		})
	}
	if d := f.deployment("web"); d.Annotations[gitops.AnnotationPinned] != "" {
		t.Error("a failed undo pinned")
	}

	// A paused Deployment cannot be rolled back (kubectl's refusal).
	if _, err := f.actions.Pause(f.ctx, "Deployment", "default", "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.actions.Undo(f.ctx, "Deployment", "default", "web", 1); err == nil || err.Error() != rollouts.PausedRollbackMessage {
		t.Errorf("undo of a paused deployment: %v, want %q", err, rollouts.PausedRollbackMessage)
	}
}

// step is one action of a sequence and what it must say.
type step struct {
	action  string // pause, resume, restart, undo
	kind    string // default Deployment
	want    string
	wantErr string
}

func (f *fixture) do(s step) (string, error) {
	kind := s.kind
	if kind == "" {
		kind = "Deployment"
	}
	switch s.action {
	case "pause":
		return f.actions.Pause(f.ctx, kind, "default", "web")
	case "resume":
		return f.actions.Resume(f.ctx, kind, "default", "web")
	case "restart":
		return f.actions.Restart(f.ctx, kind, "default", "web")
	case "undo":
		return f.actions.Undo(f.ctx, kind, "default", "web", 1)
	}
	f.t.Fatalf("unknown action %q", s.action)
	return "", nil
}

func TestPauseResumeRestart(t *testing.T) {
	const lifted = "pin lifted (rollout undo --to-revision 1); it follows its source again"
	tests := []struct {
		name  string
		steps []step
		// paused and pinned are the Deployment's state at the end.
		paused, pinned bool
	}{
		{name: "pause and resume", steps: []step{
			{action: "pause", want: "paused"},
			{action: "pause", wantErr: `deployments.apps "web" is already paused`},
			{action: "restart", wantErr: `deployments.apps "web" can't restart paused deployment (run rollout resume first)`},
			{action: "resume", want: "resumed"},
			{action: "resume", wantErr: `deployments.apps "web" is not paused`},
			{action: "restart", want: "restarted"},
		}},
		{name: "resume lifts the pin", steps: []step{
			{action: "undo", want: "rolled back"},
			{action: "resume", want: lifted},
			{action: "resume", wantErr: `deployments.apps "web" is not paused`},
		}},
		{name: "resume of a paused, pinned deployment", steps: []step{
			{action: "undo", want: "rolled back"},
			{action: "pause", want: "paused"},
			{action: "resume", want: "resumed; " + lifted},
		}},
		{name: "pause and restart keep the pin", steps: []step{
			{action: "undo", want: "rolled back"},
			{action: "restart", want: "restarted"},
			{action: "pause", want: "paused"},
		}, paused: true, pinned: true},
		{name: "kinds without rollouts", steps: []step{
			{action: "pause", kind: "ConfigMap", wantErr: `configmaps "web" pausing is not supported`},
			{action: "resume", kind: "ConfigMap", wantErr: `configmaps "web" resuming is not supported`},
			{action: "restart", kind: "ConfigMap", wantErr: `configmaps "web" restarting is not supported`},
			{action: "undo", kind: "ConfigMap", wantErr: `no rollbacker has been implemented for "ConfigMap"`},
			{action: "restart", kind: "Secret", wantErr: `secrets "web" not found`},
			{action: "pause", kind: "Gadget", wantErr: `the server doesn't have a resource type "gadgets"`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.rolledOut("web", true)
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}
			if _, err := f.cluster.Store.Create(f.ctx, cm); err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				msg, err := f.do(s)
				if s.wantErr != "" {
					if err == nil || err.Error() != s.wantErr {
						t.Fatalf("step %d %s = %q, %v; want error %q", i, s.action, msg, err, s.wantErr)
					}
					continue
				}
				if err != nil || msg != s.want {
					t.Fatalf("step %d %s = %q, %v; want %q", i, s.action, msg, err, s.want)
				}
			}
			d := f.deployment("web")
			if d.Spec.Paused != tt.paused {
				t.Errorf("paused = %v, want %v", d.Spec.Paused, tt.paused)
			}
			_, pinned := d.Annotations[gitops.AnnotationPinned]
			_, reason := d.Annotations[gitops.AnnotationPinnedReason]
			if pinned != tt.pinned || reason != tt.pinned {
				t.Errorf("pinned = %v, reason = %v; want %v", pinned, reason, tt.pinned)
			}
		})
	}
}

func TestRestartStampsTemplate(t *testing.T) {
	f := newFixture(t)
	f.rolledOut("web", false)
	want := f.cluster.Now().Format(time.RFC3339)
	if msg, err := f.actions.Restart(f.ctx, "Deployment", "default", "web"); err != nil || msg != "restarted" {
		t.Fatalf("Restart = %q, %v", msg, err)
	}
	if got := f.deployment("web").Spec.Template.Annotations[RestartedAtAnnotation]; got != want {
		t.Errorf("restartedAt = %q, want %q", got, want)
	}
	f.run()
	if d := f.deployment("web"); d.Annotations[rollouts.RevisionAnnotation] != "3" {
		t.Errorf("revision %q after the restart, want 3 (a new ReplicaSet)", d.Annotations[rollouts.RevisionAnnotation])
	}
}

func TestResumeRecordsUnpin(t *testing.T) {
	f := newFixture(t)
	f.rolledOut("web", true)
	if _, err := f.actions.Undo(f.ctx, "Deployment", "default", "web", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.actions.Resume(f.ctx, "Deployment", "default", "web"); err != nil {
		t.Fatal(err)
	}
	ev := f.rec.Events()
	want := "Normal Unpinned Pin of rollout undo --to-revision 1 lifted by `berth rollout resume`: it follows its source again"
	if len(ev) != 2 || ev[1] != want {
		t.Errorf("events %q, want the pin then %q", ev, want)
	}
}

func TestHistory(t *testing.T) {
	f := newFixture(t)
	f.rolledOut("web", true)
	if _, err := f.actions.Undo(f.ctx, "Deployment", "default", "web", 1); err != nil {
		t.Fatal(err)
	}
	f.run()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}
	if _, err := f.cluster.Store.Create(f.ctx, cm); err != nil {
		t.Fatal(err)
	}
	revs, err := f.actions.History(f.ctx, "Deployment", "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Revision int64
		Cause    string
		Image    string
	}
	var got []row
	for _, r := range revs {
		img := ""
		for _, l := range strings.Split(r.Template, "\n") {
			l = strings.TrimPrefix(strings.TrimSpace(l), "- ")
			if v, ok := strings.CutPrefix(l, "image: "); ok {
				img = v
			}
		}
		if !strings.Contains(r.Template, rollouts.ChangeCauseAnnotation+": "+r.ChangeCause) {
			t.Errorf("revision %d: template lacks its change-cause:\n%s", r.Revision, r.Template)
		}
		got = append(got, row{r.Revision, r.ChangeCause, img})
	}
	want := []row{{2, "deploy app:v2", "app:v2"}, {3, "deploy app:v1", "app:v1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}

	for _, tt := range []struct{ kind, name, want string }{
		{"Deployment", "nope", `deployments.apps "nope" not found`},
		{"DaemonSet", "web", `daemonsets.apps "web" not found`},
		{"ConfigMap", "web", `no history viewer has been implemented for "ConfigMap"`},
	} {
		if _, err := f.actions.History(f.ctx, tt.kind, "default", tt.name); err == nil || err.Error() != tt.want {
			t.Errorf("History(%s/%s) = %v, want %q", tt.kind, tt.name, err, tt.want)
		}
	}
}

// conflictingStore fails the first conflicts Updates with ErrConflict, as
// a controller writing between the action's read and write would.
type conflictingStore struct {
	store.Store
	mu        sync.Mutex
	conflicts int
}

func (s *conflictingStore) Update(ctx context.Context, obj store.Object) (store.Object, error) {
	s.mu.Lock()
	if s.conflicts > 0 {
		s.conflicts--
		s.mu.Unlock()
		return nil, store.ErrConflict
	}
	s.mu.Unlock()
	return s.Store.Update(ctx, obj)
}

func TestActionsRetryConflicts(t *testing.T) {
	f := newFixture(t)
	f.rolledOut("web", true)
	cs := &conflictingStore{Store: f.cluster.Store}
	a := New(Options{Store: cs, Clock: f.cluster.Clock})
	cs.conflicts = 3
	if msg, err := a.Pause(f.ctx, "Deployment", "default", "web"); err != nil || msg != "paused" {
		t.Fatalf("Pause = %q, %v", msg, err)
	}
	cs.conflicts = 3
	if msg, err := a.Resume(f.ctx, "Deployment", "default", "web"); err != nil || msg != "resumed" {
		t.Fatalf("Resume = %q, %v", msg, err)
	}
	cs.conflicts = 3
	if msg, err := a.Undo(f.ctx, "Deployment", "default", "web", 1); err != nil || msg != "rolled back" {
		t.Fatalf("Undo = %q, %v", msg, err)
	}
	if d := f.deployment("web"); image(d) != "app:v1" || d.Annotations[gitops.AnnotationPinned] == "" {
		t.Errorf("after undo through conflicts: image %s, pin %q", image(d), d.Annotations[gitops.AnnotationPinned])
	}
	cs.conflicts = conflictRetries + 1
	if _, err := a.Restart(f.ctx, "Deployment", "default", "web"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Restart through endless conflicts: %v, want ErrConflict", err)
	}
}

// Undo and a sync that share the lock never interleave: the sync's plain
// read-modify-write never conflicts with an undo, and no write is lost.
func TestConcurrentUndoAndSync(t *testing.T) {
	f := newFixture(t)
	const n = 6
	for i := range n {
		f.rolledOut(fmt.Sprintf("web-%d", i), true)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for i := range n {
		name := fmt.Sprintf("web-%d", i)
		wg.Go(func() {
			msg, err := f.actions.Undo(f.ctx, "Deployment", "default", name, 1)
			if err != nil || msg != "rolled back" {
				errs <- fmt.Errorf("undo %s = %q, %v", name, msg, err)
			}
		})
		wg.Go(func() {
			// A sync: read, change, write without retrying, under the lock.
			f.lock.Lock()
			defer f.lock.Unlock()
			obj, err := f.cluster.Store.Get(f.ctx, "Deployment", "default", name)
			if err != nil {
				errs <- err
				return
			}
			d := obj.(*appsv1.Deployment)
			d.Labels["synced"] = "yes"
			if _, err := f.cluster.Store.Update(f.ctx, d); err != nil {
				errs <- fmt.Errorf("sync %s: %w", name, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range n {
		d := f.deployment(fmt.Sprintf("web-%d", i))
		if image(d) != "app:v1" || d.Annotations[gitops.AnnotationPinned] == "" || d.Labels["synced"] != "yes" {
			t.Errorf("%s: image %s, pin %q, synced %q; want app:v1, pinned, synced", d.Name, image(d),
				d.Annotations[gitops.AnnotationPinned], d.Labels["synced"])
		}
	}
}
