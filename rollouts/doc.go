// Package rollouts holds the pure rollout logic, without I/O: resolving
// maxSurge and maxUnavailable, planning the next rolling step, revision
// numbering, history limits, picking a rollback target and DaemonSet rolling
// math. It arrives with the engine; see ARCHITECTURE.md.
package rollouts
