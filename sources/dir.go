package sources

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"k8s.io/utils/clock"
)

// Defaults of a folder source.
const (
	// DefaultDebounce is how long a folder must stay quiet before it is
	// read: long enough to gather an editor's save (temp file, rename,
	// backup), short enough that an edit is applied well within 300 ms.
	DefaultDebounce = 100 * time.Millisecond
	// missingRetry is how often a folder that is gone is looked for.
	missingRetry = time.Second
	// DefaultMaxDelay caps the wait after a change: a folder written to
	// without pause is read at most this long after the first change not
	// read yet, however often each new change restarts the debounce.
	DefaultMaxDelay = time.Second
	// pollInterval is how often a folder is read when it cannot be
	// watched (no inotify instance, or the watch limit reached).
	pollInterval = 2 * time.Second
)

// DirOptions configure a folder source.
type DirOptions struct {
	// Name of the source (default: the folder's base name).
	Name string
	// Path is the folder. It may be missing when the source starts: Run
	// reports it and picks the folder up when it appears.
	Path string
	// Spec, if given, supplies Path (its URL) when Path is empty.
	Spec SourceSpec
	// Debounce is the quiet time after a change before the folder is read
	// (default DefaultDebounce).
	Debounce time.Duration
	// MaxDelay caps the wait after the first change not read yet
	// (default DefaultMaxDelay).
	MaxDelay time.Duration
	// Limits bound a snapshot (zero: the defaults).
	Limits Limits
	// Clock paces debouncing and the search for a missing folder
	// (default: the real clock).
	Clock clock.Clock
	// Log receives a debug line per new revision (default: discarded).
	Log *slog.Logger
}

// Dir is a Source reading a folder, watched with fsnotify (sub-folders
// included, also those created later). Its revision is the hex SHA-256
// of its files' paths and contents, so an edit that changes nothing
// (an editor's save of the same bytes) yields no new snapshot.
type Dir struct {
	opts    DirOptions
	root    string
	clock   clock.Clock
	trigger chan struct{}

	mu sync.Mutex // serialises reads (Run and At)
}

var _ Source = (*Dir)(nil)

// NewDir returns a folder source.
func NewDir(opts DirOptions) (*Dir, error) {
	if opts.Path == "" {
		opts.Path = opts.Spec.URL
	}
	if opts.Path == "" {
		return nil, errors.New("folder source: no folder given")
	}
	root, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("folder source %s: %w", opts.Path, err)
	}
	if opts.Name == "" {
		opts.Name = NameFromURL(root)
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Dir{opts: opts, root: root, clock: opts.Clock, trigger: make(chan struct{}, 1)}, nil
}

// Name implements Source.
func (d *Dir) Name() string { return d.opts.Name }

// Spec implements Source: the configured spec (DirOptions.Spec, with
// AllowPruneAll and whatever else it carries), its URL the folder's
// absolute path.
func (d *Dir) Spec() SourceSpec {
	s := d.opts.Spec
	s.Type, s.URL = TypeDir, d.root
	return s
}

// Trigger implements Source: Run reads the folder at once.
func (d *Dir) Trigger() {
	select {
	case d.trigger <- struct{}{}:
	default:
	}
}

// Latest implements Source: the folder's content now.
func (d *Dir) Latest(context.Context) (Snapshot, error) { return d.read() }

// At implements Source: a folder has only its current content, so it
// succeeds only for the current revision.
func (d *Dir) At(ctx context.Context, revision string) (Snapshot, error) {
	snap, err := d.read()
	if err != nil {
		return Snapshot{}, err
	}
	if revision != snap.Revision {
		return Snapshot{}, fmt.Errorf("folder source %s: revision %s is gone; a folder has only its current content (revision %s)",
			d.opts.Name, revision, snap.Revision)
	}
	return snap, nil
}

