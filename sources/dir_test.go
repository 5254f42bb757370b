package sources

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
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

// A file swapped between the walk and the open, for a link out of the
// folder or for a FIFO, is never read: the open goes through the folder's
// os.Root, without following a last link and without blocking.
func TestDirReadSwappedFile(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "src")
	writeFile(t, filepath.Join(root, "plain.yaml"), "kind: ConfigMap\n")
	secret := filepath.Join(base, "outside-secret.txt")
	writeFile(t, secret, "TOP-SECRET-OUTSIDE\n")
	if err := os.Symlink(secret, filepath.Join(root, "x.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	rt, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	r := &dirReader{root: rt, real: root, c: newCollector(Limits{}, "folder"), seen: map[fileID]bool{}}
	// What the walk saw as regular files are a link out and a FIFO now.
	if err := r.file("x.yaml", "x.yaml"); !errors.Is(err, errVanished) {
		t.Errorf("a file swapped for a link out of the folder: %v, want errVanished", err)
	}
	done := make(chan error, 1)
	go func() { done <- r.file("fifo.yaml", "fifo.yaml") }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("a FIFO: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO blocks")
	}
	files, skipped := r.c.result()
	if len(files) != 0 || len(skipped) != 1 || !strings.Contains(skipped[0], "fifo.yaml: not a regular file") {
		t.Errorf("files %v, skipped %q", paths(files), skipped)
	}
}

// The race itself: a file flips between a regular file and a link to a
// secret outside the folder while the folder is read again and again.
func TestDirReadRaceWithSymlinkSwap(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "src")
	writeFile(t, filepath.Join(dir, "plain.yaml"), "kind: ConfigMap\n")
	secret := filepath.Join(base, "outside-secret.txt")
	writeFile(t, secret, "TOP-SECRET-OUTSIDE\n")
	d, err := NewDir(DirOptions{Name: "d", Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	swapped := make(chan struct{})
	go func() {
		defer close(swapped)
		reg, lnk, tgt := filepath.Join(base, "reg.tmp"), filepath.Join(base, "lnk.tmp"), filepath.Join(dir, "x.yaml")
		for ctx.Err() == nil {
			os.WriteFile(reg, []byte("kind: ConfigMap\n"), 0o644)
			os.Rename(reg, tgt)
			os.Remove(lnk)
			os.Symlink(secret, lnk)
			os.Rename(lnk, tgt)
		}
	}()
	defer func() { <-swapped }()
	for n := 0; ctx.Err() == nil; n++ {
		snap, err := d.Latest(ctx)
		if err != nil {
			continue
		}
		for _, f := range snap.Files {
			if strings.Contains(string(f.Data), "TOP-SECRET") {
				t.Fatalf("after %d reads, %s holds the file outside the folder", n, f.Path)
			}
		}
	}
}

// A folder written to without pause is still read: events about files
// that are not manifests are ignored, and a stream of manifest changes
// is read at most MaxDelay after the first.
func TestDirNotStarvedByWrites(t *testing.T) {
	for _, tt := range []struct{ name, busy string }{
		{"log file", "app.log"},
		{"manifest", "busy.yaml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, "cm.yaml"), "a: 1\n")
			_, ch := runDir(t, DirOptions{Path: root})
			if u := nextUpdate(t, ch); u.err != nil {
				t.Fatal(u.err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			defer func() { cancel(); <-done }()
			go func() {
				defer close(done)
				for i := 0; ctx.Err() == nil; i++ {
					os.WriteFile(filepath.Join(root, tt.busy), []byte(fmt.Sprintf("# %d\n", i)), 0o644)
					time.Sleep(20 * time.Millisecond) // well within the debounce
				}
			}()
			time.Sleep(100 * time.Millisecond)
			start := time.Now()
			writeFile(t, filepath.Join(root, "cm.yaml"), "a: 2\n")
			for {
				select {
				case u := <-ch:
					if u.err != nil {
						t.Fatal(u.err)
					}
					for _, f := range u.snap.Files {
						if f.Path == "cm.yaml" && string(f.Data) == "a: 2\n" {
							if d := time.Since(start); d > 2*time.Second {
								t.Errorf("the edit was read after %v", d)
							}
							return
						}
					}
				case <-time.After(3 * time.Second):
					t.Fatal("the edit was not read within 3s of constant writes")
				}
			}
		})
	}
}

// A root that is a symbolic link switched atomically to another folder
// (as deploy tools do: current -> r1 replaced by current -> r2) is
// followed.
func TestDirRootLinkSwitch(t *testing.T) {
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "r1", "cm.yaml"), "r: 1\n")
	writeFile(t, filepath.Join(base, "r2", "cm.yaml"), "r: 2\n")
	cur := filepath.Join(base, "current")
	if err := os.Symlink("r1", cur); err != nil {
		t.Fatal(err)
	}
	_, ch := runDir(t, DirOptions{Path: cur})
	if u := nextUpdate(t, ch); u.err != nil || u.snap.Revision != revisionOf(map[string]string{"cm.yaml": "r: 1\n"}) {
		t.Fatalf("first: %+v", u)
	}
	tmp := filepath.Join(base, "current.tmp")
	if err := os.Symlink("r2", tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, cur); err != nil {
		t.Fatal(err)
	}
	u := nextUpdate(t, ch)
	if u.err != nil || u.snap.Revision != revisionOf(map[string]string{"cm.yaml": "r: 2\n"}) {
		t.Fatalf("after the switch: %+v", u)
	}
	// And r2 is watched now.
	writeFile(t, filepath.Join(base, "r2", "cm.yaml"), "r: 3\n")
	if u := nextUpdate(t, ch); u.err != nil || u.snap.Revision != revisionOf(map[string]string{"cm.yaml": "r: 3\n"}) {
		t.Fatalf("edit in r2: %+v", u)
	}
}

