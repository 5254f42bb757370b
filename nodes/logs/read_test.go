package logs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeRun writes CRI lines ("stream tag text") as run attempt's file;
// rotated lines go to <file>.1.
func writeRun(t *testing.T, podDir, container string, attempt uint32, rotated, current []string) string {
	t.Helper()
	path := RunPath(podDir, container, attempt)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if rotated != nil {
		writeCRI(t, path+".1", rotated)
	}
	writeCRI(t, path, current)
	return path
}

func writeCRI(t *testing.T, path string, lines []string) {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s %s\n", time.Now().UTC().Format(TimeFormat), l)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
}

func readAllLines(t *testing.T, root string, ref Ref, opts Options) ([]string, error) {
	t.Helper()
	var got []string
	err := Read(context.Background(), root, ref, opts, func(l Line) error {
		got = append(got, l.Stream+" "+l.Text)
		return nil
	})
	return got, err
}

func TestReadRuns(t *testing.T) {
	root := t.TempDir()
	pod := PodDir(root, "default", "web", "uid-1")
	writeRun(t, pod, "app", 0, nil, []string{"stdout F run0"})
	writeRun(t, pod, "app", 1, []string{"stdout F a", "stderr P b1"}, []string{"stderr F b2", "stdout P c1", "stdout F c2"})
	writeRun(t, pod, "app", 2, nil, []string{"stdout F run2", "stdout P unfinished"})
	writeRun(t, pod, "one", 0, nil, []string{"stdout F only"})
	ref := Ref{Namespace: "default", Pod: "web", Container: "app"}
	tests := []struct {
		name    string
		ref     Ref
		opts    Options
		want    []string
		wantErr string
	}{
		{name: "current", ref: ref, want: []string{"stdout run2", "stdout unfinished"}},
		{name: "previous spans the rotated file", ref: ref, opts: Options{Previous: true},
			want: []string{"stdout a", "stderr b1b2", "stdout c1c2"}},
		{name: "by uid", ref: Ref{Namespace: "default", Pod: "web", UID: "uid-1", Container: "one"}, want: []string{"stdout only"}},
		{name: "no previous run", ref: Ref{Namespace: "default", Pod: "web", Container: "one"}, opts: Options{Previous: true},
			wantErr: `previous terminated container "one" in pod "web" not found`},
		{name: "unknown container", ref: Ref{Namespace: "default", Pod: "web", Container: "nope"},
			wantErr: `container "nope" in pod "web" has no log yet (not started, or not a container of this pod; containers with logs: app, one)`},
		{name: "unknown pod", ref: Ref{Namespace: "default", Pod: "gone", Container: "app"}, wantErr: `no logs of pod "gone"`},
		{name: "wrong uid", ref: Ref{Namespace: "default", Pod: "web", UID: "uid-2", Container: "app"}, wantErr: `no logs of pod "web"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAllLines(t, root, tt.ref, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrNotFound) {
					t.Fatalf("error = %v, want %q (and ErrNotFound)", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadSkipsBadLinesAndStopsOnEmitError(t *testing.T) {
	root := t.TempDir()
	path := writeRun(t, PodDir(root, "ns", "p", "u"), "c", 0, nil, []string{"stdout F one"})
	if err := os.WriteFile(path, append(must(os.ReadFile(path)), "garbage\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	writeCRI(t, path, []string{"stdout F two"})
	ref := Ref{Namespace: "ns", Pod: "p", Container: "c"}
	got, err := readAllLines(t, root, ref, Options{})
	if err != nil || !slices.Equal(got, []string{"stdout one", "stdout two"}) {
		t.Fatalf("got %q, %v", got, err)
	}
	stop := errors.New("enough")
	n := 0
	err = Read(context.Background(), root, ref, Options{}, func(Line) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("emit error: got %v after %d lines", err, n)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestPrune(t *testing.T) {
	pod := PodDir(t.TempDir(), "ns", "p", "u")
	for a := uint32(0); a < 4; a++ {
		writeRun(t, pod, "c", a, []string{"stdout F old"}, []string{"stdout F x"})
	}
	if err := os.WriteFile(filepath.Join(pod, "c", "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Attempt 4 starts: 3 is the previous run, 0..2 go.
	if err := Prune(RunPath(pod, "c", 4)); err != nil {
		t.Fatal(err)
	}
	var names []string
	entries, _ := os.ReadDir(filepath.Join(pod, "c"))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"3.log", "3.log.1", "notes.txt"}
	if !slices.Equal(names, want) {
		t.Errorf("left %q, want %q", names, want)
	}
	// Other shapes of path are left alone.
	if err := Prune(filepath.Join(pod, "c", "custom.log")); err != nil {
		t.Fatal(err)
	}
}

// TestFollow follows a run through a rotation until the next run starts.
func TestFollow(t *testing.T) {
	root := t.TempDir()
	pod := PodDir(root, "ns", "p", "u")
	path := writeRun(t, pod, "c", 0, nil, []string{"stdout F first"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []string
	lines := make(chan struct{}, 100)
	done := make(chan error, 1)
	go func() {
		done <- Read(ctx, root, Ref{Namespace: "ns", Pod: "p", Container: "c"}, Options{Follow: true, Poll: 50 * time.Millisecond},
			func(l Line) error {
				mu.Lock()
				got = append(got, l.Text)
				mu.Unlock()
				lines <- struct{}{}
				return nil
			})
	}()
	wait := func(n int) {
		t.Helper()
		for range n {
			select {
			case <-lines:
			case <-ctx.Done():
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("timed out; got %q", got)
			}
		}
	}
	wait(1)
	writeCRI(t, path, []string{"stdout P sec", "stdout F ond"})
	wait(1)
	// Rotation, as the writer does it: rename, then a new file.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	writeCRI(t, path, []string{"stderr F third"})
	wait(1)
	writeCRI(t, path, []string{"stdout F last"})
	writeRun(t, pod, "c", 1, nil, []string{"stdout F next run"})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []string{"first", "second", "third", "last"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFollowEndsWhenNotRunning(t *testing.T) {
	root := t.TempDir()
	writeRun(t, PodDir(root, "ns", "p", "u"), "c", 0, nil, []string{"stdout F only"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n := 0
	err := Read(ctx, root, Ref{Namespace: "ns", Pod: "p", Container: "c"},
		Options{Follow: true, Poll: 20 * time.Millisecond, Running: func() bool { return false }},
		func(Line) error { n++; return nil })
	if err != nil || n != 1 {
		t.Fatalf("got %d lines, %v", n, err)
	}
}
