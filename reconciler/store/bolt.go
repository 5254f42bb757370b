package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
	"k8s.io/utils/clock"
)

// The bolt file holds one bucket per kind, keyed by objKey (namespace,
// NUL, name) with the object's JSON as value, and a meta bucket:
//
//	format  "1"
//	rv      the store's resourceVersion, 8 bytes big-endian
//	uid     the prefix of the uids this store hands out
//
// Every transaction is one bbolt transaction, fsynced before it returns.
// Reads are served from the objects loaded at open (the engine's indexes),
// so the file is read once, at open.
var (
	metaBucket  = []byte("meta")
	metaFormat  = []byte("format")
	metaRV      = []byte("rv")
	metaUID     = []byte("uid")
	storeFormat = "1"
)

// boltFileMode: the store holds Secrets; only its owner may read it.
const boltFileMode os.FileMode = 0o600

// OpenBolt opens (or creates) the store file at path, a bbolt file in the
// data dir. It fails, without writing to the file, when another process
// holds it (after Options.LockTimeout, 1s by default) or when it is
// corrupt. Watches can start from the version at open, not before.
func OpenBolt(path string, clk clock.PassiveClock) (Store, error) {
	return OpenBoltWithOptions(path, clk, Options{})
}

// boltBackend persists an engine's transactions in a bbolt file.
type boltBackend struct {
	db   *bolt.DB
	path string
}

// encode turns obj into JSON and back, so what the engine keeps is exactly
// what a restart will read.
func (b *boltBackend) encode(obj Object) (Object, []byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, err
	}
	k, err := kindInfoOf(obj)
	if err != nil {
		return nil, nil, err
	}
	stored, err := decodeObject(k, data)
	if err != nil {
		return nil, nil, err
	}
	return stored, data, nil
}

func decodeObject(k *kindInfo, data []byte) (Object, error) {
	obj := k.new()
	if err := json.Unmarshal(data, obj); err != nil {
		return nil, err
	}
	setTypeMeta(obj, k)
	return obj, nil
}

func (b *boltBackend) commit(changes []change, rv int64) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		for _, c := range changes {
			bk, err := tx.CreateBucketIfNotExists([]byte(c.kind.gvk.Kind))
			if err != nil {
				return err
			}
			if c.typ == Deleted {
				err = bk.Delete([]byte(c.key))
			} else {
				err = bk.Put([]byte(c.key), c.data)
			}
			if err != nil {
				return fmt.Errorf("%s %q: %w", c.kind.gvk.Kind, c.key, err)
			}
		}
		return tx.Bucket(metaBucket).Put(metaRV, encodeRV(rv))
	})
}

func (b *boltBackend) close() error {
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("closing store file %s: %w", b.path, err)
	}
	return nil
}

func encodeRV(rv int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(rv))
}
