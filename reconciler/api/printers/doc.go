// Package printers renders what the server returns the way kubectl does:
// `get` tables (with -o wide and -A), Kubernetes-shaped JSON and YAML,
// `describe`, and the `events` table. It is pure: objects in, text out,
// with the current time passed in so ages are testable.
package printers
