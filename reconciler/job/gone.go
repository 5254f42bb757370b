package job

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// gonePod is a pod that was deleted before it was counted (see "Tracking
// of finished pods" in pods.go).
type gonePod struct {
	uid       types.UID
	succeeded bool
	index     int // completion index, noIndex if none
}

// goneSet remembers, per Job UID, the pods deleted uncounted, until a
// sync counts them.
type goneSet struct {
	mu   sync.Mutex
	pods map[types.UID]map[types.UID]gonePod
}

func newGoneSet() *goneSet { return &goneSet{pods: map[types.UID]map[types.UID]gonePod{}} }

// add remembers pod (as last stored) of the Job jobUID.
func (g *goneSet) add(jobUID types.UID, pod *corev1.Pod) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := g.pods[jobUID]
	if m == nil {
		m = map[types.UID]gonePod{}
		g.pods[jobUID] = m
	}
	m[pod.UID] = gonePod{uid: pod.UID, succeeded: pod.Status.Phase == corev1.PodSucceeded, index: completionIndex(pod)}
}

// list returns the Job's remembered pods.
func (g *goneSet) list(jobUID types.UID) []gonePod {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]gonePod, 0, len(g.pods[jobUID]))
	for _, p := range g.pods[jobUID] {
		out = append(out, p)
	}
	return out
}

// counted forgets pods once a sync has counted them.
func (g *goneSet) counted(jobUID types.UID, pods []gonePod) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := g.pods[jobUID]
	for _, p := range pods {
		delete(m, p.uid)
	}
	if len(m) == 0 {
		delete(g.pods, jobUID)
	}
}

// drop forgets the Job's pods (it finished or is gone).
func (g *goneSet) drop(jobUID types.UID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.pods, jobUID)
}
