package gitops

import (
	"strings"
	"testing"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/sources"
)

const secretWeb = `apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: shop
stringData:
  password: hunter2
  user: admin
`

func TestDiff(t *testing.T) {
	e := newEnv(t)
	e.deliver("r1", file("cm.yaml", cmWeb), file("s.yaml", secretWeb), file("web.yaml", deployWeb("nginx:1", "")))
	// The latest revision, fetched but (say) not yet applied: the image
	// changes, the password changes, the ConfigMap goes, a Namespace comes.
	e.c.mu.Lock()
	snap := e.src.snapshot("r2", file("ns.yaml", nsShop), file("s.yaml", strings.Replace(secretWeb, "hunter2", "hunter3", 1)), file("web.yaml", deployWeb("nginx:2", "")))
	e.c.state["web"].latest = &snap
	e.c.mu.Unlock()
	rv := e.storeVersion()

	diffs, err := e.c.Diff(e.ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if e.storeVersion() != rv {
		t.Error("Diff wrote to the store")
	}
	got := map[string]api.ObjectDiff{}
	for _, d := range diffs {
		got[d.Kind+"/"+d.Name] = d
	}
	if len(diffs) != 4 {
		t.Fatalf("%d diffs: %+v", len(diffs), diffs)
	}
	checks := []struct {
		key, action string
		contains    []string
		absent      []string
	}{
		{"Namespace/shop", api.DiffCreate, []string{"--- live\n+++ desired\n", "+kind: Namespace"}, nil},
		{"Deployment/web", api.DiffUpdate, []string{"-      - image: nginx:1\n+      - image: nginx:2\n"}, []string{"resourceVersion", "uid:", "status:", AnnotationLastApplied}},
		{"Secret/creds", api.DiffUpdate, []string{"-  password: '*** (before)'", "+  password: '*** (after)'"}, []string{"hunter", "admin"}},
		{"ConfigMap/web-config", api.DiffDelete, []string{"-kind: ConfigMap", "-  greeting: hello"}, nil},
	}
	for _, c := range checks {
		d, ok := got[c.key]
		if !ok {
			t.Errorf("no diff for %s", c.key)
			continue
		}
		if d.Action != c.action {
			t.Errorf("%s: action %s, want %s", c.key, d.Action, c.action)
		}
		for _, s := range c.contains {
			if !strings.Contains(d.Diff, s) {
				t.Errorf("%s: diff lacks %q:\n%s", c.key, s, d.Diff)
			}
		}
		for _, s := range c.absent {
			if strings.Contains(d.Diff, s) {
				t.Errorf("%s: diff shows %q:\n%s", c.key, s, d.Diff)
			}
		}
	}
}

func TestDiffFiles(t *testing.T) {
	e := newEnv(t)
	e.deliver("r1", file("web.yaml", deployWeb("nginx:1", "")))
	diffs, err := e.c.DiffFiles(e.ctx, []sources.File{file("web.yaml", deployWeb("nginx:1", "")), file("cm.yaml", cmWeb)})
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || diffs[0].Kind != "ConfigMap" || diffs[0].Action != api.DiffCreate || strings.Contains(diffs[0].Diff, LabelSource) {
		t.Errorf("diffs: %+v", diffs)
	}
	_, err = e.c.DiffFiles(e.ctx, []sources.File{file("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: 1\n")})
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:6:") {
		t.Errorf("invalid files: %v", err)
	}
}
