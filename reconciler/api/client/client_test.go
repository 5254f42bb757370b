package client_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

func TestObjectsRoundTrip(t *testing.T) {
	ts := startServer(t, store.Options{})
	c := ts.client(t, ts.Admin)
	ctx := context.Background()

	objs := []store.Object{
		deployment("default", "web", map[string]string{"tier": "front"}),
		deployment("prod", "api", nil),
		pod("default", "web-1", "n1", map[string]string{"app": "web"}),
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg"}, Data: map[string]string{"k": "v"}},
		&sources.Resource{ObjectMeta: metav1.ObjectMeta{Name: "repo"}, Spec: sources.SourceSpec{Type: sources.TypeDir, URL: "/srv/manifests"}},
	}
	for _, o := range objs {
		out, err := c.Create(ctx, o)
		if err != nil {
			t.Fatalf("Create %T: %v", o, err)
		}
		kind, _ := store.KindOf(out)
		m := out.(metav1.Object)
		if m.GetUID() == "" || m.GetResourceVersion() == "" {
			t.Errorf("Create %s: got no uid/resourceVersion: %+v", kind, m)
		}
		if gvk := out.GetObjectKind().GroupVersionKind(); gvk.Kind != kind {
			t.Errorf("Create %s: answer's kind is %q", kind, gvk.Kind)
		}
		got, err := c.Get(ctx, kind, m.GetNamespace(), m.GetName())
		if err != nil {
			t.Fatalf("Get %s: %v", kind, err)
		}
		if diff := cmp.Diff(out, got); diff != "" {
			t.Errorf("Get %s differs from Create's answer (-create +get):\n%s", kind, diff)
		}
	}
	// The ConfigMap had no namespace: it went to default.
	if _, err := c.Get(ctx, "ConfigMap", "default", "cfg"); err != nil {
		t.Errorf("ConfigMap in default: %v", err)
	}

	list, rv, err := c.List(ctx, "Deployment", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(list), []string{"default/web", "prod/api"}; !slices.Equal(got, want) {
		t.Errorf("all-namespace list = %v, want %v", got, want)
	}
	if rv == "" || rv == "0" {
		t.Errorf("list resourceVersion = %q", rv)
	}
	list, _, err = c.List(ctx, "Deployment", "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(list); !slices.Equal(got, []string{"prod/api"}) {
		t.Errorf("namespace list = %v", got)
	}
	if _, ok := list[0].(*appsv1.Deployment); !ok {
		t.Errorf("list item is a %T, want *appsv1.Deployment", list[0])
	}

	// Update, then a stale update conflicts.
	cur, _ := c.Get(ctx, "Deployment", "default", "web")
	d := cur.(*appsv1.Deployment)
	stale := d.DeepCopy()
	d.Spec.Template.Spec.Containers[0].Image = "hello:v2"
	upd, err := c.Update(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if upd.(*appsv1.Deployment).Generation != 2 {
		t.Errorf("generation after a spec change = %d, want 2", upd.(*appsv1.Deployment).Generation)
	}
	stale.Spec.Replicas = new(int32)
	_, err = c.Update(ctx, stale)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: err = %v, want ErrConflict", err)
	}
	var se *client.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusConflict || se.Reason != metav1.StatusReasonConflict {
		t.Errorf("stale update: %#v", err)
	}
	if want := `Operation cannot be fulfilled on deployments.apps "web": the object has been modified`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("conflict message = %q, want prefix %q", err, want)
	}

	// Create twice, delete, get a deleted one.
	if _, err := c.Create(ctx, deployment("prod", "api", nil)); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("second create: %v, want ErrAlreadyExists", err)
	}
	if err := c.Delete(ctx, "Deployment", "default", "web"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(ctx, "Deployment", "default", "web")
	if !errors.Is(err, store.ErrNotFound) || err.Error() != `deployments.apps "web" not found` {
		t.Errorf("get after delete: %v", err)
	}
	if err := c.Delete(ctx, "Node", "", "n1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "Node", "", "n1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	// A precondition that does not hold.
	err = c.DeleteWithOptions(ctx, "Source", "", "repo", store.DeleteOptions{UID: "not-its-uid"})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("delete with a wrong uid: %v, want ErrConflict", err)
	}
}

