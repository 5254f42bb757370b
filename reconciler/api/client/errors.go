package client

import (
	"errors"
	"fmt"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
)

// Errors for the failures that are not about one object.
var (
	// ErrUnauthorized: the server refused the token.
	ErrUnauthorized = errors.New("unauthorized: the server refused the token (check --token-file or the config's token)")
	// ErrForbidden: the token may not do this (a node token doing an
	// admin's work).
	ErrForbidden = errors.New("forbidden")
)

// StatusError is a failure the server answered with a Kubernetes Status.
// errors.Is matches it to store.ErrNotFound, store.ErrAlreadyExists,
// store.ErrConflict, store.ErrInvalid, store.ErrExpired, ErrUnauthorized
// and ErrForbidden by its reason.
type StatusError struct {
	// Code is the HTTP status code (404).
	Code int
	// Reason is Kubernetes' reason ("NotFound", "Conflict").
	Reason metav1.StatusReason
	// Message is the server's message, as kubectl prints it after
	// "Error from server (Reason): ".
	Message string
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Code == http.StatusUnauthorized {
		return ErrUnauthorized.Error()
	}
	if e.Message == "" {
		return fmt.Sprintf("the server answered %d %s", e.Code, http.StatusText(e.Code))
	}
	return e.Message
}

// Is matches the store's sentinels by reason.
func (e *StatusError) Is(target error) bool {
	switch target {
	case store.ErrNotFound:
		return e.Reason == metav1.StatusReasonNotFound
	case store.ErrAlreadyExists:
		return e.Reason == metav1.StatusReasonAlreadyExists
	case store.ErrConflict:
		return e.Reason == metav1.StatusReasonConflict
	case store.ErrInvalid:
		return e.Reason == metav1.StatusReasonInvalid
	case store.ErrExpired:
		return e.Reason == metav1.StatusReasonExpired || e.Reason == metav1.StatusReasonGone
	case ErrUnauthorized:
		return e.Code == http.StatusUnauthorized
	case ErrForbidden:
		return e.Code == http.StatusForbidden
	}
	return false
}

// statusError turns a Status into an error.
func statusError(code int, st *metav1.Status) *StatusError {
	if st.Code != 0 {
		code = int(st.Code)
	}
	return &StatusError{Code: code, Reason: st.Reason, Message: st.Message}
}

// WatchError returns the error an ERROR event carries, or nil for any
// other event.
func WatchError(ev store.Event) error {
	if ev.Type != EventError {
		return nil
	}
	if st, ok := ev.Object.(*metav1.Status); ok {
		return statusError(0, st)
	}
	return errors.New("the watch ended with an error")
}