// Run implements Source: it reads the folder now and after each burst of
// changes to manifests or folders (once quiet for Debounce, at most
// MaxDelay after the first change) or Trigger. A folder that is gone is
// an error, looked for again every second. The root's parent is watched
// too, so that a root that is a symbolic link switched atomically to
// another folder (current -> r1 replaced by current -> r2) is followed.
// When the folder cannot be watched (no inotify instance, or the limit of
// watches reached), Run reports it as an error (the last revision read
// still applies) and reads the folder every few seconds until it can.
func (d *Dir) Run(ctx context.Context, update func(Snapshot, error)) {
	var (
		ws         *watchSet
		watcherErr error // why there is no watcher
		events     <-chan fsnotify.Event
		errs       <-chan error
	)
	newWatcher := func() {
		w, err := newFSWatcher()
		if err != nil {
			watcherErr = fmt.Errorf("folder source %s: cannot watch %s (%w); reading it every %s instead", d.opts.Name, d.root, err, pollInterval)
			return
		}
		watcherErr = nil
		ws = &watchSet{w: w, root: d.root, dirs: map[string]bool{}}
		events, errs = w.Events, w.Errors
	}
	newWatcher()
	defer func() {
		if ws != nil {
			ws.w.Close()
		}
	}()

	var (
		last        string // revision passed last; "" after an error
		lastErr     string // error passed last; "" after a snapshot
		timer       clock.Timer
		fire        <-chan time.Time
		firstUnread time.Time // first change not read yet; zero if none
	)
	arm := func(after time.Duration) {
		if timer != nil {
			timer.Stop()
		}
		timer = d.clock.NewTimer(after)
		fire = timer.C()
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	changed := func() {
		now := d.clock.Now()
		if firstUnread.IsZero() {
			firstUnread = now
		}
		arm(max(0, min(d.opts.Debounce, d.opts.MaxDelay-now.Sub(firstUnread))))
	}
	readNow := func() {
		fire, firstUnread = nil, time.Time{}
		if ws == nil {
			newWatcher() // try again
		}
		watchErr := watcherErr
		if ws != nil {
			watchErr = ws.sync()
			if watchErr != nil {
				watchErr = fmt.Errorf("folder source %s: %w; reading the folder every %s instead", d.opts.Name, watchErr, pollInterval)
			}
		}
		snap, err := d.read()
		if errors.Is(err, errVanished) {
			arm(d.opts.Debounce) // caught mid-save: read again once quiet
			return
		}
		if err != nil {
			if err.Error() != lastErr {
				lastErr = err.Error()
				update(Snapshot{}, err)
			}
			last = ""
			arm(missingRetry)
			return
		}
		fresh := snap.Revision != last
		if fresh || (lastErr != "" && watchErr == nil) {
			// New, or the same after an error: the snapshot clears it.
			last = snap.Revision
			if fresh {
				d.opts.Log.Debug("folder source: new revision", "source", d.opts.Name, "revision", snap.Revision, "files", len(snap.Files))
			}
			update(snap, nil)
			lastErr = ""
		}
		if watchErr != nil {
			// The snapshot applies; the status says why changes may be
			// seen late.
			if fresh || watchErr.Error() != lastErr {
				lastErr = watchErr.Error()
				update(Snapshot{}, watchErr)
			}
			arm(pollInterval)
		}
	}

	readNow()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.trigger:
			readNow()
		case <-fire:
			readNow()
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				ws.forget(ev.Name)
			}
			if ws.isRoot(ev.Name) {
				// The root itself (also seen from its parent): replaced,
				// or a link switched to another folder.
				changed()
				continue
			}
			if filepath.Dir(ev.Name) == ws.parent {
				continue // a sibling of the root
			}
			if ev.Has(fsnotify.Create) {
				// Watch a new sub-folder before files land in it; the
				// read that follows walks it whole anyway.
				if info, err := os.Lstat(ev.Name); err == nil && info.IsDir() {
					ws.sync()
				}
			}
			if ws.relevant(ev) {
				changed()
			}
		case _, ok := <-errs:
			if !ok {
				return
			}
			// An overflow loses events: read the folder to be sure.
			changed()
		}
	}
}

