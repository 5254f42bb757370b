package yamltree

import (
	"fmt"
	"strconv"
)

// The values of Error.Kind.
const (
	KindSyntax       = "syntax"
	KindDuplicateKey = "duplicate-key"
	KindAliasBomb    = "alias-bomb"
	KindTooDeep      = "too-deep"
)

func syntaxError(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Kind: KindSyntax, Message: fmt.Sprintf(format, args...)}
}

func duplicateKeyError(key string, first, second Pos) *Error {
	return &Error{Pos: second, Kind: KindDuplicateKey,
		Message: "mapping key " + strconv.Quote(key) + " already defined at line " + strconv.Itoa(first.Line)}
}

func tooDeepError(pos Pos, max int) *Error {
	return &Error{Pos: pos, Kind: KindTooDeep,
		Message: "YAML nesting is deeper than " + strconv.Itoa(max) + " levels; refusing"}
}

func tooManyNodesError(pos Pos, max int, aliases bool) *Error {
	msg := "document has more than " + strconv.Itoa(max) + " nodes; refusing"
	if aliases {
		msg = "YAML aliases expand to more than " + strconv.Itoa(max) + " nodes; refusing (a YAML bomb?)"
	}
	return &Error{Pos: pos, Kind: KindAliasBomb, Message: msg}
}

// withPath prefixes a duplicate key error's field path with the step that
// led to it, as the error travels up the tree: the user is told which
// mapping repeats the key (spec.template.metadata.labels.app), not only
// where. Other errors pass unchanged.
func withPath(err error, step string) error {
	if e, ok := err.(*Error); ok && e.Kind == KindDuplicateKey {
		e.Field = step + e.Field
	}
	return err
}
