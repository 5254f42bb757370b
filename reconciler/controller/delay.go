package controller

import (
	"container/heap"
	"time"
)

// fifo is a queue of keys; popped slots are reclaimed when the slice
// regrows, so a steady flow of keys does not grow it without bound.
type fifo struct {
	keys []string
	head int
}

func (f *fifo) len() int { return len(f.keys) - f.head }

func (f *fifo) push(key string) {
	if f.head > 0 && f.head == len(f.keys) {
		f.keys, f.head = f.keys[:0], 0
	}
	f.keys = append(f.keys, key)
}

func (f *fifo) pop() (string, bool) {
	if f.len() == 0 {
		return "", false
	}
	key := f.keys[f.head]
	f.keys[f.head] = ""
	f.head++
	if f.head > 1024 && f.head*2 > len(f.keys) {
		f.keys = append(f.keys[:0:0], f.keys[f.head:]...)
		f.head = 0
	}
	return key, true
}

// parked is a key waiting in a delayHeap.
type parked struct {
	key string
	due time.Time
	seq uint64 // insertion order, to break ties deterministically
}

// delayHeap holds parked keys ordered by (due, seq), at most once each.
type delayHeap struct {
	items []parked
	index map[string]int // key → position in items
}

// push parks key until due, or moves it earlier if it is parked later;
// it reports whether anything changed.
func (h *delayHeap) push(key string, due time.Time, seq uint64) bool {
	if i, ok := h.index[key]; ok {
		if !due.Before(h.items[i].due) {
			return false
		}
		h.items[i].due, h.items[i].seq = due, seq
		heap.Fix(h, i)
		return true
	}
	heap.Push(h, parked{key: key, due: due, seq: seq})
	return true
}

// peek returns the earliest due time.
func (h *delayHeap) peek() (time.Time, bool) {
	if len(h.items) == 0 {
		return time.Time{}, false
	}
	return h.items[0].due, true
}

// popDue removes and returns the earliest key if it is due at now.
func (h *delayHeap) popDue(now time.Time) (string, bool) {
	if len(h.items) == 0 || h.items[0].due.After(now) {
		return "", false
	}
	return heap.Pop(h).(parked).key, true
}

// heap.Interface; use push/peek/popDue instead.

func (h *delayHeap) Len() int { return len(h.items) }

func (h *delayHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if !a.due.Equal(b.due) {
		return a.due.Before(b.due)
	}
	return a.seq < b.seq
}

func (h *delayHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.index[h.items[i].key] = i
	h.index[h.items[j].key] = j
}

func (h *delayHeap) Push(x any) {
	p := x.(parked)
	h.index[p.key] = len(h.items)
	h.items = append(h.items, p)
}

func (h *delayHeap) Pop() any {
	last := len(h.items) - 1
	p := h.items[last]
	h.items[last] = parked{}
	h.items = h.items[:last]
	delete(h.index, p.key)
	return p
}
