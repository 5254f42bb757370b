package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// snapshot is a store file's content, loaded and checked.
type snapshot struct {
	txid      int
	fresh     bool // an empty bbolt file: nothing of ours yet
	rv        int64
	uidPrefix string
	kinds     map[string]*index
}

// loadSnapshot checks the size of tx's file against its pages, then reads
// and decodes every object in it.
func loadSnapshot(tx *bolt.Tx) (*snapshot, error) {
	s := &snapshot{txid: tx.ID(), kinds: make(map[string]*index)}
	info, err := os.Stat(tx.DB().Path())
	if err != nil {
		return nil, err
	}
	if need := tx.Size(); info.Size() < need {
		return nil, fmt.Errorf("truncated: it is %d bytes, its pages need %d", info.Size(), need)
	}
	meta := tx.Bucket(metaBucket)
	if meta == nil {
		var names []string
		if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, fmt.Sprintf("%q", name))
			return nil
		}); err != nil {
			return nil, err
		}
		if len(names) > 0 {
			return nil, &notOursError{buckets: names}
		}
		s.fresh = true
		return s, nil
	}
	if err := s.readMeta(meta); err != nil {
		return nil, err
	}
	err = tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		if bytes.Equal(name, metaBucket) {
			return nil
		}
		return s.readKind(string(name), b)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// checkConsistency runs bbolt's consistency check. It runs on a goroutine
// of bbolt's, where a fault would not be caught, so it comes after
// loadSnapshot has touched every page of the file's trees and bbolt has
// read the freelist, both where a fault is caught.
func checkConsistency(tx *bolt.Tx) error {
	// Drain the channel fully: the checker's goroutine ends when it is.
	var first error
	problems := 0
	for err := range tx.Check() {
		if first == nil {
			first = err
		}
		problems++
	}
	if first != nil {
		return fmt.Errorf("bbolt consistency check: %v (%d problems in all)", first, problems)
	}
	return nil
}

func (s *snapshot) readMeta(meta *bolt.Bucket) error {
	// Touch every key so a damaged meta page faults here, not later.
	if err := meta.ForEach(func(_, _ []byte) error { return nil }); err != nil {
		return err
	}
	if f := string(meta.Get(metaFormat)); f != storeFormat {
		return fmt.Errorf("unknown store format %q (this berth reads format %s; was it written by a newer berth?)", f, storeFormat)
	}
	rv := meta.Get(metaRV)
	if len(rv) != 8 {
		return fmt.Errorf("meta rv is %d bytes, want 8", len(rv))
	}
	s.rv = int64(binary.BigEndian.Uint64(rv))
	s.uidPrefix = string(meta.Get(metaUID))
	if len(s.uidPrefix) != len(memUIDPrefix) {
		return fmt.Errorf("meta uid %q is not a uid prefix", s.uidPrefix)
	}
	return nil
}

func (s *snapshot) readKind(kind string, b *bolt.Bucket) error {
	k := lookupKind(kind)
	if k == nil {
		return fmt.Errorf("it holds objects of kind %q, which this berth does not know (was it written by a newer berth?)", kind)
	}
	ix := newIndex()
	c := b.Cursor()
	for key, v := c.First(); key != nil; key, v = c.Next() {
		if v == nil {
			return fmt.Errorf("%s bucket holds a nested bucket %q", kind, key)
		}
		obj, err := decodeObject(k, v)
		if err != nil {
			return fmt.Errorf("%s %q: %v", kind, key, err)
		}
		m := accessor(obj)
		if objKey(m.GetNamespace(), m.GetName()) != string(key) {
			return fmt.Errorf("%s %q holds the object %s/%s", kind, key, m.GetNamespace(), m.GetName())
		}
		rv, err := parseRV(m.GetResourceVersion())
		if err != nil || rv == 0 || rv > s.rv {
			return fmt.Errorf("%s %q has resourceVersion %q, the store is at %d", kind, key, m.GetResourceVersion(), s.rv)
		}
		ks := string(key)
		ix.objs[ks] = obj
		ix.keys = append(ix.keys, ks) // bbolt iterates in key order
	}
	s.kinds[kind] = ix
	return nil
}

// initStore writes the meta bucket of a new store and returns its uid
// prefix, random so that two stores' uids differ.
func initStore(db *bolt.DB) (string, error) {
	var r [8]byte
	rand.Read(r[:])
	prefix := fmt.Sprintf("%08x-%04x-4%03x-8%03x-", r[0:4], r[4:6], uint16(r[6])<<4&0xfff, uint16(r[7])<<4&0xfff)
	err := db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(metaBucket)
		if err != nil {
			return err
		}
		for _, kv := range [][2][]byte{
			{metaFormat, []byte(storeFormat)},
			{metaRV, encodeRV(0)},
			{metaUID, []byte(prefix)},
		} {
			if err := meta.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	})
	return prefix, err
}
