package gitops

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/sources"
)

func TestApplyCreatesObjects(t *testing.T) {
	e := newEnv(t)
	e.deliver("aaaa1111", file("apps/cm.yaml", cmWeb), file("apps/web.yaml", deployWeb("nginx:1", "")), file("ns.yaml", nsShop))

	d := e.get("Deployment", "shop", "web").(*appsv1.Deployment)
	if d.Labels[LabelSource] != "web" || d.Annotations[AnnotationRevision] != "aaaa1111" {
		t.Errorf("labels %v annotations %v", d.Labels, d.Annotations)
	}
	if la := d.Annotations[AnnotationLastApplied]; !strings.Contains(la, `"image":"nginx:1"`) || strings.Contains(la, "imagePullPolicy") {
		t.Errorf("last-applied is not the manifest as written: %s", la)
	}
	if d.Spec.Template.Spec.Containers[0].TerminationMessagePath == "" {
		t.Error("defaults not applied")
	}
	if !e.exists("Namespace", "", "shop") || !e.exists("ConfigMap", "shop", "web-config") {
		t.Fatal("objects missing")
	}
	res := e.resource("web")
	if res.Status.LastAppliedRevision != "aaaa1111" || res.Status.LastAttemptedRevision != "aaaa1111" {
		t.Errorf("status revisions: %+v", res.Status)
	}
	if got := condition(res, sources.ConditionReady); got != "True ReconciliationSucceeded Applied revision: main@sha1:aaaa1111" {
		t.Errorf("Ready = %q", got)
	}
	if len(res.Status.Resources) != 3 || res.Status.Resources[0].Kind != "Namespace" {
		t.Errorf("resources: %+v", res.Status.Resources)
	}
	for _, r := range res.Status.Resources {
		if r.Sync != sources.SyncSynced {
			t.Errorf("%s %s: sync %s", r.Kind, r.Name, r.Sync)
		}
		if r.Kind == "Deployment" && r.Health != sources.HealthProgressing {
			t.Errorf("deployment health %q (no controller runs here)", r.Health)
		}
	}
	if ev := e.events(ReasonSucceeded); len(ev) != 1 || !strings.Contains(ev[0], "3 created") {
		t.Errorf("events: %v", e.rec.Events())
	}
}

func TestReapplyWritesNothing(t *testing.T) {
	e := newEnv(t)
	files := []sources.File{file("ns.yaml", nsShop), file("cm.yaml", cmWeb), file("web.yaml", deployWeb("nginx:1", ""))}
	e.deliver("rev1", files...)
	rv := e.storeVersion()
	e.deliver("rev1", files...)
	if got := e.storeVersion(); got != rv {
		t.Errorf("re-applying the same revision wrote %d times", got-rv)
	}
	// A new commit that leaves the manifests as they are writes only the
	// source's status.
	e.deliver("rev2", files...)
	if got := e.storeVersion(); got != rv+1 {
		t.Errorf("a no-op commit wrote %d times, want 1 (status)", got-rv)
	}
	if d := e.get("Deployment", "shop", "web").(*appsv1.Deployment); d.Annotations[AnnotationRevision] != "rev1" || d.Generation != 1 {
		t.Errorf("unchanged object rewritten: revision %s generation %d", d.Annotations[AnnotationRevision], d.Generation)
	}
	if e.resource("web").Status.LastAppliedRevision != "rev2" {
		t.Error("status not at rev2")
	}
}

