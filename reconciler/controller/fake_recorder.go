package controller

import (
	"fmt"
	"slices"
	"sync"

	"github.com/berth-io/berth/reconciler/store"
)

// FakeRecorder is a Recorder for controller tests: it keeps each event as
// the string "<type> <reason> <message>" ("Normal ScalingReplicaSet Scaled
// up replica set web-abc to 3"). Safe for concurrent use.
type FakeRecorder struct {
	mu     sync.Mutex
	events []string
}

var _ Recorder = (*FakeRecorder)(nil)

// NewFakeRecorder returns an empty FakeRecorder.
func NewFakeRecorder() *FakeRecorder { return &FakeRecorder{} }

// Eventf implements Recorder.
func (f *FakeRecorder) Eventf(_ store.Object, eventType, reason, messageFmt string, args ...any) {
	s := eventType + " " + reason + " " + fmt.Sprintf(messageFmt, args...)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, s)
}

// Events returns the events recorded so far, oldest first.
func (f *FakeRecorder) Events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

// Reset forgets the events recorded so far.
func (f *FakeRecorder) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = nil
}
