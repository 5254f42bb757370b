package sources

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

type update struct {
	snap Snapshot
	err  error
}

// runDir runs a folder source until the test ends and returns its
// updates.
func runDir(t testing.TB, opts DirOptions) (*Dir, <-chan update) {
	t.Helper()
	d, err := NewDir(opts)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan update, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx, func(s Snapshot, err error) { ch <- update{s, err} })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return d, ch
}

func nextUpdate(t testing.TB, ch <-chan update) update {
	t.Helper()
	select {
	case u := <-ch:
		return u
	case <-time.After(5 * time.Second):
		t.Fatal("no update within 5s")
	}
	return update{}
}

// noUpdate checks that nothing more arrives within a few debounces.
func noUpdate(t testing.TB, ch <-chan update) {
	t.Helper()
	select {
	case u := <-ch:
		t.Fatalf("unexpected update: revision %s, err %v", u.snap.Revision, u.err)
	case <-time.After(250 * time.Millisecond):
	}
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func revisionOf(files map[string]string) string {
	var fs []File
	for p, c := range files {
		fs = append(fs, File{Path: p, Data: []byte(c)})
	}
	c := newCollector(Limits{}, "folder")
	c.files = fs
	sorted, _ := c.result()
	return folderRevision(sorted)
}

func TestDirChanges(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.yaml"), "a: 1\n")
	writeFile(t, filepath.Join(root, "notes.txt"), "not a manifest")
	_, ch := runDir(t, DirOptions{Path: root, Name: "site"})

	want := map[string]string{"a.yaml": "a: 1\n"}
	u := nextUpdate(t, ch)
	if u.err != nil || u.snap.Revision != revisionOf(want) || u.snap.Source != "site" {
		t.Fatalf("first snapshot %+v, want revision %s", u, revisionOf(want))
	}
	steps := []struct {
		name   string
		do     func(t *testing.T)
		want   map[string]string // nil: no new snapshot
		remove []string
	}{
		{"edit", func(t *testing.T) { writeFile(t, filepath.Join(root, "a.yaml"), "a: 2\n") },
			map[string]string{"a.yaml": "a: 2\n"}, nil},
		{"atomic save", func(t *testing.T) {
			tmp := filepath.Join(root, ".a.yaml.tmp123")
			writeFile(t, tmp, "a: 3\n")
			if err := os.Rename(tmp, filepath.Join(root, "a.yaml")); err != nil {
				t.Fatal(err)
			}
		}, map[string]string{"a.yaml": "a: 3\n"}, nil},
		{"vim's backup dance", func(t *testing.T) {
			p := filepath.Join(root, "a.yaml")
			writeFile(t, filepath.Join(root, "4913"), "")
			os.Remove(filepath.Join(root, "4913"))
			if err := os.Rename(p, p+"~"); err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, "a: 4\n")
			os.Remove(p + "~")
		}, map[string]string{"a.yaml": "a: 4\n"}, nil},
		{"save without a change", func(t *testing.T) { writeFile(t, filepath.Join(root, "a.yaml"), "a: 4\n") },
			nil, nil},
		{"non-manifest file", func(t *testing.T) { writeFile(t, filepath.Join(root, "notes.txt"), "changed") },
			nil, nil},
		{"new sub-folder", func(t *testing.T) { writeFile(t, filepath.Join(root, "apps", "web", "w.yml"), "w: 1\n") },
			map[string]string{"a.yaml": "a: 4\n", "apps/web/w.yml": "w: 1\n"}, nil},
		{"edit in the new sub-folder", func(t *testing.T) { writeFile(t, filepath.Join(root, "apps", "web", "w.yml"), "w: 2\n") },
			map[string]string{"a.yaml": "a: 4\n", "apps/web/w.yml": "w: 2\n"}, nil},
		{"dot-folder", func(t *testing.T) { writeFile(t, filepath.Join(root, ".github", "ci.yaml"), "on: push\n") },
			nil, nil},
		{"delete", func(t *testing.T) {
			if err := os.Remove(filepath.Join(root, "a.yaml")); err != nil {
				t.Fatal(err)
			}
		}, map[string]string{"apps/web/w.yml": "w: 2\n"}, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do(t)
			if s.want == nil {
				noUpdate(t, ch)
				return
			}
			u := nextUpdate(t, ch)
			if u.err != nil {
				t.Fatal(u.err)
			}
			if u.snap.Revision != revisionOf(s.want) {
				var got []string
				for _, f := range u.snap.Files {
					got = append(got, f.Path+"="+string(f.Data))
				}
				t.Fatalf("snapshot %v, want %v", got, s.want)
			}
			noUpdate(t, ch)
		})
	}
}