func TestInvalidRevisionAppliesNothing(t *testing.T) {
	e := newEnv(t)
	e.deliver("good", file("cm.yaml", cmWeb), file("ns.yaml", nsShop))
	bad := deployWeb("nginx:1", "        imagePullpolicy: Always\n")
	e.deliver("bad", file("cm.yaml", strings.Replace(cmWeb, "hello", "changed", 1)), file("apps/web.yaml", bad), file("ns.yaml", nsShop))

	cm := e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap)
	if cm.Data["greeting"] != "hello" {
		t.Error("a revision with an error was partly applied")
	}
	if e.exists("Deployment", "shop", "web") {
		t.Error("deployment of a bad revision created")
	}
	res := e.resource("web")
	if res.Status.LastAppliedRevision != "good" || res.Status.LastAttemptedRevision != "bad" {
		t.Errorf("revisions: applied %s attempted %s", res.Status.LastAppliedRevision, res.Status.LastAttemptedRevision)
	}
	ready, stalled := condition(res, sources.ConditionReady), condition(res, sources.ConditionStalled)
	for _, c := range []string{ready, stalled} {
		if !strings.HasPrefix(c, "False ValidationFailed") && !strings.HasPrefix(c, "True ValidationFailed") {
			t.Errorf("condition %q", c)
		}
		if !strings.Contains(c, "apps/web.yaml:19:9: error: unknown field \"imagePullpolicy\"") {
			t.Errorf("message does not name file:line: %q", c)
		}
	}
	if !strings.HasPrefix(stalled, "True") || !strings.HasPrefix(ready, "False") {
		t.Errorf("Ready %q Stalled %q", ready, stalled)
	}
	if ev := e.events(ReasonValidationFailed); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning") {
		t.Errorf("events %v", e.rec.Events())
	}
	// Fixed: applied, Ready again.
	e.deliver("fixed", file("cm.yaml", strings.Replace(cmWeb, "hello", "changed", 1)), file("apps/web.yaml", deployWeb("nginx:1", "")), file("ns.yaml", nsShop))
	res = e.resource("web")
	if !strings.HasPrefix(condition(res, sources.ConditionReady), "True") || condition(res, sources.ConditionStalled) != "" {
		t.Errorf("conditions after the fix: %+v", res.Status.Conditions)
	}
}

func TestWarningsDoNotBlock(t *testing.T) {
	e := newEnv(t)
	sa := "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n"
	e.deliver("r1", file("cm.yaml", cmWeb), file("sa.yaml", sa))
	if !e.exists("ConfigMap", "shop", "web-config") {
		t.Fatal("a revision with only warnings was not applied")
	}
}

func TestThreeWayMerge(t *testing.T) {
	e := newEnv(t)
	v1 := deployWeb("nginx:1", "") + "  minReadySeconds: 5\n"
	v1 = strings.Replace(v1, "  name: web\n", "  name: web\n  labels:\n    tier: front\n    old: x\n", 1)
	e.deliver("r1", file("web.yaml", v1))

	// Controllers and users write what Git never set.
	d := e.get("Deployment", "shop", "web").(*appsv1.Deployment)
	d.Spec.Paused = true
	d.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
	d.Annotations["deployment.kubernetes.io/revision"] = "1"
	d.Labels["added-by-hand"] = "yes"
	d.Status.ObservedGeneration = 7
	if _, err := e.st.Update(e.ctx, d); err != nil {
		t.Fatal(err)
	}
	e.run()

	// Git: new image, minReadySeconds and label "old" no longer set.
	v2 := strings.Replace(deployWeb("nginx:2", ""), "  name: web\n", "  name: web\n  labels:\n    tier: back\n", 1)
	e.deliver("r2", file("web.yaml", v2))
	d = e.get("Deployment", "shop", "web").(*appsv1.Deployment)
	checks := []struct {
		what string
		ok   bool
	}{
		{"Git's image wins", d.Spec.Template.Spec.Containers[0].Image == "nginx:2"},
		{"Git's label value wins", d.Labels["tier"] == "back"},
		{"a label Git dropped is removed", d.Labels["old"] == ""},
		{"a field Git dropped is removed", d.Spec.MinReadySeconds == 0},
		{"spec.paused (rollout pause) kept", d.Spec.Paused},
		{"restartedAt (rollout restart) kept", d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] != ""},
		{"controller annotation kept", d.Annotations["deployment.kubernetes.io/revision"] == "1"},
		{"label set by hand kept", d.Labels["added-by-hand"] == "yes"},
		{"status kept", d.Status.ObservedGeneration == 7},
		{"revision annotation moved", d.Annotations[AnnotationRevision] == "r2"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.what, d)
		}
	}
}

