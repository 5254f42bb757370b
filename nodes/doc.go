// Package nodes is the node side of berth: the Runtime interface the node
// agent drives (a small cut of kubelet's CRI). nodes/agent is the agent
// loop itself (kubelet's job: register the Node, heartbeat, run the pods
// bound to it, report their status), nodes/fake an in-memory Runtime and
// fake node for tests and the scale simulator, nodes/containerd (next) the
// real runtime.
package nodes
