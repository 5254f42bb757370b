package workloads

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadFilesMatchesLoad(t *testing.T) {
	files := []File{
		{Path: "apps/web.yaml", Data: []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        imagePullpolicy: Always\n")},
		{Path: "cm.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n")},
	}
	dir := t.TempDir()
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	wantObjs, wantDiags, wantSum := Load(paths)
	gotObjs, gotDiags, gotSum := LoadFiles(files)
	if diff := cmp.Diff(wantSum, gotSum); diff != "" {
		t.Errorf("summary (-Load +LoadFiles):\n%s", diff)
	}
	if len(gotObjs) != len(wantObjs) {
		t.Fatalf("LoadFiles: %d objects, Load: %d", len(gotObjs), len(wantObjs))
	}
	if len(gotDiags) != len(wantDiags) {
		t.Fatalf("LoadFiles: %v\nLoad: %v", gotDiags, wantDiags)
	}
	for i := range gotDiags {
		g, w := gotDiags[i], wantDiags[i]
		w.Pos.File = g.Pos.File // Load names files by their full path
		if g.String() != w.String() {
			t.Errorf("diagnostic %d: got %s, want %s", i, g, w)
		}
	}
	if got := gotDiags[0].Pos.File; got != "apps/web.yaml" {
		t.Errorf("finding names %q, want the file's Path", got)
	}
}

func TestLoadFilesEmpty(t *testing.T) {
	_, diags, sum := LoadFiles(nil)
	if sum.Errors != 1 || len(diags) != 1 || diags[0].Rule != RuleNoDocuments {
		t.Fatalf("got %v, %+v; want one %s error", diags, sum, RuleNoDocuments)
	}
}
