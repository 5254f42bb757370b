// Package report prints the result of a validation run (`berth validate`) in
// one of the formats SPEC.md promises: text lines for people and editors,
// JSON for scripts, JUnit XML for CI test reports and SARIF for code scanning.
package report

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/berth-io/berth/workloads"
)

// Format is an output format of `berth validate -o`.
type Format string

// The output formats.
const (
	Text  Format = "text"
	JSON  Format = "json"
	JUnit Format = "junit"
	SARIF Format = "sarif"
)

// Formats returns every output format, in the order help text lists them.
func Formats() []Format { return []Format{Text, JSON, JUnit, SARIF} }

// ParseFormat returns the format named s; the error lists the valid names.
func ParseFormat(s string) (Format, error) {
	names := make([]string, 0, 4)
	for _, f := range Formats() {
		if s == string(f) {
			return f, nil
		}
		names = append(names, string(f))
	}
	return "", fmt.Errorf("unknown output format %q (valid: %s)", s, strings.Join(names, ", "))
}

// Options tune a Writer.
type Options struct {
	// Strict makes warnings count as errors: they are printed as "error",
	// fail their document, and are counted with the errors.
	Strict bool
	// Summary asks for a summary: a last line in text; JSON and SARIF always
	// carry one (the "summary" field, run.properties.summary); JUnit has its
	// counts in the testsuites element anyway.
	Summary bool
	// Version is berth's version, for SARIF's tool.driver.version.
	Version string
	// Rules is the rule metadata SARIF lists in tool.driver.rules.
	Rules []workloads.Rule
}

// Writer prints a validation run. Text is streamed: a document's diagnostics
// are printed when Document is called, so memory does not grow with the
// input. JSON, JUnit and SARIF are written by Close, from what Document and
// Diagnostic collected. A Writer is not safe for concurrent use.
type Writer struct {
	out  io.Writer
	f    Format
	opts Options

	// Collected for JSON, JUnit and SARIF, in call order: globals[i].after
	// is how many documents came before globals[i].
	docs    []workloads.DocumentResult
	globals []global

	buf    []byte // text: the lines of one document
	err    error  // first write error
	closed bool
}

type global struct {
	after int
	d     workloads.Diagnostic
}

// New returns a Writer printing format f to out. It panics if f is not one
// of Formats (use ParseFormat on user input).
func New(out io.Writer, f Format, opts Options) *Writer {
	switch f {
	case Text, JSON, JUnit, SARIF:
	default:
		panic(fmt.Sprintf("report: unknown format %q", f))
	}
	return &Writer{out: out, f: f, opts: opts}
}

// Document adds one document's result. Call it in input order.
func (w *Writer) Document(r workloads.DocumentResult) {
	w.mustBeOpen()
	if w.f == Text {
		w.textDiagnostics(r.Diagnostics)
		return
	}
	w.docs = append(w.docs, r)
}

// Diagnostic adds a finding that belongs to no document: an unreadable file,
// an input with no documents.
func (w *Writer) Diagnostic(d workloads.Diagnostic) {
	w.mustBeOpen()
	if w.f == Text {
		w.textDiagnostics([]workloads.Diagnostic{d})
		return
	}
	w.globals = append(w.globals, global{after: len(w.docs), d: d})
}

// Close writes what is left (the summary line; the whole JSON, JUnit or
// SARIF report) and returns the first write error. s is the run's summary as
// the caller counted it; under Strict its warnings are counted as errors.
func (w *Writer) Close(s workloads.Summary) error {
	if w.closed {
		return errors.New("report: Close called twice")
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	s = w.fold(s)
	var err error
	switch w.f {
	case Text:
		err = w.closeText(s)
	case JSON:
		err = w.closeJSON(s)
	case JUnit:
		err = w.closeJUnit()
	case SARIF:
		err = w.closeSARIF(s)
	}
	w.docs, w.globals, w.buf = nil, nil, nil
	return err
}

func (w *Writer) mustBeOpen() {
	if w.closed {
		panic("report: Writer used after Close")
	}
}

func (w *Writer) write(p []byte) {
	if w.err == nil && len(p) > 0 {
		_, w.err = w.out.Write(p)
	}
}

// severity is d's severity as printed: under Strict every finding is an error.
func (w *Writer) severity(d workloads.Diagnostic) workloads.Severity {
	if w.opts.Strict {
		return workloads.SeverityError
	}
	return d.Severity
}

// fold counts warnings as errors under Strict. It is idempotent, so a caller
// that already folded them gets the same numbers.
func (w *Writer) fold(s workloads.Summary) workloads.Summary {
	if w.opts.Strict {
		s.Errors += s.Warnings
		s.Warnings = 0
	}
	return s
}

// valid reports whether the collected run passes: no invalid document and
// no global error.
func (w *Writer) valid(s workloads.Summary) bool {
	if s.Invalid > 0 {
		return false
	}
	for _, r := range w.docs {
		if !r.Valid(w.opts.Strict) {
			return false
		}
	}
	for _, g := range w.globals {
		if w.severity(g.d) == workloads.SeverityError {
			return false
		}
	}
	return true
}

// walk calls doc and diag for the collected results in call order.
func (w *Writer) walk(doc func(r *workloads.DocumentResult), diag func(d *workloads.Diagnostic)) {
	g := 0
	for i := range w.docs {
		for ; g < len(w.globals) && w.globals[g].after <= i; g++ {
			diag(&w.globals[g].d)
		}
		doc(&w.docs[i])
	}
	for ; g < len(w.globals); g++ {
		diag(&w.globals[g].d)
	}
}

// line formats d as SPEC.md's text line, with its severity as printed. A
// finding with no file has no position prefix.
func (w *Writer) line(d workloads.Diagnostic) string {
	d.Severity = w.severity(d)
	if d.Pos.File == "" {
		s := d.Severity.String() + ": " + d.Message
		if d.Field != "" {
			s += " (" + d.Field + ")"
		}
		return s + " [" + d.Rule + "]"
	}
	return d.String()
}

// message is a diagnostic's message with its field path, as SARIF and JUnit
// show it.
func message(d workloads.Diagnostic) string {
	if d.Field == "" {
		return d.Message
	}
	return d.Message + " (" + d.Field + ")"
}

// plural formats n with the singular or plural noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func itoa(n int) string { return strconv.Itoa(n) }
