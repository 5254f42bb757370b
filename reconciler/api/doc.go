// Package api is berth's HTTPS API: Kubernetes-shaped JSON for every kind
// the store holds (list, get, watch, update, delete), bearer-token
// authentication, and the actions the CLI needs (rollout, sync, diff,
// logs), which it hands to the backends in backend.go.
//
// URLs are Kubernetes' own: /api/v1/namespaces/NS/pods/NAME,
// /apis/apps/v1/deployments (all namespaces), /api/v1/nodes,
// /apis/berth.io/v1/sources/NAME, with ?labelSelector=, ?fieldSelector=
// and ?watch=true&resourceVersion=N, and the status subresource
// (.../NAME/status: only the body's status is written). berth's actions
// live under its own group:
//
//	POST /apis/berth.io/v1/namespaces/NS/deployments/NAME/rollout/{undo,pause,resume,restart}
//	GET  /apis/berth.io/v1/namespaces/NS/deployments/NAME/rollout/history
//	POST /apis/berth.io/v1/sync
//	GET  /apis/berth.io/v1/diff?source=NAME, POST /apis/berth.io/v1/diff
//	GET  /api/v1/namespaces/NS/pods/NAME/log?container=&previous=&follow=
//
// Failures are Kubernetes Status objects with its reasons and codes.
// Backends pick theirs by wrapping the store's sentinels (see status.go):
// store.ErrNotFound is a 404, store.ErrInvalid a 422 (a revision that
// does not validate), anything else a 400 with the error's text as is.
//
// Every request but /healthz and /hooks/... needs a bearer token: the
// admin token (admin.conf) may do everything; the node token (node-token)
// what an agent does. EnsurePKI, EnsureTokens, WriteAdminConfig and
// WriteNodeToken make and keep the secrets under the data dir; package
// client is the Go client.
package api