func TestListSelectors(t *testing.T) {
	ts := startServer(t, store.Options{})
	c := ts.client(t, ts.Admin)
	ctx := context.Background()
	mustCreate(t, ts.Store, pod("default", "a", "n1", map[string]string{"app": "web", "track": "stable"}))
	mustCreate(t, ts.Store, pod("default", "b", "n2", map[string]string{"app": "web", "track": "canary"}))
	mustCreate(t, ts.Store, pod("other", "c", "n1", map[string]string{"app": "db"}))
	mustCreate(t, ts.Store, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: "default", Name: "web.1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Namespace: "default", Name: "web"},
		Reason:         "ScalingReplicaSet",
	})
	mustCreate(t, ts.Store, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: "default", Name: "a.1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "a"},
		Reason:         "Scheduled",
	})

	tests := []struct {
		name      string
		kind, ns  string
		opts      client.ListOptions
		want      []string
		wantError string
	}{
		{name: "label equality", kind: "Pod", opts: client.ListOptions{LabelSelector: "app=web"}, want: []string{"default/a", "default/b"}},
		{name: "label set", kind: "Pod", opts: client.ListOptions{LabelSelector: "track in (canary),app"}, want: []string{"default/b"}},
		{name: "label not", kind: "Pod", ns: "default", opts: client.ListOptions{LabelSelector: "track!=canary"}, want: []string{"default/a"}},
		{name: "node name", kind: "Pod", opts: client.ListOptions{FieldSelector: "spec.nodeName=n1"}, want: []string{"default/a", "other/c"}},
		{name: "fields and labels", kind: "Pod", opts: client.ListOptions{FieldSelector: "spec.nodeName=n1", LabelSelector: "app=web"}, want: []string{"default/a"}},
		{name: "metadata.name", kind: "Pod", opts: client.ListOptions{FieldSelector: "metadata.name=b"}, want: []string{"default/b"}},
		{name: "metadata.namespace not", kind: "Pod", opts: client.ListOptions{FieldSelector: "metadata.namespace!=default"}, want: []string{"other/c"}},
		{name: "events for an object", kind: "Event", ns: "default", opts: client.ListOptions{FieldSelector: "involvedObject.kind=Deployment,involvedObject.name=web"}, want: []string{"default/web.1"}},
		{name: "unsupported field", kind: "Pod", opts: client.ListOptions{FieldSelector: "spec.bogus=1"}, wantError: "field label not supported: spec.bogus"},
		{name: "bad label selector", kind: "Pod", opts: client.ListOptions{LabelSelector: "a=(b"}, wantError: "labelSelector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := c.ListWithOptions(ctx, tt.kind, tt.ns, tt.opts)
			if tt.wantError != "" {
				var se *client.StatusError
				if !errors.As(err, &se) || se.Code != http.StatusBadRequest || !strings.Contains(se.Message, tt.wantError) {
					t.Fatalf("err = %v, want a 400 containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, names(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWatch(t *testing.T) {
	ts := startServer(t, store.Options{})
	c := ts.client(t, ts.Admin)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mustCreate(t, ts.Store, deployment("default", "old", nil))

	_, rv, err := c.List(ctx, "Deployment", "default", "")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.Watch(ctx, "Deployment", "default", rv)
	if err != nil {
		t.Fatal(err)
	}
	web := mustCreate(t, ts.Store, deployment("default", "web", nil)).(*appsv1.Deployment)
	mustCreate(t, ts.Store, deployment("elsewhere", "skip", nil)) // another namespace: not seen
	web.Spec.Paused = true
	if _, err := ts.Store.Update(ctx, web); err != nil {
		t.Fatal(err)
	}
	if err := ts.Store.Delete(ctx, "Deployment", "default", "web", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	var lastRV int64
	for range 3 {
		ev := next(t, ch)
		d := ev.Object.(*appsv1.Deployment)
		got = append(got, string(ev.Type)+" "+d.Name)
		if ev.ResourceVersion <= lastRV {
			t.Errorf("resourceVersions not increasing: %d after %d", ev.ResourceVersion, lastRV)
		}
		lastRV = ev.ResourceVersion
	}
	if want := []string{"ADDED web", "MODIFIED web", "DELETED web"}; !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}

	// No resourceVersion: the existing objects first, as ADDED.
	all, err := c.Watch(ctx, "Deployment", "", "")
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for range 2 {
		ev := next(t, all)
		got = append(got, string(ev.Type)+" "+ev.Object.(*appsv1.Deployment).Name)
	}
	if want := []string{"ADDED old", "ADDED skip"}; !slices.Equal(got, want) {
		t.Errorf("initial events = %v, want %v", got, want)
	}

	// Ending ctx closes the channel.
	cancel()
	for range ch {
	}
	for range all {
	}
}

func TestWatchSelectorMovesObjectsInAndOut(t *testing.T) {
	ts := startServer(t, store.Options{})
	c := ts.client(t, ts.Admin)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := mustCreate(t, ts.Store, pod("default", "a", "", map[string]string{"app": "web"})).(*corev1.Pod)
	ch, err := c.WatchWithOptions(ctx, "Pod", "", "0", client.ListOptions{FieldSelector: "spec.nodeName=n1"})
	if err != nil {
		t.Fatal(err)
	}
	p.Spec.NodeName = "n1" // enters the selection
	p = mustUpdate(t, ts.Store, p)
	if ev := next(t, ch); ev.Type != store.Added || ev.Object.(*corev1.Pod).Spec.NodeName != "n1" {
		t.Errorf("entering: %s %v, want ADDED", ev.Type, ev.Object)
	}
	p.Labels["x"] = "y" // stays in
	p = mustUpdate(t, ts.Store, p)
	if ev := next(t, ch); ev.Type != store.Modified {
		t.Errorf("staying: %s", ev.Type)
	}
	p.Status.Phase = corev1.PodSucceeded
	p.Spec.NodeName = "n2" // leaves (a test store lets it)
	p = mustUpdate(t, ts.Store, p)
	if ev := next(t, ch); ev.Type != store.Deleted {
		t.Errorf("leaving: %s, want DELETED", ev.Type)
	}
}

// A watch with a label selector started from a list's resourceVersion
// (as an informer's) sees objects leave the selection (DELETED, with the
// last object that matched) and enter it (ADDED).
func TestWatchSelectorFromAListVersion(t *testing.T) {
	ts := startServer(t, store.Options{})
	c := ts.client(t, ts.Admin)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := mustCreate(t, ts.Store, pod("default", "a", "", map[string]string{"app": "web"})).(*corev1.Pod)
	objs, rv, err := c.List(ctx, "Pod", "default", "app=web")
	if err != nil || len(objs) != 1 {
		t.Fatalf("list: %v, %v", objs, err)
	}
	ch, err := c.WatchWithOptions(ctx, "Pod", "default", rv, client.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	p.Labels["app"] = "api" // leaves
	p = mustUpdate(t, ts.Store, p)
	ev := next(t, ch)
	if ev.Type != store.Deleted || ev.Object.(*corev1.Pod).Labels["app"] != "web" || ev.Object.(*corev1.Pod).ResourceVersion != p.ResourceVersion {
		t.Errorf("leaving: %s %v, want DELETED of the last matching object at %s", ev.Type, ev.Object, p.ResourceVersion)
	}
	p.Labels["tier"] = "x" // stays out: nothing
	p = mustUpdate(t, ts.Store, p)
	p.Labels["app"] = "web" // enters
	p = mustUpdate(t, ts.Store, p)
	if ev := next(t, ch); ev.Type != store.Added || ev.Object.(*corev1.Pod).ResourceVersion != p.ResourceVersion {
		t.Errorf("entering: %s %v, want ADDED", ev.Type, ev.Object)
	}
}

func mustUpdate(t *testing.T, st store.Store, p *corev1.Pod) *corev1.Pod {
	t.Helper()
	out, err := st.Update(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return out.(*corev1.Pod)
}

func TestWatchFromAnExpiredVersion(t *testing.T) {
	ts := startServer(t, store.Options{EventLogSize: 4})
	c := ts.client(t, ts.Admin)
	ctx := context.Background()
	for i := range 10 {
		mustCreate(t, ts.Store, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm" + string(rune('a'+i))}})
	}
	ch, err := c.Watch(ctx, "ConfigMap", "", "1")
	if err != nil {
		t.Fatal(err)
	}
	ev := next(t, ch)
	if ev.Type != client.EventError {
		t.Fatalf("event %s, want ERROR", ev.Type)
	}
	err = client.WatchError(ev)
	if !errors.Is(err, store.ErrExpired) {
		t.Errorf("WatchError = %v, want ErrExpired", err)
	}
	var se *client.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusGone {
		t.Errorf("code: %#v, want 410", err)
	}
	if _, ok := <-ch; ok {
		t.Error("the channel stays open after the ERROR event")
	}
}

func TestUnauthorized(t *testing.T) {
	ts := startServer(t, store.Options{})
	for _, tok := range []string{"wrong", ts.Admin + "x"} {
		c := ts.client(t, tok)
		_, _, err := c.List(context.Background(), "Pod", "", "")
		if !errors.Is(err, client.ErrUnauthorized) {
			t.Fatalf("token %q: err = %v, want ErrUnauthorized", tok, err)
		}
		if want := "unauthorized: the server refused the token (check --token-file or the config's token)"; err.Error() != want {
			t.Errorf("message = %q, want %q", err, want)
		}
	}
}

func TestNodeToken(t *testing.T) {
	ts := startServer(t, store.Options{})
	nc := ts.client(t, ts.NodeToken)
	ctx := context.Background()
	mustCreate(t, ts.Store, deployment("default", "web", nil))
	p := mustCreate(t, ts.Store, pod("default", "p", "n1", nil)).(*corev1.Pod)

	// Reads.
	if _, _, err := nc.List(ctx, "Deployment", "", ""); err != nil {
		t.Errorf("list: %v", err)
	}
	if _, err := nc.Get(ctx, "Pod", "default", "p"); err != nil {
		t.Errorf("get: %v", err)
	}
	if ch, err := nc.Watch(ctx, "Pod", "", ""); err != nil {
		t.Errorf("watch: %v", err)
	} else if ev := next(t, ch); ev.Type != store.Added {
		t.Errorf("watch: %s", ev.Type)
	}
	// Its node, and a pod's status.
	n, err := nc.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	if err != nil {
		t.Fatalf("create node: %v", err)
	}
	n.(*corev1.Node).Status.Phase = corev1.NodeRunning
	if _, err := nc.Update(ctx, n); err != nil {
		t.Errorf("update node: %v", err)
	}
	p.Status.Phase = corev1.PodRunning
	p.Spec.Containers[0].Image = "evil:latest" // not the node's to change
	got, err := nc.UpdateStatus(ctx, p)
	if err != nil {
		t.Fatalf("update pod status: %v", err)
	}
	gp := got.(*corev1.Pod)
	if gp.Status.Phase != corev1.PodRunning || gp.Spec.Containers[0].Image != "hello:v1" {
		t.Errorf("status update: phase %s image %s; want Running and the spec unchanged", gp.Status.Phase, gp.Spec.Containers[0].Image)
	}
	if _, err := nc.Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p.1"}}); err != nil {
		t.Errorf("create event: %v", err)
	}

	// Everything else is forbidden.
	forbidden := map[string]func() error{
		"create deployment": func() error { _, err := nc.Create(ctx, deployment("default", "x", nil)); return err },
		"update pod": func() error {
			cur, _ := nc.Get(ctx, "Pod", "default", "p")
			_, err := nc.Update(ctx, cur)
			return err
		},
		"delete deployment": func() error { return nc.Delete(ctx, "Deployment", "default", "web") },
		"rollout undo":      func() error { _, err := nc.RolloutUndo(ctx, "Deployment", "default", "web", 0); return err },
		"sync":              func() error { _, err := nc.Sync(ctx, "", "", false); return err },
		"logs":              func() error { return nc.Logs(ctx, "default", "p", "", false, false, io.Discard) },
		"create source": func() error {
			_, err := nc.Create(ctx, &sources.Resource{ObjectMeta: metav1.ObjectMeta{Name: "s"}})
			return err
		},
	}
	for name, f := range forbidden {
		if err := f(); !errors.Is(err, client.ErrForbidden) {
			t.Errorf("%s with the node token: err = %v, want ErrForbidden", name, err)
		}
	}
	// A node may delete pods (once their containers stopped).
	zero := int64(0)
	if err := nc.DeleteWithOptions(ctx, "Pod", "default", "p", store.DeleteOptions{UID: string(p.UID), GracePeriodSeconds: &zero}); err != nil {
		t.Errorf("delete pod: %v", err)
	}
}

func TestRolloutActions(t *testing.T) {
	ts := startServer(t, store.Options{})
	c := ts.client(t, ts.Admin)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() (string, error)
		want string
		rec  string
	}{
		{"undo", func() (string, error) { return c.RolloutUndo(ctx, "Deployment", "default", "web", 2) }, "rolled back", "undo Deployment default/web 2"},
		{"undo to previous", func() (string, error) { return c.RolloutUndo(ctx, "Deployment", "", "web", 0) }, "rolled back", "undo Deployment default/web 0"},
		{"pause", func() (string, error) { return c.RolloutPause(ctx, "Deployment", "prod", "api") }, "paused", "pause Deployment prod/api"},
		{"resume", func() (string, error) { return c.RolloutResume(ctx, "Deployment", "prod", "api") }, "resumed", "resume Deployment prod/api"},
		{"restart", func() (string, error) { return c.RolloutRestart(ctx, "DaemonSet", "kube", "agent") }, "restarted", "restart DaemonSet kube/agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
			calls := ts.Backend.Calls()
			if last := calls[len(calls)-1]; last != tt.rec {
				t.Errorf("backend got %q, want %q", last, tt.rec)
			}
		})
	}

	revs, err := c.RolloutHistory(ctx, "Deployment", "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	want := []api.Revision{{Revision: 1}, {Revision: 2, ChangeCause: "bump", Template: "spec: {}\n"}}
	if diff := cmp.Diff(want, revs); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}

	_, err = c.RolloutUndo(ctx, "Deployment", "default", "missing", 0)
	if !errors.Is(err, store.ErrNotFound) || err.Error() != `deployments.apps "missing" not found` {
		t.Errorf("undo of a missing deployment: %v", err)
	}
	_, err = c.RolloutUndo(ctx, "Deployment", "default", "web", 9)
	var se *client.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusBadRequest || err.Error() != errNoSuchRevision.Error() {
		t.Errorf("undo to a missing revision: %#v", err)
	}
}

func TestSyncAndDiff(t *testing.T) {
	ts := startServer(t, store.Options{})
	c := ts.client(t, ts.Admin)
	ctx := context.Background()

	res, err := c.Sync(ctx, "web", "abc1234", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Name != "web" || res[0].Spec.PinnedRevision != "abc1234" || res[0].Status.LastAppliedRevision != "abc123" || res[0].Kind != sources.Kind {
		t.Errorf("sync answer: %+v", res)
	}
	if _, err := c.Sync(ctx, "nope", "", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("sync of an unknown source: %v", err)
	}
	if _, err := c.Sync(ctx, "web", "abc", true); err == nil || !strings.Contains(err.Error(), "contradict") {
		t.Errorf("revision and latest: %v", err)
	}

	diffs, err := c.Diff(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || diffs[0].Action != api.DiffUpdate || diffs[0].Name != "web" {
		t.Errorf("diff: %+v", diffs)
	}
	big := strings.Repeat("# padding\n", 600_000) // 6 MB: over the usual limit, under diff's
	diffs, err = c.DiffFiles(ctx, []sources.File{{Path: "a.yaml", Data: []byte("kind: ConfigMap\n")}, {Path: "big.yaml", Data: []byte(big)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || diffs[0].Action != api.DiffCreate {
		t.Errorf("diff files: %+v", diffs)
	}
	calls := ts.Backend.Calls()
	if want := `difffiles a.yaml:16,big.yaml:6000000`; calls[len(calls)-1] != want {
		t.Errorf("backend got %q, want %q", calls[len(calls)-1], want)
	}
	_, err = c.DiffFiles(ctx, []sources.File{{Path: "apps/web.yaml", Data: []byte("bad")}})
	var se *client.StatusError
	if !errors.Is(err, store.ErrInvalid) || !errors.As(err, &se) || se.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(err.Error(), `apps/web.yaml:3:5: error: unknown field "replicaz"`) {
		t.Errorf("invalid files: %v", err)
	}
}

func TestLogs(t *testing.T) {
	ts := startServer(t, store.Options{})
	c := ts.client(t, ts.Admin)
	ctx := context.Background()

	var buf strings.Builder
	if err := c.Logs(ctx, "default", "web-1", "app", true, false, &buf); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "line 1\nline 2\n" {
		t.Errorf("logs = %q", buf.String())
	}
	if calls := ts.Backend.Calls(); calls[len(calls)-1] != `logs default/web-1 "app" previous=true follow=false` {
		t.Errorf("backend got %q", calls[len(calls)-1])
	}
	if err := c.Logs(ctx, "default", "missing", "", false, false, io.Discard); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("logs of a missing pod: %v", err)
	}
	err := c.Logs(ctx, "default", "multi", "", false, false, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "a container name must be specified for pod multi") {
		t.Errorf("logs without a container: %v", err)
	}

	// Follow: lines arrive as they are written, and the stream ends with
	// the container.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- c.Logs(ctx, "default", "web-1", "", false, true, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	read := func() string {
		if !lines.Scan() {
			t.Fatalf("log stream ended: %v", lines.Err())
		}
		return lines.Text()
	}
	if l := read(); l != "line 1" {
		t.Errorf("first line %q", l)
	}
	if l := read(); l != "line 2" {
		t.Errorf("second line %q", l)
	}
	ts.Backend.logLines <- "line 3" // sent only now: it must be flushed at once
	if l := read(); l != "line 3" {
		t.Errorf("followed line %q", l)
	}
	close(ts.Backend.logLines)
	if lines.Scan() {
		t.Errorf("unexpected line %q", lines.Text())
	}
	if err := <-done; err != nil {
		t.Errorf("follow ended with %v", err)
	}
}

func TestFollowEndsWithContext(t *testing.T) {
	ts := startServer(t, store.Options{})
	c := ts.client(t, ts.Admin)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- c.Logs(ctx, "default", "web-1", "", false, true, pw); pw.Close() }()
	lines := bufio.NewScanner(pr)
	lines.Scan()
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// A server reached by a name its certificate lacks: the error says how
// to add it.
func TestCertificateNameErrorSaysTLSSAN(t *testing.T) {
	dir := t.TempDir()
	tlsCfg, caPEM, err := api.EnsurePKI(dir, nil) // 127.0.0.1, ::1, localhost, the hostname
	if err != nil {
		t.Fatal(err)
	}
	admin, _, err := api.EnsureTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(clock.RealClock{})
	defer st.Close()
	srv, err := api.NewServer(api.Options{Store: st, AdminToken: admin, TLS: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	c, err := client.New(&client.Config{Server: "https://" + ln.Addr().String(), CAData: caPEM, Token: admin})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _, err = c.List(ctx, "ConfigMap", "", "")
	if err == nil || !strings.Contains(err.Error(), "restart the server with --tls-san 127.0.0.2") {
		t.Errorf("error %v does not say to restart with --tls-san 127.0.0.2", err)
	}
}
