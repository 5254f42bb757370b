// Package nodes is the node agent and its Runtime interface: nodes/containerd
// drives the real runtime, an in-memory fake serves unit tests and the scale
// simulator. It arrives with the node issue; see ARCHITECTURE.md.
package nodes