// No inotify watcher: the error is reported (the snapshot still
// applies), the folder is polled, and the watcher made again.
func TestDirWatcherFails(t *testing.T) {
	calls := 0
	newFSWatcher = func() (*fsnotify.Watcher, error) {
		calls++
		if calls <= 2 {
			return nil, errors.New("too many open files")
		}
		return fsnotify.NewWatcher()
	}
	defer func() { newFSWatcher = fsnotify.NewWatcher }()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.yaml"), "a: 1\n")
	_, ch := runDir(t, DirOptions{Path: root})
	want := revisionOf(map[string]string{"a.yaml": "a: 1\n"})
	if u := nextUpdate(t, ch); u.err != nil || u.snap.Revision != want {
		t.Fatalf("first: %+v", u)
	}
	if u := nextUpdate(t, ch); u.err == nil || !strings.Contains(u.err.Error(), "cannot watch") || !strings.Contains(u.err.Error(), "too many open files") {
		t.Fatalf("want the watcher's error, got %+v", u)
	}
	// Polled, the watcher is made again and the error cleared.
	if u := nextUpdate(t, ch); u.err != nil || u.snap.Revision != want {
		t.Fatalf("after the watcher came back: %+v", u)
	}
	writeFile(t, filepath.Join(root, "a.yaml"), "a: 2\n")
	if u := nextUpdate(t, ch); u.err != nil || u.snap.Revision != revisionOf(map[string]string{"a.yaml": "a: 2\n"}) {
		t.Fatalf("edit once watched: %+v", u)
	}
}

// A folder that cannot be watched (the inotify watch limit) is reported,
// and its changes are picked up by polling.
func TestDirWatchLimit(t *testing.T) {
	addWatch = func(w *fsnotify.Watcher, p string) error {
		if filepath.Base(p) == "deep" {
			return syscall.ENOSPC
		}
		return w.Add(p)
	}
	defer func() { addWatch = (*fsnotify.Watcher).Add }()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "deep", "a.yaml"), "a: 1\n")
	_, ch := runDir(t, DirOptions{Path: root})
	if u := nextUpdate(t, ch); u.err != nil {
		t.Fatal(u.err)
	}
	if u := nextUpdate(t, ch); u.err == nil || !strings.Contains(u.err.Error(), "cannot watch 1 folder") || !strings.Contains(u.err.Error(), "max_user_watches") {
		t.Fatalf("want the watch error, got %+v", u)
	}
	writeFile(t, filepath.Join(root, "deep", "a.yaml"), "a: 2\n")
	want := revisionOf(map[string]string{"deep/a.yaml": "a: 2\n"})
	if u := nextUpdate(t, ch); u.err != nil || u.snap.Revision != want {
		t.Fatalf("edit in the unwatched folder: %+v", u)
	}
}