func TestDirSymlinksAndLimits(t *testing.T) {
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret.yaml"), "password: hunter2\n")
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "real", "a.yaml"), "a: 1\n")
	writeFile(t, filepath.Join(root, "big.yaml"), strings.Repeat("#\n", 1000))
	writeFile(t, filepath.Join(root, "image.png"), "\x89PNG\x00\x00")
	for link, target := range map[string]string{
		"in.yaml":      filepath.Join(root, "real", "a.yaml"),
		"view":         filepath.Join(root, "real"),
		"out.yaml":     filepath.Join(outside, "secret.yaml"),
		"outdir":       outside,
		"dangling.yml": filepath.Join(root, "nothing.yaml"),
		"loop":         root,
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := NewDir(DirOptions{Path: root, Limits: Limits{MaxFileSize: 1024}})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := d.read()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(snap.Files), []string{"in.yaml", "real/a.yaml"}; !reflect.DeepEqual(got, want) {
		// "view" is the same folder as "real": read once.
		t.Errorf("files %v, want %v", got, want)
	}
	wantSkipped := []string{
		"big.yaml: larger than 1 KiB (1.9 KiB)",
		"dangling.yml: a symbolic link to nothing",
		"out.yaml: a symbolic link to a path outside the folder",
		"outdir: a symbolic link to a path outside the folder",
	}
	if len(snap.Skipped) != len(wantSkipped) {
		t.Fatalf("skipped %q, want %q", snap.Skipped, wantSkipped)
	}
	for i := range wantSkipped {
		if !strings.HasPrefix(snap.Skipped[i], strings.SplitN(wantSkipped[i], " (", 2)[0]) {
			t.Errorf("skipped[%d] = %q, want %q", i, snap.Skipped[i], wantSkipped[i])
		}
	}
	for _, f := range snap.Files {
		if strings.Contains(string(f.Data), "hunter2") {
			t.Errorf("%s holds a file outside the folder", f.Path)
		}
	}

	_, err = (&Dir{opts: DirOptions{Name: "x", Limits: Limits{MaxFiles: 1}}, root: root, clock: d.clock}).read()
	if err == nil || !strings.Contains(err.Error(), "huge folder") {
		t.Errorf("err %v, want a huge folder", err)
	}
}

func TestDirDisappears(t *testing.T) {
	root := filepath.Join(t.TempDir(), "manifests")
	writeFile(t, filepath.Join(root, "a.yaml"), "a: 1\n")
	_, ch := runDir(t, DirOptions{Path: root})
	first := nextUpdate(t, ch)
	if first.err != nil {
		t.Fatal(first.err)
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	u := nextUpdate(t, ch)
	if u.err == nil || !strings.Contains(u.err.Error(), root+" is gone") {
		t.Fatalf("update %+v, want an error saying the folder is gone", u)
	}
	writeFile(t, filepath.Join(root, "b.yaml"), "b: 1\n")
	u = nextUpdate(t, ch)
	if u.err != nil || u.snap.Revision != revisionOf(map[string]string{"b.yaml": "b: 1\n"}) {
		t.Fatalf("after the folder came back: %+v", u)
	}
	// Watched again: an edit is seen.
	writeFile(t, filepath.Join(root, "b.yaml"), "b: 2\n")
	u = nextUpdate(t, ch)
	if u.err != nil || u.snap.Revision != revisionOf(map[string]string{"b.yaml": "b: 2\n"}) {
		t.Fatalf("edit after the folder came back: %+v", u)
	}
}

func TestDirAt(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.yaml"), "a: 1\n")
	d, err := NewDir(DirOptions{Path: root})
	if err != nil {
		t.Fatal(err)
	}
	rev := revisionOf(map[string]string{"a.yaml": "a: 1\n"})
	if snap, err := d.At(context.Background(), rev); err != nil || snap.Revision != rev {
		t.Fatalf("At(current) = %s, %v", snap.Revision, err)
	}
	if _, err := d.At(context.Background(), "0123456"); err == nil || !strings.Contains(err.Error(), "only its current content") {
		t.Fatalf("At(other) err %v", err)
	}
	if s := d.Spec(); s.Type != TypeDir || s.URL != root || d.Name() != filepath.Base(root) {
		t.Errorf("spec %+v name %q", s, d.Name())
	}
}

// BenchmarkDirChange measures an edit to a watched folder until its
// snapshot is delivered, debounce (100 ms) included.
func BenchmarkDirChange(b *testing.B) {
	root := b.TempDir()
	writeFile(b, filepath.Join(root, "app", "web.yaml"), deployYAML)
	_, ch := runDir(b, DirOptions{Path: root})
	nextUpdate(b, ch)
	b.ResetTimer()
	for i := range b.N {
		writeFile(b, filepath.Join(root, "app", "web.yaml"), fmt.Sprintf("%s# %d\n", deployYAML, i))
		if u := nextUpdate(b, ch); u.err != nil {
			b.Fatal(u.err)
		}
	}
}
