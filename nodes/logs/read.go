package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// ErrNotFound is wrapped by Read's errors when there is no log to read:
// an unknown pod, a container that has not run, no previous run.
var ErrNotFound = errors.New("container log not found")

type notFoundError string

func (e notFoundError) Error() string        { return string(e) }
func (e notFoundError) Is(target error) bool { return target == ErrNotFound }

// Ref names the container whose log to read.
type Ref struct {
	Namespace string
	Pod       string
	// UID picks one incarnation of the pod; "" takes the one that logged
	// last.
	UID       string
	Container string
}

// Options says which run to read and how.
type Options struct {
	// Previous reads the run before the current one (kubectl logs -p).
	Previous bool
	// Follow keeps reading the current run as it grows (kubectl logs -f)
	// until ctx is done, a newer run starts, or Running says the
	// container stopped. Ignored with Previous: that run is over.
	Follow bool
	// Running, if set, is asked while following, whenever the log has
	// been read to its end: false ends the follow.
	Running func() bool
	// Poll is how often a follow looks for changes besides file-system
	// events (default 1s; 250ms when events are unavailable).
	Poll time.Duration
}

// Read sends the lines of one run of a container, oldest first, to emit,
// from the log files under root (the runtime's log directory). An error
// of emit stops the read and is returned. A follow ended by ctx returns
// ctx's error.
func Read(ctx context.Context, root string, ref Ref, opts Options, emit func(Line) error) error {
	podDir, err := findPodDir(root, ref)
	if err != nil {
		return err
	}
	cdir := filepath.Join(podDir, ref.Container)
	attempts, err := runs(cdir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read logs of container %q in pod %q: %w", ref.Container, ref.Pod, err)
	}
	if len(attempts) == 0 {
		return notFoundError(fmt.Sprintf("container %q in pod %q has no log yet (not started, or not a container of this pod%s)",
			ref.Container, ref.Pod, containersWithLogs(podDir)))
	}
	run := attempts[len(attempts)-1]
	if opts.Previous {
		if len(attempts) < 2 {
			return notFoundError(fmt.Sprintf("previous terminated container %q in pod %q not found", ref.Container, ref.Pod))
		}
		run = attempts[len(attempts)-2]
	}
	t := &tail{dec: newDecoder(), emit: emit}
	base := filepath.Join(cdir, fmt.Sprintf("%d.log", run))
	if err := t.readFile(base + ".1"); err != nil {
		return err
	}
	f, err := os.Open(base)
	if errors.Is(err, os.ErrNotExist) {
		return t.finish() // rotated away just now, or pruned
	}
	if err != nil {
		return fmt.Errorf("read container log: %w", err)
	}
	defer func() { f.Close() }()
	if err := t.readAll(f); err != nil {
		return err
	}
	if !opts.Follow || opts.Previous {
		return t.finish()
	}
	return t.follow(ctx, cdir, base, run, &f, opts)
}

// tail reads CRI log files into whole lines.
type tail struct {
	dec  *decoder
	emit func(Line) error
	buf  []byte // the unfinished last line of the file being read
	rbuf []byte
}

// readFile reads a whole file; a missing one is fine.
func (t *tail) readFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read container log: %w", err)
	}
	defer f.Close()
	if err := t.readAll(f); err != nil {
		return err
	}
	t.buf = t.buf[:0] // a torn last line does not continue in the next file
	return nil
}

// readAll reads f from where it is to its end, emitting each complete
// line; an unterminated last line waits in t.buf for more.
func (t *tail) readAll(f *os.File) error {
	if t.rbuf == nil {
		t.rbuf = make([]byte, 32<<10)
	}
	for {
		n, err := f.Read(t.rbuf)
		t.buf = append(t.buf, t.rbuf[:n]...)
		for {
			i := bytes.IndexByte(t.buf, '\n')
			if i < 0 {
				break
			}
			line, ok, perr := t.dec.feed(t.buf[:i])
			t.buf = t.buf[i+1:]
			if perr == nil && ok {
				if err := t.emit(line); err != nil {
					return err
				}
			}
			// A line that does not parse is skipped, as kubelet does.
		}
		t.buf = append(t.buf[:0:0], t.buf...)
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read container log: %w", err)
		}
	}
}

// finish emits the pieces of lines that never got their end.
func (t *tail) finish() error {
	for _, l := range t.dec.flush() {
		if err := t.emit(l); err != nil {
			return err
		}
	}
	return nil
}

// follow reads *f as it grows, moving to the new file when the writer
// rotates (renames base to base.1 and creates base again).
func (t *tail) follow(ctx context.Context, cdir, base string, run uint64, f **os.File, opts Options) error {
	poll := opts.Poll
	var events chan fsnotify.Event
	var errs chan error
	if w, err := fsnotify.NewWatcher(); err == nil {
		defer w.Close()
		if w.Add(cdir) == nil {
			events, errs = w.Events, w.Errors
		}
	}
	if poll <= 0 {
		poll = time.Second
		if events == nil {
			poll = 250 * time.Millisecond
		}
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		// Whether the run is over is asked on the tick and when a file
		// appears, not on every write.
		check := true
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-events:
			check = ev.Has(fsnotify.Create)
		case <-errs: // an event queue overflow: the tick catches up
		case <-tick.C:
		}
		if err := t.readAll(*f); err != nil {
			return err
		}
		rotated, err := t.reopenIfRotated(base, f)
		if err != nil {
			return err
		}
		if rotated || !check {
			continue
		}
		// The run is over when a newer one logs (its output was drained
		// before the next run started) or the caller says so.
		if attempts, _ := runs(cdir); len(attempts) > 0 && attempts[len(attempts)-1] > run ||
			opts.Running != nil && !opts.Running() {
			if err := t.readAll(*f); err != nil {
				return err
			}
			return t.finish()
		}
	}
}

// reopenIfRotated moves to the file now at base if it is not *f any more,
// after reading the rest of *f (the writer closed it before renaming).
func (t *tail) reopenIfRotated(base string, f **os.File) (bool, error) {
	cur, err1 := (*f).Stat()
	now, err2 := os.Stat(base)
	if err1 != nil || err2 != nil || os.SameFile(cur, now) {
		return false, nil
	}
	if err := t.readAll(*f); err != nil {
		return false, err
	}
	t.buf = t.buf[:0]
	nf, err := os.Open(base)
	if err != nil {
		return false, nil // gone again: look later
	}
	(*f).Close()
	*f = nf
	return true, t.readAll(nf)
}

// findPodDir is the pod's log directory: the given UID's, or the one
// written last.
func findPodDir(root string, ref Ref) (string, error) {
	notFound := notFoundError(fmt.Sprintf("no logs of pod %q in namespace %q under %s", ref.Pod, ref.Namespace, root))
	if ref.UID != "" {
		dir := PodDir(root, ref.Namespace, ref.Pod, ref.UID)
		if _, err := os.Stat(dir); err != nil {
			return "", notFound
		}
		return dir, nil
	}
	dirs, _ := filepath.Glob(PodDir(root, ref.Namespace, ref.Pod, "*"))
	var best string
	var bestTime time.Time
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil || !st.IsDir() {
			continue
		}
		if best == "" || st.ModTime().After(bestTime) {
			best, bestTime = d, st.ModTime()
		}
	}
	if best == "" {
		return "", notFound
	}
	return best, nil
}

// containersWithLogs names the containers of a pod that have logs, for an
// error message.
func containersWithLogs(podDir string) string {
	entries, _ := os.ReadDir(podDir)
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	return "; containers with logs: " + strings.Join(names, ", ")
}
