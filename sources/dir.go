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

// Spec implements Source.
func (d *Dir) Spec() SourceSpec { return SourceSpec{Type: TypeDir, URL: d.root} }

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
// changes (once quiet for Debounce) or Trigger. A folder that is gone is
// an error, looked for again every second.
func (d *Dir) Run(ctx context.Context, update func(Snapshot, error)) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		update(Snapshot{}, fmt.Errorf("folder source %s: cannot watch %s: %w", d.opts.Name, d.root, err))
		return
	}
	defer w.Close()
	ws := &watchSet{w: w, root: d.root, dirs: map[string]bool{}}

	var (
		last    string // revision passed last; "" after an error
		lastErr string
		timer   clock.Timer
		fire    <-chan time.Time
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
	readNow := func() {
		fire = nil
		werr := ws.sync()
		snap, err := d.read()
		if errors.Is(err, errVanished) {
			arm(d.opts.Debounce) // caught mid-save: read again once quiet
			return
		}
		if err == nil && werr != nil {
			err = werr
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
		lastErr = ""
		if snap.Revision != last {
			last = snap.Revision
			d.opts.Log.Debug("folder source: new revision", "source", d.opts.Name, "revision", snap.Revision, "files", len(snap.Files))
			update(snap, nil)
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
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				ws.forget(ev.Name)
			}
			if ev.Has(fsnotify.Create) {
				// Watch a new sub-folder before files land in it; the
				// read that follows walks it whole anyway.
				if info, err := os.Lstat(ev.Name); err == nil && info.IsDir() {
					ws.sync()
				}
			}
			arm(d.opts.Debounce)
		case _, ok := <-w.Errors:
			if !ok {
				return
			}
			// An overflow loses events: read the folder to be sure.
			arm(d.opts.Debounce)
		}
	}
}

// watchSet keeps an fsnotify watch on every folder of the tree.
type watchSet struct {
	w      *fsnotify.Watcher
	root   string
	rootID fileID
	dirs   map[string]bool
}

// sync watches the folders of the tree not watched yet, starting again
// if the root was replaced (deleted and created again).
func (ws *watchSet) sync() error {
	info, err := os.Stat(ws.root)
	if err != nil {
		ws.forget(ws.root)
		return err // reported by the read
	}
	if id, ok := idOf(info); ok && id != ws.rootID {
		for p := range ws.dirs {
			ws.w.Remove(p) // the old inode's watches; gone ones fail, harmlessly
		}
		ws.dirs = map[string]bool{}
		ws.rootID = id
	}
	seen := map[string]bool{}
	filepath.WalkDir(ws.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return nil
		}
		if p != ws.root && skipDir(e.Name()) {
			return filepath.SkipDir
		}
		seen[p] = true
		if !ws.dirs[p] {
			if ws.w.Add(p) == nil {
				ws.dirs[p] = true
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
