package store

// logEntry is one remembered change.
type logEntry struct {
	kind string
	ev   Event // ev.Object is the stored object: shared, never mutated
}

// eventLog remembers the most recent events, one per resourceVersion, so a
// watch can start from a version in the recent past. It holds exactly the
// versions compacted+1 .. compacted+n.
type eventLog struct {
	buf       []logEntry // a ring once full
	start     int        // index of the oldest entry
	n         int
	max       int
	compacted int64 // every version <= compacted is forgotten
}

func newEventLog(max int, compacted int64) eventLog {
	return eventLog{max: max, compacted: compacted}
}

// add appends the event of the next version, forgetting the oldest when
// the log is full.
func (l *eventLog) add(kind string, ev Event) {
	e := logEntry{kind: kind, ev: ev}
	if len(l.buf) < l.max {
		// Still growing (the ring has never wrapped, start is 0): memory
		// grows with use, not with the limit.
		l.buf = append(l.buf, e)
		l.n++
		return
	}
	l.buf[l.start] = e
	l.start = (l.start + 1) % len(l.buf)
	l.compacted++
}

// since calls fn with the remembered events after version from, in order.
// from must be >= compacted.
func (l *eventLog) since(from int64, fn func(logEntry)) {
	skip := from - l.compacted
	if skip < 0 {
		skip = 0
	}
	for i := int(skip); i < l.n; i++ {
		fn(l.buf[(l.start+i)%len(l.buf)])
	}
}
