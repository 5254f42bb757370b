package yamltree

// mapBuilder collects a mapping's entries, rejecting duplicate explicit
// keys; entries from merge keys may be overwritten (later write wins).
type mapBuilder struct {
	fields   []Field
	explicit []bool
	index    map[string]int
}

// indexFrom is the entry count from which lookups use a map.
const indexFrom = 16

func (b *mapBuilder) find(key string) int {
	if b.index != nil {
		if i, ok := b.index[key]; ok {
			return i
		}
		return -1
	}
	for i := range b.fields {
		if b.fields[i].Key == key {
			return i
		}
	}
	return -1
}

func (b *mapBuilder) set(f Field, explicit bool) error {
	if i := b.find(f.Key); i >= 0 {
		if explicit && b.explicit[i] {
			return duplicateKeyError(f.Key, b.fields[i].KeyPos, f.KeyPos)
		}
		b.fields[i] = f
		b.explicit[i] = b.explicit[i] || explicit
		return nil
	}
	b.fields = append(b.fields, f)
	b.explicit = append(b.explicit, explicit)
	if b.index != nil {
		b.index[f.Key] = len(b.fields) - 1
	} else if len(b.fields) > indexFrom {
		b.index = make(map[string]int, 2*len(b.fields))
		for i := range b.fields {
			b.index[b.fields[i].Key] = i
		}
	}
	return nil
}
