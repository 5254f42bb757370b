package store

import (
	"slices"
	"strings"
)

// index holds the objects of one kind: a map for lookups and the sorted
// keys for ordered lists. Stored objects are never mutated once in the
// index, so readers may use them after unlocking (and copy them).
type index struct {
	objs map[string]Object
	keys []string // sorted
}

func newIndex() *index {
	return &index{objs: make(map[string]Object)}
}

// put stores obj under key, adding the key when it is new.
func (ix *index) put(key string, obj Object) {
	if _, ok := ix.objs[key]; !ok {
		i, _ := slices.BinarySearch(ix.keys, key)
		ix.keys = slices.Insert(ix.keys, i, key)
	}
	ix.objs[key] = obj
}

// remove deletes key.
func (ix *index) remove(key string) {
	if _, ok := ix.objs[key]; !ok {
		return
	}
	delete(ix.objs, key)
	if i, found := slices.BinarySearch(ix.keys, key); found {
		ix.keys = slices.Delete(ix.keys, i, i+1)
	}
}

// each calls fn with the objects whose keys start with prefix, in key order.
func (ix *index) each(prefix string, fn func(Object)) {
	i := 0
	if prefix != "" {
		i, _ = slices.BinarySearch(ix.keys, prefix)
	}
	for ; i < len(ix.keys); i++ {
		k := ix.keys[i]
		if !strings.HasPrefix(k, prefix) {
			return
		}
		fn(ix.objs[k])
	}
}