func TestAdoptAndConflict(t *testing.T) {
	other := newFakeSource("other")
	e := newEnv(t, newFakeSource("web"), other)
	// Made by hand: adopted.
	cm := &corev1.ConfigMap{ObjectMeta: metav1ObjectMeta("web-config", "shop", nil)}
	cm.Data = map[string]string{"greeting": "by hand", "extra": "kept"}
	if _, err := e.st.Create(e.ctx, cm); err != nil {
		t.Fatal(err)
	}
	e.deliver("r1", file("cm.yaml", cmWeb))
	got := e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap)
	if got.Labels[LabelSource] != "web" || got.Data["greeting"] != "hello" || got.Data["extra"] != "kept" {
		t.Errorf("adopted: %+v", got)
	}
	// The other source declares it too: refused, nothing of it applied.
	otherCM := strings.Replace(cmWeb, "hello", "theirs", 1)
	e.c.Update("other", other.snapshot("o1", file("cm.yaml", otherCM), file("x.yaml", strings.Replace(cmWeb, "web-config", "x", 1))), nil)
	e.run()
	if e.exists("ConfigMap", "shop", "x") {
		t.Error("a revision with a conflict was partly applied")
	}
	res := e.resource("other")
	if c := condition(res, sources.ConditionReady); !strings.Contains(c, "Conflict") || !strings.Contains(c, `ConfigMap shop/web-config (cm.yaml:1) belongs to source "web"`) {
		t.Errorf("Ready = %q", c)
	}
	// Once web lets go of it (allowed to prune all), other takes it.
	e.src.spec.AllowPruneAll = true
	e.deliver("r2")
	if !strings.HasPrefix(condition(e.resource("other"), sources.ConditionReady), "True") {
		t.Errorf("other not retried after the conflict went: %q", condition(e.resource("other"), sources.ConditionReady))
	}
}

func TestPrune(t *testing.T) {
	e := newEnv(t)
	keep := strings.Replace(cmWeb, "web-config", "keep", 1)
	keep = strings.Replace(keep, "  namespace: shop\n", "  namespace: shop\n  annotations:\n    berth.io/prune: disabled\n", 1)
	e.deliver("r1", file("ns.yaml", nsShop), file("cm.yaml", cmWeb), file("keep.yaml", keep), file("web.yaml", deployWeb("nginx:1", "")))
	e.deliver("r2", file("ns.yaml", nsShop), file("web.yaml", deployWeb("nginx:1", "")))
	if e.exists("ConfigMap", "shop", "web-config") {
		t.Error("object that left Git not pruned")
	}
	if !e.exists("ConfigMap", "shop", "keep") {
		t.Error("berth.io/prune: disabled object pruned")
	}
	if ev := e.events(ReasonSucceeded); !strings.Contains(ev[len(ev)-1], "1 pruned") {
		t.Errorf("events %v", ev)
	}
}

func TestPruneAllRefused(t *testing.T) {
	e := newEnv(t)
	e.deliver("r1", file("cm.yaml", cmWeb))
	e.deliver("empty", file("README.yaml", "# nothing here\n"))
	if !e.exists("ConfigMap", "shop", "web-config") {
		t.Fatal("an empty revision pruned everything")
	}
	res := e.resource("web")
	if c := condition(res, sources.ConditionStalled); !strings.HasPrefix(c, "True PruneAllRefused") {
		t.Errorf("Stalled = %q", c)
	}
	if res.Status.LastAppliedRevision != "r1" {
		t.Error("applied revision moved")
	}
	// Allowed: pruned.
	e.src.spec.AllowPruneAll = true
	e.deliver("empty2")
	if e.exists("ConfigMap", "shop", "web-config") {
		t.Error("allowPruneAll did not prune")
	}
}

