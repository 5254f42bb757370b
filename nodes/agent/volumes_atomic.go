package agent

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// writeAtomic makes dir hold exactly files, as kubelet's AtomicWriter:
// the files go into a fresh hidden directory, "..data" is switched to it
// by a rename (atomic), and each top-level name is a symlink through
// "..data". A reader sees the old set or the new one, never a mix. Files
// already as wanted are left alone.
func writeAtomic(dir string, files projection) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dataLink := filepath.Join(dir, "..data")
	oldTarget, _ := os.Readlink(dataLink)
	if oldTarget != "" && sameFiles(filepath.Join(dir, oldTarget), files) {
		return nil
	}
	ts, err := os.MkdirTemp(dir, "..")
	if err != nil {
		return err
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		return err
	}
	top := map[string]bool{}
	for p, f := range files {
		full := filepath.Join(ts, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(full, f.mode); err != nil { // past the umask
			return err
		}
		top[strings.Split(filepath.ToSlash(p), "/")[0]] = true
	}
	tmpLink := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(ts), tmpLink); err != nil {
		return err
	}
	if err := os.Rename(tmpLink, dataLink); err != nil {
		return err
	}
	for name := range top {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if n := e.Name(); !strings.HasPrefix(n, "..") && !top[n] {
			_ = os.Remove(filepath.Join(dir, n))
		}
	}
	if oldTarget != "" && oldTarget != filepath.Base(ts) {
		return os.RemoveAll(filepath.Join(dir, oldTarget))
	}
	return nil
}

// sameFiles reports whether dir holds exactly files, with their modes.
func sameFiles(dir string, files projection) bool {
	seen := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		want, ok := files[rel]
		if !ok {
			return fs.ErrExist
		}
		fi, err := d.Info()
		if err != nil || fi.Mode().Perm() != want.mode {
			return fs.ErrExist
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, want.data) {
			return fs.ErrExist
		}
		seen++
		return nil
	})
	return err == nil && seen == len(files)
}
