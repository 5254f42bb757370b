package report

import (
	"strings"

	"github.com/berth-io/berth/workloads"
)

// textDiagnostics prints one line per diagnostic, in one write.
func (w *Writer) textDiagnostics(ds []workloads.Diagnostic) {
	w.buf = w.buf[:0]
	for _, d := range ds {
		w.buf = append(w.buf, w.line(d)...)
		w.buf = append(w.buf, '\n')
	}
	w.write(w.buf)
}

func (w *Writer) closeText(s workloads.Summary) error {
	if w.opts.Summary {
		w.write([]byte(summaryLine(s, w.opts.Strict) + "\n"))
	}
	return w.err
}

// summaryLine formats the last line of text output, for example
//
//	Summary: 76 documents in 19 files: 70 valid, 1 invalid, 5 ignored (not served by berth); 1 error, 12 warnings
//
// Zero ignored documents are not mentioned, nor the breakdown of zero
// documents. Under strict, warnings are counted with the errors.
func summaryLine(s workloads.Summary, strict bool) string {
	var b strings.Builder
	b.WriteString("Summary: ")
	b.WriteString(plural(s.Documents, "document", "documents"))
	b.WriteString(" in ")
	b.WriteString(plural(s.Files, "file", "files"))
	if s.Documents > 0 {
		b.WriteString(": ")
		b.WriteString(itoa(s.Valid) + " valid, " + itoa(s.Invalid) + " invalid")
		if s.Ignored > 0 {
			b.WriteString(", " + itoa(s.Ignored) + " ignored (not served by berth)")
		}
	}
	b.WriteString("; ")
	if strict {
		b.WriteString(plural(s.Errors+s.Warnings, "error", "errors"))
		b.WriteString(" (strict: warnings count as errors)")
	} else {
		b.WriteString(plural(s.Errors, "error", "errors"))
		b.WriteString(", ")
		b.WriteString(plural(s.Warnings, "warning", "warnings"))
	}
	return b.String()
}
