package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

// Backends choose the HTTP status of their errors by wrapping the store's
// sentinels: store.ErrNotFound (404), store.ErrAlreadyExists and
// store.ErrConflict (409), store.ErrInvalid (422: a manifest that does
// not validate, with its file:line findings in the message). A failed
// fetch from a source's remote (sources.ErrFetch) is 502, one that ran
// out of time (context.DeadlineExceeded) 504. Any other error is a 400
// carrying the error's text verbatim.

// newStatus builds a failure Status as the Kubernetes API server sends it.
func newStatus(code int32, reason metav1.StatusReason, message string) *metav1.Status {
	return &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  message,
		Reason:   reason,
		Code:     code,
	}
}

// unauthorized is the Status of a request without a valid token.
func unauthorized() *metav1.Status {
	return newStatus(http.StatusUnauthorized, metav1.StatusReasonUnauthorized, "Unauthorized")
}

func badRequest(format string, args ...any) *metav1.Status {
	return newStatus(http.StatusBadRequest, metav1.StatusReasonBadRequest, fmt.Sprintf(format, args...))
}

func notFoundPath(path string) *metav1.Status {
	return newStatus(http.StatusNotFound, metav1.StatusReasonNotFound,
		fmt.Sprintf("the server could not find the requested resource (%s)", path))
}

func methodNotAllowed(method, path string) *metav1.Status {
	return newStatus(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed,
		fmt.Sprintf("the server does not allow this method on the requested resource (%s %s)", method, path))
}

// storeStatus maps a store error about one object to the Status the
// Kubernetes API server sends for it, with its wording
// (`deployments.apps "web" not found`).
func storeStatus(err error, r *resource, name string) *metav1.Status {
	what := fmt.Sprintf("%s %q", r.qualified(), name)
	var st *metav1.Status
	switch {
	case errors.Is(err, store.ErrNotFound):
		st = newStatus(http.StatusNotFound, metav1.StatusReasonNotFound, what+" not found")
	case errors.Is(err, store.ErrAlreadyExists):
		st = newStatus(http.StatusConflict, metav1.StatusReasonAlreadyExists, what+" already exists")
	case errors.Is(err, store.ErrConflict):
		st = newStatus(http.StatusConflict, metav1.StatusReasonConflict,
			fmt.Sprintf("Operation cannot be fulfilled on %s: %s", what, store.ErrConflict))
	case errors.Is(err, store.ErrInvalid):
		st = newStatus(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, fmt.Sprintf("%s is invalid: %v", what, err))
	case errors.Is(err, store.ErrExpired):
		return expiredStatus(err)
	default:
		return internalStatus(err)
	}
	st.Details = &metav1.StatusDetails{Name: name, Group: r.group, Kind: r.plural}
	return st
}

// expiredStatus is 410 Gone, as a watch from a compacted resourceVersion
// gets it.
func expiredStatus(err error) *metav1.Status {
	return newStatus(http.StatusGone, metav1.StatusReasonExpired, err.Error())
}

func internalStatus(err error) *metav1.Status {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return newStatus(http.StatusGatewayTimeout, metav1.StatusReasonTimeout, err.Error())
	}
	if errors.Is(err, store.ErrClosed) {
		return newStatus(http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable, "the server is shutting down: "+err.Error())
	}
	return newStatus(http.StatusInternalServerError, metav1.StatusReasonInternalError, err.Error())
}

// backendStatus maps an action backend's error: its text is kubectl's
// wording, so it goes out verbatim.
func backendStatus(err error) *metav1.Status {
	msg := err.Error()
	switch {
	case errors.Is(err, store.ErrNotFound):
		return newStatus(http.StatusNotFound, metav1.StatusReasonNotFound, msg)
	case errors.Is(err, store.ErrAlreadyExists):
		return newStatus(http.StatusConflict, metav1.StatusReasonAlreadyExists, msg)
	case errors.Is(err, store.ErrConflict):
		return newStatus(http.StatusConflict, metav1.StatusReasonConflict, msg)
	case errors.Is(err, store.ErrInvalid):
		return newStatus(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, msg)
	case errors.Is(err, context.DeadlineExceeded):
		// A Git remote that did not answer in time (or the request's own
		// deadline).
		return newStatus(http.StatusGatewayTimeout, metav1.StatusReasonTimeout, msg)
	case errors.Is(err, sources.ErrFetch):
		// The source's remote failed: the server is a gateway to it.
		return newStatus(http.StatusBadGateway, "BadGateway", msg)
	case errors.Is(err, context.Canceled), errors.Is(err, store.ErrClosed):
		return internalStatus(err)
	}
	return newStatus(http.StatusBadRequest, metav1.StatusReasonBadRequest, msg)
}
