package store_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
)

func TestBoltReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "berth.db")
	s, err := store.OpenBolt(path, newClock())
	if err != nil {
		t.Fatal(err)
	}
	d := mustCreate(t, s, deployment("prod", "web"))
	mustCreate(t, s, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	for i := range 20 {
		mustCreate(t, s, pod("prod", fmt.Sprint("p", i), map[string]string{"i": fmt.Sprint(i)}))
	}
	s.Delete(ctx, "Pod", "prod", "p3", store.DeleteOptions{})
	d.Status.Replicas = 3
	d = mustUpdate(t, s, d)
	before, rvBefore, _ := s.List(ctx, "Pod", store.ListOptions{})
	s.Close()

	s, err = store.OpenBolt(path, newClock())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after, rvAfter, _ := s.List(ctx, "Pod", store.ListOptions{})
	if rvAfter != rvBefore || len(after) != len(before) || len(after) != 19 {
		t.Fatalf("after reopen: %d pods at %d, before %d at %d", len(after), rvAfter, len(before), rvBefore)
	}
	for i := range before {
		b, a := before[i].(*corev1.Pod), after[i].(*corev1.Pod)
		if a.Name != b.Name || a.UID != b.UID || a.ResourceVersion != b.ResourceVersion || !a.CreationTimestamp.Equal(&b.CreationTimestamp) || a.Kind != "Pod" {
			t.Fatalf("pod %d changed across reopen:\n%+v\n%+v", i, b.ObjectMeta, a.ObjectMeta)
		}
	}
	got := mustGet[*corev1.Pod](t, s, "Pod", "prod", "p7")
	if got.Labels["i"] != "7" {
		t.Fatalf("labels %v", got.Labels)
	}
	// Versions continue; uids stay unique.
	next := mustCreate(t, s, pod("prod", "new", nil))
	if rvOf(t, next) != rvBefore+1 {
		t.Fatalf("first version after reopen %d, want %d", rvOf(t, next), rvBefore+1)
	}
	for _, o := range after {
		if metaOf(o).GetUID() == next.UID {
			t.Fatal("uid reused after reopen")
		}
	}
	// Watches from before the restart are gone; from the restart on work.
	_, err = s.Watch(ctx, "", rvBefore-1)
	wantErr(t, err, store.ErrExpired, "")
	ch, err := s.Watch(ctx, "", rvBefore)
	if err != nil {
		t.Fatal(err)
	}
	if evs := receive(ch); len(evs) != 1 || evs[0].ResourceVersion != rvBefore+1 {
		t.Fatalf("watch from the reopen version got %+v", evs)
	}
	gen := mustGet[*corev1.Pod](t, s, "Pod", "prod", "new")
	gen.Spec.NodeName = "n1"
	if g := mustUpdate(t, s, gen); g.Generation != 2 {
		t.Fatalf("generation after reopen %d", g.Generation)
	}
}

func TestBoltLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	s, err := store.OpenBolt(path, newClock())
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, pod("default", "p", nil))
	start := time.Now()
	_, err = store.OpenBoltWithOptions(path, newClock(), store.Options{LockTimeout: 100 * time.Millisecond})
	want := "store file " + path + " is locked by another process (is another berth server running with this data dir?)"
	if err == nil || err.Error() != want || !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open: %v\nwant: %s", err, want)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("lock timeout took %v", d)
	}
	s.Close()
	s, err = store.OpenBolt(path, newClock())
	if err != nil {
		t.Fatalf("open after the holder closed: %v", err)
	}
	s.Close()
}

func TestBoltNotADirectoryOrFile(t *testing.T) {
	dir := t.TempDir()
	_, err := store.OpenBolt(dir, newClock())
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("opening a directory: %v", err)
	}
	_, err = store.OpenBolt(filepath.Join(dir, "missing", "berth.db"), newClock())
	if err == nil || !strings.Contains(err.Error(), "store file "+filepath.Join(dir, "missing", "berth.db")) {
		t.Fatalf("opening in a missing dir: %v", err)
	}
}

