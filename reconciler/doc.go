// Package reconciler is the control plane: the store, the watch cache, work
// queues, the sync of a snapshot, the controllers, the scheduler, node
// lifecycle, events and the HTTP API. It arrives with the engine; see
// ARCHITECTURE.md.
package reconciler