func TestDriftCorrected(t *testing.T) {
	e := newEnv(t)
	e.deliver("r1", file("cm.yaml", cmWeb), file("web.yaml", deployWeb("nginx:1", "")))
	cm := e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap)
	cm.Data["greeting"] = "edited by hand"
	if _, err := e.st.Update(e.ctx, cm); err != nil {
		t.Fatal(err)
	}
	d := e.get("Deployment", "shop", "web").(*appsv1.Deployment)
	d.Spec.Template.Spec.Containers[0].Image = "evil:1"
	d.Spec.Paused = true // not in Git: kept, as `rollout pause` relies on
	if _, err := e.st.Update(e.ctx, d); err != nil {
		t.Fatal(err)
	}
	e.run()
	if got := e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap).Data["greeting"]; got != "hello" {
		t.Errorf("drift not corrected: %q", got)
	}
	d = e.get("Deployment", "shop", "web").(*appsv1.Deployment)
	if d.Spec.Template.Spec.Containers[0].Image != "nginx:1" || !d.Spec.Paused {
		t.Errorf("deployment after drift: image %s paused %v", d.Spec.Template.Spec.Containers[0].Image, d.Spec.Paused)
	}
	if ev := e.events(ReasonDriftCorrected); len(ev) != 2 {
		t.Errorf("DriftCorrected events: %v", ev)
	}
	// Deleted by hand: re-created.
	if err := e.st.Delete(e.ctx, "ConfigMap", "shop", "web-config", storeDeleteOptions()); err != nil {
		t.Fatal(err)
	}
	e.run()
	if !e.exists("ConfigMap", "shop", "web-config") {
		t.Error("object deleted by hand not re-created")
	}
}

func TestObjectPin(t *testing.T) {
	e := newEnv(t)
	e.deliver("r1", file("cm.yaml", cmWeb), file("web.yaml", deployWeb("nginx:1", "")))
	// `rollout undo` pins the Deployment to an older template.
	d := e.get("Deployment", "shop", "web").(*appsv1.Deployment)
	d.Spec.Template.Spec.Containers[0].Image = "nginx:0"
	d.Annotations[AnnotationPinned] = PinHash(d.Annotations[AnnotationLastApplied])
	d.Annotations[AnnotationPinnedReason] = "rollout undo --to-revision 1"
	if _, err := e.st.Update(e.ctx, d); err != nil {
		t.Fatal(err)
	}
	e.run()
	d = e.get("Deployment", "shop", "web").(*appsv1.Deployment)
	if d.Spec.Template.Spec.Containers[0].Image != "nginx:0" {
		t.Fatal("drift correction undid a pinned object")
	}
	// A revision that changes something else: the pin holds.
	e.deliver("r2", file("cm.yaml", strings.Replace(cmWeb, "hello", "hi", 1)), file("web.yaml", deployWeb("nginx:1", "")))
	d = e.get("Deployment", "shop", "web").(*appsv1.Deployment)
	if d.Spec.Template.Spec.Containers[0].Image != "nginx:0" || d.Annotations[AnnotationPinned] == "" {
		t.Fatal("a revision that does not change the object lifted its pin")
	}
	var rs sources.ResourceStatus
	for _, r := range e.resource("web").Status.Resources {
		if r.Kind == "Deployment" {
			rs = r
		}
	}
	if rs.Sync != sources.SyncPinned || !strings.Contains(rs.Message, "rollout undo --to-revision 1") {
		t.Errorf("resource status %+v", rs)
	}
	// A revision that changes it: pin lifted, Git applied.
	e.deliver("r3", file("cm.yaml", strings.Replace(cmWeb, "hello", "hi", 1)), file("web.yaml", deployWeb("nginx:3", "")))
	d = e.get("Deployment", "shop", "web").(*appsv1.Deployment)
	if d.Spec.Template.Spec.Containers[0].Image != "nginx:3" || d.Annotations[AnnotationPinned] != "" || d.Annotations[AnnotationPinnedReason] != "" {
		t.Errorf("pin not lifted: image %s annotations %v", d.Spec.Template.Spec.Containers[0].Image, d.Annotations)
	}
	if len(e.events(ReasonPinLifted)) != 1 {
		t.Errorf("events %v", e.rec.Events())
	}
}

