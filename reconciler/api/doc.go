// Package api is berth's HTTPS API: Kubernetes-shaped JSON for every kind
// the store holds (list, get, watch, update, delete), bearer-token
// authentication, and the actions the CLI needs (rollout, sync, diff,
// logs), which it hands to the backends in backend.go.
package api
