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

// read takes a snapshot of the folder.
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
	r := &dirReader{
		real: real,
		c:    newCollector(d.opts.Limits, "folder"),
		seen: map[fileID]bool{},
	}
	if err := r.dir(d.root, "", info); err != nil {
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
	real string // the folder's real path, links resolved
	c    *collector
	seen map[fileID]bool // folders visited, so a link loop ends
}

func (r *dirReader) dir(full, rel string, info fs.FileInfo) error {
	if id, ok := idOf(info); ok {
		if r.seen[id] {
			return nil
		}
		r.seen[id] = true
	}
	entries, err := os.ReadDir(full)
	if errors.Is(err, fs.ErrNotExist) {
		return errVanished
	}
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		p := filepath.Join(full, e.Name())
		relp := path.Join(rel, e.Name())
		mode := e.Type()
		var target fs.FileInfo
		if mode&fs.ModeSymlink != 0 {
			resolved, err := filepath.EvalSymlinks(p)
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
			if target, err = os.Stat(resolved); err != nil {
				continue
			}
			mode = target.Mode().Type()
		}
		switch {
		case mode.IsDir():
			if skipDir(e.Name()) {
				continue
			}
			if target == nil {
				if target, err = e.Info(); err != nil {
					return errVanished
				}
			}
			if err := r.dir(p, relp, target); err != nil {
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

func (r *dirReader) file(full, rel string) error {
	f, err := os.Open(full)
	if errors.Is(err, fs.ErrNotExist) {
		return errVanished
	}
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
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
