package store

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"k8s.io/utils/clock"
)

// OpenBoltWithOptions is OpenBolt with tuning.
//
// An existing file is first read and checked read-only: its size against
// its pages, every object decoded, then bbolt's consistency check. Only a
// file that passes is opened for writing, so a damaged file is never
// written to. bbolt trusts the pages it reads and may panic or fault on a
// damaged one; both become an error here.
func OpenBoltWithOptions(path string, clk clock.PassiveClock, opts Options) (Store, error) {
	opts = opts.withDefaults()
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	existing := false
	switch info, err := os.Stat(path); {
	case err == nil && info.IsDir():
		return nil, fmt.Errorf("store file %s is a directory; give the path of a file", path)
	case err == nil:
		existing = info.Size() > 0
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("store file %s: %w", path, err)
	}

	var snap *snapshot
	if existing {
		var err error
		if snap, err = checkFile(path, opts.LockTimeout); err != nil {
			return nil, err
		}
	}

	db, err := openDB(path, readWrite, opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	err = guarded(func() error {
		return db.View(func(tx *bolt.Tx) (err error) {
			// A new file, or another process wrote the file between the
			// check and now: check and load it again, under our lock.
			if snap == nil || snap.txid != tx.ID() {
				if snap, err = loadSnapshot(tx); err == nil {
					err = checkConsistency(tx)
				}
			}
			return err
		})
	})
	if err != nil {
		db.Close()
		return nil, corruptError(path, err)
	}
	if snap.fresh {
		if snap.uidPrefix, err = initStore(db); err != nil {
			db.Close()
			return nil, fmt.Errorf("store file %s: initialising: %w", path, err)
		}
	}

	if opts.Seed == 0 {
		var b [8]byte
		rand.Read(b[:])
		opts.Seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	e := newEngine(clk, opts, &boltBackend{db: db, path: path}, snap.uidPrefix, snap.rv)
	e.kinds = snap.kinds
	return e, nil
}

// checkFile reads an existing store file read-only, twice: first without
// bbolt's freelist, to check the file's size against its pages and walk
// and decode every object; then with the freelist (read where a fault is
// caught) for bbolt's consistency check.
func checkFile(path string, timeout time.Duration) (*snapshot, error) {
	var snap *snapshot
	err := viewDB(path, readOnly, timeout, func(tx *bolt.Tx) (err error) {
		snap, err = loadSnapshot(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = viewDB(path, readOnlyFreelist, timeout, checkConsistency)
	return snap, err
}

// viewDB runs fn, guarded, in a read transaction of the file at path.
func viewDB(path string, mode openMode, timeout time.Duration, fn func(*bolt.Tx) error) error {
	db, err := openDB(path, mode, timeout)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := guarded(func() error { return db.View(fn) }); err != nil {
		return corruptError(path, err)
	}
	return nil
}

type openMode int

const (
	readOnly         openMode = iota
	readOnlyFreelist          // read-only, and read the freelist while opening
	readWrite
)

// openDB opens the bbolt file, turning a lock timeout, a file bbolt
// refuses and a panic inside bbolt into errors that name the file.
func openDB(path string, mode openMode, timeout time.Duration) (*bolt.DB, error) {
	var file *os.File
	var db *bolt.DB
	err := guarded(func() (err error) {
		db, err = bolt.Open(path, boltFileMode, &bolt.Options{
			Timeout:  timeout,
			ReadOnly: mode != readWrite,
			// Read the freelist here, where a fault is caught (a writable
			// open always reads it).
			PreLoadFreelist: mode != readOnly,
			OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
				f, err := os.OpenFile(name, flag, perm)
				file = f
				return f, err
			},
		})
		return err
	})
	var p *panicError
	switch {
	case err == nil:
		return db, nil
	case errors.As(err, &p):
		// bbolt did not clean up; release the file and its lock.
		if file != nil {
			file.Close()
		}
		return nil, corruptError(path, err)
	case errors.Is(err, berrors.ErrTimeout):
		return nil, &fileError{kind: ErrLocked, msg: fmt.Sprintf(
			"store file %s is locked by another process (is another berth server running with this data dir?)", path)}
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrInvalidMapping):
		return nil, corruptError(path, err)
	default:
		return nil, fmt.Errorf("store file %s: %w", path, err)
	}
}
