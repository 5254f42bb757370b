package yamltree

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fuzzLimits keep pathological inputs cheap while still exercising the
// limit checks.
var fuzzLimits = Limits{MaxDepth: 50, MaxNodes: 20000}

func addSeeds(f *testing.F) {
	for _, d := range corpusDocs(f) {
		f.Add(d.text)
	}
	for _, tc := range trickyInputs {
		f.Add([]byte(tc.doc))
	}
}

// FuzzParse: Parse never panics, fails only with *Error, and is quick.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		start := time.Now()
		n, err := Parse(doc, 7, fuzzLimits)
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("Parse took %v", took)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if e.Kind != KindSyntax && e.Kind != KindDuplicateKey && e.Kind != KindAliasBomb && e.Kind != KindTooDeep {
				t.Fatalf("bad error kind %q", e.Kind)
			}
			if n != nil {
				t.Fatal("node returned with an error")
			}
			return
		}
		if n != nil && n.Kind == Null {
			t.Fatal("a null document must give a nil node")
		}
	})
}

// FuzzFastVsFallback: whenever the fast parser accepts a document, the
// fallback gives the same tree; whenever sigs.k8s.io/yaml (strict) and we
// accept it, the values are equal.
func FuzzFastVsFallback(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		fast, fastErr, bailed, fb, fbErr := parseBoth(doc, 3, fuzzLimits)
		if !bailed && fastErr == nil {
			if fbErr != nil {
				t.Fatalf("fast parser accepts, fallback fails: %v", fbErr)
			}
			if d := treeDiff(fast, fb, "$"); d != "" {
				t.Fatalf("fast and fallback differ: %s", d)
			}
		}
		if fbErr != nil || hasNonSpecificTag(doc) {
			return
		}
		want, err := sigsValue(doc, true)
		if err != nil {
			return
		}
		if got := generic(fb); !valuesEqual(got, want) {
			t.Fatalf("value differs from sigs.k8s.io/yaml\n got: %#v\nwant: %#v", got, want)
		}
	})
}

// hasNonSpecificTag spots a lone "!" tag (or its verbatim form "!<!>") (roughly: over-matching only skips
// more). yaml.v3's node tree does not keep it, so "! 5" reads as the
// integer 5 where yaml.v2 gives the string "5": a known difference.
func hasNonSpecificTag(doc []byte) bool {
	if strings.Contains(string(doc), "!<!>") {
		return true
	}
	for i, c := range doc {
		if c != '!' {
			continue
		}
		before := i == 0 || strings.IndexByte(" \t\r\n[{,:-?", doc[i-1]) >= 0
		after := i+1 == len(doc) || strings.IndexByte(" \t\r\n,]}", doc[i+1]) >= 0
		if before && after {
			return true
		}
	}
	return false
}