func TestSourcePin(t *testing.T) {
	e := newEnv(t)
	e.deliver("rev1aaaaaaaa", file("cm.yaml", cmWeb))
	e.deliver("rev2bbbbbbbb", file("cm.yaml", strings.Replace(cmWeb, "hello", "two", 1)))

	if _, err := e.c.Sync(e.ctx, "web", "rev1aaa", false); err != nil {
		t.Fatal(err)
	}
	e.run()
	greeting := func() string { return e.get("ConfigMap", "shop", "web-config").(*corev1.ConfigMap).Data["greeting"] }
	if greeting() != "hello" {
		t.Fatal("sync --revision did not apply the revision")
	}
	res := e.resource("web")
	if res.Spec.PinnedRevision != "rev1aaaaaaaa" || res.Status.LastAppliedRevision != "rev1aaaaaaaa" {
		t.Fatalf("pin %q applied %q", res.Spec.PinnedRevision, res.Status.LastAppliedRevision)
	}
	// New commits are only recorded while pinned.
	e.deliver("rev3cccccccc", file("cm.yaml", strings.Replace(cmWeb, "hello", "three", 1)))
	if greeting() != "hello" {
		t.Fatal("a pinned source applied a new commit")
	}
	if c := condition(e.resource("web"), sources.ConditionReady); !strings.Contains(c, "pinned") || !strings.Contains(c, "latest is rev3cccccccc") {
		t.Errorf("Ready = %q", c)
	}
	// The pin survives a restart.
	src := e.src
	e2 := newEnvOn(t, e.st, e.clock, src)
	e2.deliver("rev3cccccccc", src.revisions["rev3cccccccc"].Files...)
	if greeting() != "hello" {
		t.Fatal("the pin did not survive a restart")
	}
	// --latest lifts it.
	if _, err := e2.c.Sync(e2.ctx, "web", "", true); err != nil {
		t.Fatal(err)
	}
	e2.run()
	if greeting() != "three" || e2.resource("web").Spec.PinnedRevision != "" {
		t.Errorf("after --latest: %q, pin %q", greeting(), e2.resource("web").Spec.PinnedRevision)
	}
	if src.triggers == 0 {
		t.Error("sync did not trigger a fetch")
	}
	// An invalid revision is refused and pins nothing.
	src.snapshot("badbadbad", file("x.yaml", "kind: Nope\n"))
	if _, err := e2.c.Sync(e2.ctx, "web", "badbad", false); err == nil || !strings.Contains(err.Error(), "x.yaml:1") {
		t.Errorf("invalid pin: %v", err)
	}
	if e2.resource("web").Spec.PinnedRevision != "" {
		t.Error("an invalid revision was pinned")
	}
}

func TestFetchError(t *testing.T) {
	e := newEnv(t)
	e.deliver("r1", file("cm.yaml", cmWeb))
	e.c.Update("web", sources.Snapshot{}, errString("dial tcp: connection refused"))
	e.run()
	res := e.resource("web")
	if c := condition(res, sources.ConditionReady); !strings.Contains(c, "FetchFailed") || !strings.Contains(c, "connection refused") {
		t.Errorf("Ready = %q", c)
	}
	if c := condition(res, sources.ConditionReconciling); !strings.HasPrefix(c, "True ProgressingWithRetry") {
		t.Errorf("Reconciling = %q", c)
	}
}

// TestSecretStringData: a Secret's stringData lands in data, as the API
// server stores it, and applying the same revision again writes nothing.
func TestSecretStringData(t *testing.T) {
	e := newEnv(t, newFakeSource("web"))
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2\n"
	e.deliver("rev1aaaaaaaa", file("creds.yaml", secret))
	e.run()
	s := e.get("Secret", "default", "creds").(*corev1.Secret)
	if string(s.Data["password"]) != "hunter2" || s.StringData != nil {
		t.Fatalf("stored secret: data %q, stringData %q; want the password in data", s.Data, s.StringData)
	}
	rv := e.storeVersion()
	e.deliver("rev2bbbbbbbb", file("creds.yaml", secret), file("other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n"))
	e.run()
	if s2 := e.get("Secret", "default", "creds"); s2.(*corev1.Secret).ResourceVersion != s.ResourceVersion {
		t.Errorf("re-applying the unchanged Secret wrote it (store version %d before)", rv)
	}
	e.deliver("rev3cccccccc", file("creds.yaml", strings.Replace(secret, "hunter2", "hunter3", 1)), file("other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n"))
	e.run()
	if s3 := e.get("Secret", "default", "creds").(*corev1.Secret); string(s3.Data["password"]) != "hunter3" {
		t.Errorf("changed stringData: data %q", s3.Data)
	}
}