// validStore writes a store file with enough objects for several levels
// of pages, and returns its path.
func validStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "berth.db")
	s, err := store.OpenBolt(path, newClock())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Txn(context.Background(), func(tx store.Txn) error {
		for i := range 600 {
			p := pod("default", fmt.Sprintf("pod-%04d", i), map[string]string{"app": "web", "pod-template-hash": "7d4b9c"})
			p.Spec.Containers[0].Args = []string{strings.Repeat("x", 200)}
			if _, err := tx.Create(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	return path
}

// pageOf returns the id of the first page of type typ ("leaf", "branch")
// in the file, and the page size.
func pageOf(t *testing.T, path, typ string) (int, int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id := -1
	db.View(func(tx *bolt.Tx) error {
		for i := 2; ; i++ {
			info, err := tx.Page(i)
			if err != nil || info == nil {
				return err
			}
			// Skip the root bucket's pages: the damage should hit objects.
			if info.Type == typ && info.Count > 3 {
				id = i
				return nil
			}
		}
	})
	if id < 0 {
		t.Fatalf("no %s page in %s", typ, path)
	}
	return id, db.Info().PageSize
}

func overwritePage(t *testing.T, path, typ string, fill func([]byte)) {
	t.Helper()
	id, size := pageOf(t, path, typ)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, int64(id*size)); err != nil {
		t.Fatal(err)
	}
	fill(buf)
	if _, err := f.WriteAt(buf, int64(id*size)); err != nil {
		t.Fatal(err)
	}
}

func editBolt(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func zero(b []byte) { clear(b) }

// keepHeader fills a page with random bytes but keeps its 16-byte header
// (id, type, count), so bbolt trusts the page and follows garbage offsets.
func keepHeader(b []byte) {
	var hdr [16]byte
	copy(hdr[:], b)
	rand.Read(b)
	copy(b, hdr[:])
}

func TestBoltCorrupt(t *testing.T) {
	tests := []struct {
		name   string
		make   func(t *testing.T) string // returns the damaged file
		detail string
	}{
		{"random bytes", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "berth.db")
			os.WriteFile(path, []byte(rand.Text()+rand.Text()+strings.Repeat("\x07", 70000)), 0o600)
			return path
		}, "invalid database"},
		{"truncated", func(t *testing.T) string {
			path := validStore(t)
			info, _ := os.Stat(path)
			os.Truncate(path, info.Size()/2)
			return path
		}, "truncated"},
		{"zeroed leaf page", func(t *testing.T) string {
			path := validStore(t)
			overwritePage(t, path, "leaf", zero)
			return path
		}, ""},
		{"zeroed branch page", func(t *testing.T) string {
			path := validStore(t)
			overwritePage(t, path, "branch", zero)
			return path
		}, ""},
		{"garbage leaf page", func(t *testing.T) string {
			path := validStore(t)
			overwritePage(t, path, "leaf", func(b []byte) { rand.Read(b) })
			return path
		}, ""},
		{"garbage branch page", func(t *testing.T) string {
			path := validStore(t)
			overwritePage(t, path, "branch", func(b []byte) { rand.Read(b) })
			return path
		}, ""},
		{"garbage in a leaf page's elements", func(t *testing.T) string {
			path := validStore(t)
			overwritePage(t, path, "leaf", keepHeader)
			return path
		}, ""},
		{"garbage in a branch page's elements", func(t *testing.T) string {
			path := validStore(t)
			overwritePage(t, path, "branch", keepHeader)
			return path
		}, ""},
		{"both meta pages zeroed", func(t *testing.T) string {
			path := validStore(t)
			f, _ := os.OpenFile(path, os.O_RDWR, 0)
			f.WriteAt(make([]byte, 2*4096), 0)
			f.Close()
			return path
		}, ""},
		{"bad object JSON", func(t *testing.T) string {
			path := validStore(t)
			editBolt(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("Pod")).Put([]byte("default\x00pod-0007"), []byte("{not json"))
			})
			return path
		}, `Pod "default\x00pod-0007"`},
		{"unknown kind", func(t *testing.T) string {
			path := validStore(t)
			editBolt(t, path, func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("Widget"))
				return err
			})
			return path
		}, `kind "Widget"`},
		{"newer format", func(t *testing.T) string {
			path := validStore(t)
			editBolt(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte("2"))
			})
			return path
		}, "newer berth"},
		{"not a berth store", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "berth.db")
			editBolt(t, path, func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("etcd"))
				return err
			})
			return path
		}, "not a berth store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.make(t)
			before := fileHash(t, path)
			for range 2 { // the second open shows the first released the file
				_, err := store.OpenBoltWithOptions(path, newClock(), store.Options{LockTimeout: 200 * time.Millisecond})
				if err == nil {
					t.Fatal("opened a damaged file")
				}
				if !errors.Is(err, store.ErrCorrupt) {
					t.Fatalf("error %v does not wrap ErrCorrupt", err)
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, "store file "+path+" ") || !strings.HasSuffix(msg, "; move it away to start afresh (berth will not overwrite it)") {
					t.Fatalf("message %q", msg)
				}
				if !strings.Contains(msg, tt.detail) {
					t.Fatalf("message %q does not say %q", msg, tt.detail)
				}
				t.Log(msg)
			}
			if fileHash(t, path) != before {
				t.Fatal("opening changed the damaged file")
			}
		})
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestBoltCrash kills a writer process at random points (SIGKILL, no
// Close) and reopens its file each time: it opens, every write the writer
// saw return is there, and each transaction landed whole or not at all.
func TestBoltCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "berth.db")
	rnd := mrand.New(mrand.NewPCG(7, 7))
	acked := -1
	for round := range 24 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriter$")
		cmd.Env = append(os.Environ(), "BERTH_STORE_CRASH_WRITER="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Kill after a random number of acknowledged writes (or time).
		want := rnd.IntN(40)
		deadline := time.After(10 * time.Second)
	read:
		for seen := 0; ; {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: writer exited early", round)
				}
				if n, ok := strings.CutPrefix(l, "ok "); ok {
					acked, _ = strconv.Atoi(n)
					if seen++; seen > want {
						break read
					}
				}
			case <-deadline:
				t.Fatalf("round %d: writer too slow", round)
			}
		}
		time.Sleep(time.Duration(rnd.IntN(3000)) * time.Microsecond)
		cmd.Process.Kill()
		for l := range lines {
			// Lines written before the kill may still be in the pipe.
			if n, ok := strings.CutPrefix(l, "ok "); ok {
				acked, _ = strconv.Atoi(n)
			}
		}
		cmd.Wait()
		checkCrashState(t, path, acked)
	}
}

