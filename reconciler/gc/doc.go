// Package gc is berth's garbage collector, Kubernetes' in miniature:
// an object whose ownerReferences all point to owners that no longer
// exist is deleted, and so, one level at a time, are its own dependents
// (background cascading deletion: delete a Deployment, its ReplicaSets
// go, then their Pods). Owners are identified by UID, not by name: an
// owner deleted and created again under the same name is a different
// owner, and its predecessor's dependents are collected.
//
// An object with some owners still alive keeps living; the references to
// the owners that are gone are removed from it, as Kubernetes does.
package gc
