package yamltree

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// testDoc is one document cut from a file.
type testDoc struct {
	name      string
	text      []byte
	firstLine int
}

// splitDocs cuts a file on lines starting with "---", as berth's splitter does.
func splitDocs(name string, data []byte) []testDoc {
	var docs []testDoc
	lines := bytes.SplitAfter(data, []byte("\n"))
	start, startLine := 0, 1
	off := 0
	for i, l := range lines {
		if i > 0 && bytes.HasPrefix(l, []byte("---")) {
			docs = append(docs, testDoc{fmt.Sprintf("%s:%d", name, startLine), data[start:off], startLine})
			start, startLine = off, i+1
		}
		off += len(l)
	}
	docs = append(docs, testDoc{fmt.Sprintf("%s:%d", name, startLine), data[start:], startLine})
	return docs
}

func corpusDocs(t testing.TB) []testDoc {
	var docs []testDoc
	// The real-world corpus is kept in the repository (see its SOURCES.md).
	root := filepath.Join("..", "testdata", "corpus", "real-world")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		docs = append(docs, splitDocs(filepath.Base(path), data)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// generic turns a tree into the values encoding/json would give, numbers
// normalised by normNumber.
func generic(n *Node) any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case Null:
		return nil
	case Bool:
		return n.Bool
	case Int:
		return n.Int
	case Float:
		return n.Float
	case String:
		if n.Binary {
			// sigs.k8s.io/yaml yields the decoded bytes, through JSON.
			b, _ := base64.StdEncoding.DecodeString(n.Text)
			j, _ := json.Marshal(string(b))
			var s string
			_ = json.Unmarshal(j, &s)
			return s
		}
		return n.Text
	case Seq:
		out := make([]any, len(n.Items))
		for i, it := range n.Items {
			out[i] = generic(it)
		}
		return out
	case Map:
		out := make(map[string]any, len(n.Fields))
		for _, f := range n.Fields {
			out[f.Key] = generic(f.Value)
		}
		return out
	}
	return fmt.Sprintf("<bad kind %d>", n.Kind)
}

// sigsValue is what sigs.k8s.io/yaml makes of doc, decoded like ours.
func sigsValue(doc []byte, strict bool) (any, error) {
	conv := sigsyaml.YAMLToJSON
	if strict {
		conv = sigsyaml.YAMLToJSONStrict
	}
	j, err := conv(doc)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// valuesEqual compares a generic tree of ours with one decoded from JSON
// with UseNumber: an Int must print as the same integer, a Float must
// parse back to the same float64.
func valuesEqual(got, want any) bool {
	switch w := want.(type) {
	case json.Number:
		switch g := got.(type) {
		case int64:
			if strconv.FormatInt(g, 10) == string(w) {
				return true
			}
			f, err := w.Float64()
			return err == nil && f == float64(g) && math.Abs(f) < 1<<53
		case float64:
			f, err := w.Float64()
			return err == nil && f == g
		}
		return false
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !valuesEqual(g[i], w[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !valuesEqual(gv, wv) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}

// treeDiff describes the first difference between two trees, positions
// and kinds included, or returns "".
func treeDiff(a, b *Node, path string) string {
	if a == nil || b == nil {
		if a == b {
			return ""
		}
		return fmt.Sprintf("%s: %v vs %v", path, dump(a), dump(b))
	}
	if a.Kind != b.Kind || a.Pos != b.Pos || a.Text != b.Text || a.Bool != b.Bool ||
		a.Int != b.Int || !sameFloat(a.Float, b.Float) || a.Binary != b.Binary ||
		len(a.Items) != len(b.Items) || len(a.Fields) != len(b.Fields) {
		return fmt.Sprintf("%s: %s vs %s", path, dump(a), dump(b))
	}
	for i := range a.Items {
		if d := treeDiff(a.Items[i], b.Items[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
			return d
		}
	}
	for i := range a.Fields {
		fa, fb := a.Fields[i], b.Fields[i]
		if fa.Key != fb.Key || fa.KeyPos != fb.KeyPos {
			return fmt.Sprintf("%s: key %q@%v vs %q@%v", path, fa.Key, fa.KeyPos, fb.Key, fb.KeyPos)
		}
		if d := treeDiff(fa.Value, fb.Value, path+"."+fa.Key); d != "" {
			return d
		}
	}
	return ""
}

func sameFloat(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

func dump(n *Node) string {
	if n == nil {
		return "nil"
	}
	s := fmt.Sprintf("%s@%d:%d", n.Kind, n.Pos.Line, n.Pos.Col)
	switch n.Kind {
	case Map:
		keys := make([]string, len(n.Fields))
		for i, f := range n.Fields {
			keys[i] = fmt.Sprintf("%q@%d:%d", f.Key, f.KeyPos.Line, f.KeyPos.Col)
		}
		sort.Strings(keys)
		return s + "{" + strings.Join(keys, " ") + "}"
	case Seq:
		return fmt.Sprintf("%s[%d]", s, len(n.Items))
	}
	return fmt.Sprintf("%s %q b=%v i=%d f=%v bin=%v", s, n.Text, n.Bool, n.Int, n.Float, n.Binary)
}

// parseBoth runs the fast parser (bailed reports whether it gave up) and
// the fallback on doc.
func parseBoth(doc []byte, firstLine int, lim Limits) (fast *Node, fastErr error, bailed bool, fb *Node, fbErr error) {
	lim = lim.normalize()
	info, err := prescan(doc, firstLine)
	if err != nil {
		return nil, err, true, nil, err
	}
	bailed = true
	if info.fastOK {
		fast, fastErr = parseFast(doc, firstLine, lim, info)
		bailed = fastErr == errBail
	}
	fb, fbErr = parseFallback(doc, firstLine, lim)
	return
}
