package scheduler

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrNoNodes is the scheduling failure when there are no nodes at all
// (upstream's ErrNoNodesAvailable).
var ErrNoNodes = errors.New("no nodes available to schedule pods")

// FitError says why no node fits a pod. Its message is upstream's
// (pkg/scheduler/framework FitError): "0/3 nodes are available: 1
// Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."
type FitError struct {
	// NumAllNodes is how many nodes were considered.
	NumAllNodes int
	// PreFilterMsg is set when a PreFilter rejected the pod outright.
	PreFilterMsg string
	// Reasons counts, per reason, the nodes that gave it (a node may give
	// several).
	Reasons map[string]int
}

// Error formats the message: the histogram entries "<count> <reason>"
// sorted as strings, joined with ", ", closed with ".".
func (e *FitError) Error() string {
	msg := fmt.Sprintf("0/%d nodes are available:", e.NumAllNodes)
	if e.PreFilterMsg != "" {
		return msg + " " + e.PreFilterMsg + "."
	}
	entries := make([]string, 0, len(e.Reasons))
	for reason, n := range e.Reasons {
		entries = append(entries, fmt.Sprintf("%d %s", n, reason))
	}
	sort.Strings(entries)
	if len(entries) > 0 {
		msg += " " + strings.Join(entries, ", ") + "."
	}
	return msg
}
