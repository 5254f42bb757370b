package store

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
)

// fileError is an error about the store file as a whole.
type fileError struct {
	kind  error // ErrLocked or ErrCorrupt
	msg   string
	cause error
}

func (e *fileError) Error() string   { return e.msg }
func (e *fileError) Unwrap() []error { return []error{e.kind, e.cause} }

// corruptError says the file at path cannot be used, and what to do.
func corruptError(path string, cause error) error {
	var fe *fileError
	if errors.As(cause, &fe) {
		return cause
	}
	return &fileError{kind: ErrCorrupt, cause: cause, msg: fmt.Sprintf(
		"store file %s is corrupt: %v; move it away to start afresh (berth will not overwrite it)", path, cause)}
}

// notOursError: a readable bbolt file that berth did not write.
type notOursError struct{ buckets []string }

func (e *notOursError) Error() string {
	return "it is a bbolt file but not a berth store (its buckets: " + strings.Join(e.buckets, ", ") + ")"
}

// panicError is a panic or memory fault inside bbolt, caught by guarded.
type panicError struct{ value any }

func (e *panicError) Error() string { return fmt.Sprintf("bbolt failed reading it: %v", e.value) }

// guarded runs fn, turning a panic, and a memory fault on the mapped file
// (bbolt trusts the page numbers and offsets it reads), into an error.
func guarded(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r}
		}
	}()
	return fn()
}
