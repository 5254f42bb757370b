package report

import (
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/berth-io/berth/workloads"
)

// The JUnit XML read by GitLab, Jenkins and the GitHub test reporters: one
// testsuite per file, one testcase per document. Times are always 0 (it is
// a static check) but present, for readers that require them.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string `xml:"name,attr"`
	Classname string `xml:"classname,attr"`
	// File is read by GitLab to link the test to its file.
	File      string        `xml:"file,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitSkipped `xml:"skipped"`
	Error     *junitFailure `xml:"error"`
	Failure   *junitFailure `xml:"failure"`
	SystemOut *junitText    `xml:"system-out"`
}

type junitText struct {
	Text string `xml:",innerxml"` // escaped by xmlText
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// junitFailure is a <failure> (the manifest is wrong) or an <error> (berth
// could not read it): the first finding as message and type, every finding
// as text lines.
type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",innerxml"` // escaped by xmlText
}

func (w *Writer) closeJUnit() error {
	root := junitSuites{Name: "berth validate", Time: "0"}
	index := map[string]int{} // file → its suite in root.Suites
	suite := func(file string) *junitSuite {
		name := file
		if name == "" {
			name = "berth validate"
		}
		i, ok := index[name]
		if !ok {
			i = len(root.Suites)
			index[name] = i
			root.Suites = append(root.Suites, junitSuite{Name: name, Time: "0"})
		}
		return &root.Suites[i]
	}
	w.walk(func(r *workloads.DocumentResult) {
		s := suite(r.File)
		c := w.junitCase(caseName(r), className(r), r.File, r.Diagnostics, false)
		if r.Ignored && c.Failure == nil {
			c.Skipped = &junitSkipped{Message: "not served by berth"}
		}
		s.add(c)
	}, func(d *workloads.Diagnostic) {
		s := suite(d.Pos.File)
		name := d.Pos.File
		if name == "" {
			name = "input"
		}
		s.add(w.junitCase(name, d.Rule, d.Pos.File, []workloads.Diagnostic{*d}, d.Rule == workloads.RuleIOError))
	})
	for _, s := range root.Suites {
		root.Tests += s.Tests
		root.Failures += s.Failures
		root.Errors += s.Errors
		root.Skipped += s.Skipped
	}
	out, err := xml.MarshalIndent(root, "", "  ")
	if err != nil {
		return err
	}
	w.write([]byte(xml.Header))
	w.write(out)
	w.write([]byte("\n"))
	return w.err
}

func (s *junitSuite) add(c junitCase) {
	s.Tests++
	switch {
	case c.Error != nil:
		s.Errors++
	case c.Failure != nil:
		s.Failures++
	case c.Skipped != nil:
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

// junitCase puts the findings that count as errors in a <failure> (or an
// <error> when asError) and the warnings in <system-out>.
func (w *Writer) junitCase(name, class, file string, ds []workloads.Diagnostic, asError bool) junitCase {
	c := junitCase{Name: name, Classname: class, File: file, Time: "0"}
	var fail *junitFailure
	var failed int
	var errs, out strings.Builder
	for _, d := range ds {
		if w.severity(d) == workloads.SeverityWarning {
			out.WriteString(w.line(d) + "\n")
			continue
		}
		if fail == nil {
			fail = &junitFailure{Message: message(d), Type: d.Rule}
		}
		failed++
		errs.WriteString(w.line(d) + "\n")
	}
	if fail != nil {
		if failed > 1 {
			fail.Message += " (and " + plural(failed-1, "more error", "more errors") + ")"
		}
		fail.Text = xmlText(strings.TrimSuffix(errs.String(), "\n"))
		if asError {
			c.Error = fail
		} else {
			c.Failure = fail
		}
	}
	if out.Len() > 0 {
		c.SystemOut = &junitText{Text: xmlText(strings.TrimSuffix(out.String(), "\n"))}
	}
	return c
}

// xmlText escapes s as element content. Only &, < and > need entities
// (and CR, which XML would otherwise normalise); quotes, tabs and newlines
// stay as they are so the lines read as printed. Characters XML cannot hold
// become U+FFFD.
func xmlText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\r':
			b.WriteString("&#xD;")
		case r == '\n' || r == '\t' || r >= 0x20 && r <= 0xD7FF ||
			r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF:
			b.WriteRune(r)
		default:
			b.WriteRune('\uFFFD')
		}
	}
	return b.String()
}

// caseName names a document's testcase "Kind namespace/name"; a document
// that did not decode that far is "document N", N counting from 1.
func caseName(r *workloads.DocumentResult) string {
	n := "document " + strconv.Itoa(r.Doc+1)
	switch {
	case r.Kind != "" && r.Name != "":
		return workloads.Key{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}.String()
	case r.Kind != "":
		return r.Kind + " (" + n + ")"
	}
	return n
}

// className is "apiVersion/Kind", as far as the document decoded.
func className(r *workloads.DocumentResult) string {
	switch {
	case r.APIVersion != "" && r.Kind != "":
		return r.APIVersion + "/" + r.Kind
	case r.Kind != "":
		return r.Kind
	case r.APIVersion != "":
		return r.APIVersion
	}
	return "document"
}