// checkCrashState opens the store a writer left and checks its invariants.
func checkCrashState(t *testing.T, path string, acked int) {
	t.Helper()
	ctx := context.Background()
	s, err := store.OpenBolt(path, newClock())
	if err != nil {
		t.Fatalf("reopen after a crash: %v", err)
	}
	defer s.Close()
	cm, err := s.Get(ctx, "ConfigMap", "default", "counter")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(cm.(*corev1.ConfigMap).Data["n"])
	if n < acked || n > acked+1 {
		t.Fatalf("counter %d, but the writer saw %d commit", n, acked)
	}
	pods, rv, _ := s.List(ctx, "Pod", store.ListOptions{})
	if len(pods) != min(n, 10) {
		t.Fatalf("%d pods for counter %d", len(pods), n)
	}
	for i, p := range pods {
		if want := fmt.Sprintf("p-%06d", n-len(pods)+i); metaOf(p).GetName() != want {
			t.Fatalf("pod %s, want %s", metaOf(p).GetName(), want)
		}
		if rvOf(t, p) > rv {
			t.Fatal("object newer than the store")
		}
	}
	if rvOf(t, cm) != rv {
		t.Fatalf("counter at %d, store at %d", rvOf(t, cm), rv)
	}
}

// TestCrashWriter is the writer process of TestBoltCrash: each transaction
// creates a pod, bumps a counter and deletes the pod from 10 rounds ago,
// and prints "ok <counter>" once it has returned.
func TestCrashWriter(t *testing.T) {
	path := os.Getenv("BERTH_STORE_CRASH_WRITER")
	if path == "" {
		t.Skip("run by TestBoltCrash")
	}
	ctx := context.Background()
	s, err := store.OpenBolt(path, newClock())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := s.Get(ctx, "ConfigMap", "default", "counter"); errors.Is(err, store.ErrNotFound) {
		s.Create(ctx, configMap("default", "counter"))
	}
	for {
		var n int
		err := s.Txn(ctx, func(tx store.Txn) error {
			obj, err := tx.Get("ConfigMap", "default", "counter")
			if err != nil {
				return err
			}
			cm := obj.(*corev1.ConfigMap)
			n, _ = strconv.Atoi(cm.Data["n"])
			if _, err := tx.Create(pod("default", fmt.Sprintf("p-%06d", n), nil)); err != nil {
				return err
			}
			if n >= 10 {
				if err := tx.Delete("Pod", "default", fmt.Sprintf("p-%06d", n-10), store.DeleteOptions{}); err != nil {
					return err
				}
			}
			cm.Data = map[string]string{"n": strconv.Itoa(n + 1)}
			_, err = tx.Update(cm)
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Printf("ok %d\n", n+1)
	}
}
