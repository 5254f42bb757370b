// Package image builds the hello example server into an OCI image with
// go-containerregistry (no Docker), writes it as an OCI-layout tarball,
// imports it into containerd, and pushes it to a registry.
//
// It also holds test support shared by berth's end-to-end tests: a private
// containerd (StartContainerd), a local registry with htpasswd auth
// (StartRegistry) and the skip rule for tests that need root (NeedRoot).
package image
