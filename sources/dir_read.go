package sources

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// errVanished: a file disappeared while the folder was read (an editor
// saving); the read is repeated once the folder is quiet.
var errVanished = errors.New("a file vanished while the folder was read")

type fileID struct{ dev, ino uint64 }

func idOf(info fs.FileInfo) (fileID, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), uint64(st.Ino)}, true
}

// read takes a snapshot of the folder. Every file and folder is opened
// through an os.Root at the folder's real path, by its path with the
// links resolved: a file swapped for a symbolic link (or a folder for a
// link to another) between the walk and the open cannot lead outside the
// folder.
func (d *Dir) read() (Snapshot, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	info, err := os.Stat(d.root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Snapshot{}, fmt.Errorf("folder source %s: the folder %s is gone; the last good revision stays applied until it is back", d.opts.Name, d.root)
		}
		return Snapshot{}, fmt.Errorf("folder source %s: %w", d.opts.Name, err)
	}
	if !info.IsDir() {
		return Snapshot{}, fmt.Errorf("folder source %s: %s is not a folder", d.opts.Name, d.root)
	}
	real, err := filepath.EvalSymlinks(d.root)
	if err != nil {
		return Snapshot{}, fmt.Errorf("folder source %s: %w", d.opts.Name, err)
	}
	root, err := os.OpenRoot(real)
	if errors.Is(err, fs.ErrNotExist) {
		return Snapshot{}, errVanished // the root switched under us
	}
	if err != nil {
		return Snapshot{}, fmt.Errorf("folder source %s: %w", d.opts.Name, err)
	}
	defer root.Close()
	r := &dirReader{
		root: root,
		real: real,
		c:    newCollector(d.opts.Limits, "folder"),
		seen: map[fileID]bool{},
	}
	if err := r.dir(".", ""); err != nil {
		if errors.Is(err, errVanished) {
			return Snapshot{}, err
		}
		return Snapshot{}, fmt.Errorf("folder source %s: %w", d.opts.Name, err)
	}
	files, skipped := r.c.result()
	snap := Snapshot{
		Source:    d.opts.Name,
		Revision:  folderRevision(files),
		Files:     files,
		Skipped:   skipped,
		FetchedAt: d.clock.Now(),
	}
	return snap, nil
}

// folderRevision is the hex SHA-256 of the files' paths and contents
// (each length-prefixed, so no two folders share a stream).
func folderRevision(files []File) string {
	h := sha256.New()
	var n [8]byte
	for _, f := range files {
		binary.BigEndian.PutUint64(n[:], uint64(len(f.Path)))
		h.Write(n[:])
		io.WriteString(h, f.Path)
		binary.BigEndian.PutUint64(n[:], uint64(len(f.Data)))
		h.Write(n[:])
		h.Write(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// dirReader walks a folder as `berth validate` does (dot-folders skipped,
// *.yaml, *.yml, *.json), following symbolic links only to paths inside
// the folder.
type dirReader struct {
	root *os.Root // the folder, opened at real
	real string   // the folder's real path, links resolved
	c    *collector
	seen map[fileID]bool // folders visited, so a link loop ends
}

// openErr turns the failure to open realRel into errVanished when the
// path is gone or changed kind meanwhile (a file replaced by a link out of
// the folder, which the root refuses to follow: read again once quiet).
func (r *dirReader) openErr(realRel, rel string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errVanished
	}
	if info, lerr := os.Lstat(filepath.Join(r.real, realRel)); lerr != nil || info.Mode()&fs.ModeSymlink != 0 {
		return errVanished
	}
	if rel == "" {
		rel = "."
	}
	return fmt.Errorf("%s: %w", rel, err)
}

// dir reads the folder realRel (relative to the root, no link in it),
// shown as rel.
func (r *dirReader) dir(realRel, rel string) error {
	f, err := r.root.Open(realRel)
	if err != nil {
		return r.openErr(realRel, rel, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if !info.IsDir() {
		return errVanished // a folder replaced by a file meanwhile
	}
	if id, ok := idOf(info); ok {
		if r.seen[id] {
			return nil
		}
		r.seen[id] = true
	}
	entries, err := f.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		p := path.Join(realRel, e.Name())
		relp := path.Join(rel, e.Name())
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			resolved, err := filepath.EvalSymlinks(filepath.Join(r.real, filepath.FromSlash(p)))
			if err != nil {
				if IsManifestName(e.Name()) {
					r.c.skip(relp, "a symbolic link to nothing")
				}
				continue
			}
			if !within(r.real, resolved) {
				r.c.skip(relp, "a symbolic link to a path outside the folder")
				continue
			}
			target, err := os.Stat(resolved)
			if err != nil {
				continue
			}
			relResolved, err := filepath.Rel(r.real, resolved)
			if err != nil {
				continue
			}
			p, mode = filepath.ToSlash(relResolved), target.Mode().Type()
		}
		switch {
		case mode.IsDir():
			if skipDir(e.Name()) {
				continue
			}
			if err := r.dir(p, relp); err != nil {
				return err
			}
		case mode.IsRegular() && IsManifestName(e.Name()):
			if err := r.file(p, relp); err != nil {
				return err
			}
		}
	}
	return nil
}

// file reads the file realRel (relative to the root), shown as rel. It is
// opened without blocking (a FIFO swapped in would hold the read
// forever) and read only if what was opened is a regular file.
func (r *dirReader) file(realRel, rel string) error {
	f, err := r.root.OpenFile(realRel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return r.openErr(realRel, rel, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if !info.Mode().IsRegular() {
		r.c.skip(rel, "not a regular file")
		return nil
	}
	if r.c.tooBig(rel, info.Size()) {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(f, r.c.limits.MaxFileSize+1))
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if r.c.tooBig(rel, int64(len(data))) { // grew while read
		return nil
	}
	return r.c.add(rel, data)
}

// within reports whether p is root or under it (both real paths).
func within(root, p string) bool {
	if p == root {
		return true
	}
	return strings.HasPrefix(p, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator))
}
