// Package nodelifecycle is berth's form of upstream's node lifecycle
// controller, taint-based eviction (the NoExecute taint manager), pod
// garbage collection of pods on deleted nodes, and the nodeipam range
// allocator that gives every Node a pod subnet of the cluster CIDR. It
// also holds the pure parsing and editing of node labels and taints that
// `berth label|taint node/NAME` use, with upstream's validation.
package nodelifecycle
