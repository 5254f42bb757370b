// Package sources is where desired state comes from: the Source interface,
// Git (go-git), folders (fsnotify) and the webhook receiver, each producing
// a Snapshot of manifest files at a revision. It arrives with the GitOps
// server; see ARCHITECTURE.md.
package sources
