package yamltree

import (
	"bytes"
	"testing"
)

// checkDoc runs the differential checks on one document: the fast parser
// (unless it bails) must agree with the fallback, positions included, and
// the value must be what sigs.k8s.io/yaml gives.
func checkDoc(t *testing.T, name string, doc []byte, firstLine int, wantFast, mayFail bool) {
	t.Helper()
	fast, fastErr, bailed, fb, fbErr := parseBoth(doc, firstLine, DefaultLimits)
	if wantFast && bailed {
		t.Errorf("%s: fast parser bailed", name)
	}
	if !bailed {
		if (fastErr == nil) != (fbErr == nil) {
			t.Errorf("%s: fast error %v, fallback error %v", name, fastErr, fbErr)
		} else if fastErr == nil {
			if d := treeDiff(fast, fb, "$"); d != "" {
				t.Errorf("%s: fast and fallback differ: %s", name, d)
			}
		}
	}
	// We must fail where YAMLToJSON fails, and may fail only where
	// YAMLToJSONStrict fails too (duplicate keys), unless the case is a
	// deliberate difference; what we accept must have YAMLToJSON's value.
	want, sigsErr := sigsValue(doc, false)
	_, strictErr := sigsValue(doc, true)
	switch {
	case sigsErr != nil && fbErr == nil:
		t.Errorf("%s: sigs.k8s.io/yaml fails (%v), we accept", name, sigsErr)
	case strictErr == nil && fbErr != nil && !mayFail:
		t.Errorf("%s: sigs.k8s.io/yaml accepts, we fail: %v", name, fbErr)
	case sigsErr == nil && fbErr == nil:
		if got := generic(fb); !valuesEqual(got, want) {
			t.Errorf("%s: value differs from sigs.k8s.io/yaml\n got: %#v\nwant: %#v", name, got, want)
		}
	}
	if fbErr != nil {
		if _, ok := fbErr.(*Error); !ok {
			t.Errorf("%s: error is %T, not *Error", name, fbErr)
		}
	}
}

func TestCorpusDifferential(t *testing.T) {
	docs := corpusDocs(t)
	if len(docs) < 20 {
		t.Fatalf("only %d corpus documents found", len(docs))
	}
	fastCount := 0
	for _, d := range docs {
		checkDoc(t, d.name, d.text, d.firstLine, false, false)
		if _, _, bailed, _, _ := parseBoth(d.text, d.firstLine, DefaultLimits); !bailed {
			fastCount++
			// The same with Windows line breaks stays on the fast path.
			crlf := bytes.ReplaceAll(d.text, []byte("\n"), []byte("\r\n"))
			checkDoc(t, d.name+" (CRLF)", crlf, d.firstLine, true, false)
		} else {
			t.Logf("%s: fast parser bailed", d.name)
		}
	}
	t.Logf("%d of %d corpus documents took the fast path", fastCount, len(docs))
	if fastCount*10 < len(docs)*9 {
		t.Errorf("fast path taken for only %d of %d corpus documents", fastCount, len(docs))
	}
}