// newFSWatcher and addWatch make the inotify watcher and its watches;
// tests replace them to fail.
var (
	newFSWatcher = fsnotify.NewWatcher
	addWatch     = (*fsnotify.Watcher).Add
)

// watchSet keeps an fsnotify watch on every folder of the tree, and on
// the root's parent.
type watchSet struct {
	w      *fsnotify.Watcher
	root   string
	rootID fileID
	dirs   map[string]bool
	// parent is the root's parent folder, once watched.
	parent string
}

// isRoot reports whether an event's path is the root itself.
func (ws *watchSet) isRoot(name string) bool { return filepath.Clean(name) == ws.root }

// relevant reports whether an event may change a snapshot: one about a
// manifest, a folder (or a name that was one), or a name gone whose kind
// cannot be told anymore. Events about other files (a log written to
// without pause, an editor's swap file) are ignored: they would delay
// the read of the manifests without end.
func (ws *watchSet) relevant(ev fsnotify.Event) bool {
	name := filepath.Base(ev.Name)
	if IsManifestName(name) || ws.dirs[ev.Name] {
		return true
	}
	if info, err := os.Stat(ev.Name); err == nil {
		return info.IsDir() // a folder, or a link to one
	}
	if _, err := os.Lstat(ev.Name); err == nil {
		return false // a file, or a dangling link, that is not a manifest
	}
	// Gone: it may have been a folder (or a link to one) unless its name
	// says it was a file.
	return filepath.Ext(name) == ""
}

// sync watches the folders of the tree not watched yet, starting again
// if the root was replaced (deleted and created again, or a link to it
// switched). It returns why some folders could not be watched (the
// inotify watch limit, say).
func (ws *watchSet) sync() error {
	if parent := filepath.Dir(ws.root); ws.parent == "" && parent != ws.root {
		if addWatch(ws.w, parent) == nil {
			ws.parent = parent
		}
	}
	info, err := os.Stat(ws.root)
	if err != nil {
		ws.forget(ws.root)
		return nil // reported by the read
	}
	if id, ok := idOf(info); ok && id != ws.rootID {
		for p := range ws.dirs {
			ws.w.Remove(p) // the old inode's watches; gone ones fail, harmlessly
		}
		ws.dirs = map[string]bool{}
		ws.rootID = id
	}
	seen := map[string]bool{}
	var failed []string
	var firstErr error
	// The trailing separator makes the walk follow a root that is a link.
	walkRoot := ws.root + string(filepath.Separator)
	filepath.WalkDir(walkRoot, func(p string, e fs.DirEntry, err error) error {
		if p == walkRoot {
			p = ws.root
		}
		if err != nil || !e.IsDir() {
			return nil
		}
		if p != ws.root && skipDir(e.Name()) {
			return filepath.SkipDir
		}
		seen[p] = true
		if !ws.dirs[p] {
			if err := addWatch(ws.w, p); err == nil {
				ws.dirs[p] = true
			} else if !errors.Is(err, fs.ErrNotExist) {
				if firstErr == nil {
					firstErr = err
				}
				failed = append(failed, p)
			}
		}
		return nil
	})
	for p := range ws.dirs {
		if !seen[p] {
			ws.w.Remove(p)
			delete(ws.dirs, p)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("cannot watch %d folder(s), first %s: %w (for the inotify watch limit, raise fs.inotify.max_user_watches)", len(failed), failed[0], firstErr)
	}
	return nil
}

// forget drops the watch of a folder that was removed or renamed, and of
// those under it, so that a folder created again under the same name
// (perhaps with the same inode number) is watched again.
func (ws *watchSet) forget(p string) {
	prefix := p + string(filepath.Separator)
	for d := range ws.dirs {
		if d == p || strings.HasPrefix(d, prefix) {
			ws.w.Remove(d) // fails harmlessly when inotify dropped it already
			delete(ws.dirs, d)
		}
	}
	if p == ws.root {
		ws.rootID = fileID{}
	}
}
