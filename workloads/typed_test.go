package workloads

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// decodeWithKubectlPath decodes one document the way kubectl and the API
// server do: sigs.k8s.io/yaml to JSON, then strict case-sensitive JSON.
// It returns nil when that path refuses the document.
func decodeWithKubectlPath(doc []byte, o *Object) any {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil
	}
	ref := lookupServed(o.Obj.GetObjectKind().GroupVersionKind().GroupVersion().String(), o.Kind()).new()
	if strict, err := kjson.UnmarshalStrict(j, ref); err != nil || len(strict) > 0 {
		return nil
	}
	return ref
}

// berth's typed decoder must give exactly the objects kubectl would, for
// every served document of the corpus and of the examples.
func TestTypedDecodeMatchesKubectl(t *testing.T) {
	var files []string
	for _, g := range []string{"testdata/corpus/real-world/*.yaml", "../examples/*/*.yaml"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	compared := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs := splitForTest(data)
		err = NewDecoder().DecodeFile(f, bytes.NewReader(data), func(d Decoded) {
			if d.Object == nil || d.Object.Doc >= len(docs) {
				return
			}
			if kind := d.Object.Kind(); d.Result.Kind == "List" || kind == "" {
				return
			}
			want := decodeWithKubectlPath(docs[d.Object.Doc], d.Object)
			if want == nil {
				return // e.g. an item of a List
			}
			got, _ := json.Marshal(d.Object.Obj)
			wantJSON, _ := json.Marshal(want)
			if !bytes.Equal(got, wantJSON) {
				t.Errorf("%s doc %d:\nberth:   %s\nkubectl: %s", f, d.Object.Doc, got, wantJSON)
			}
			compared++
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if compared < 50 {
		t.Fatalf("only %d documents compared", compared)
	}
}

// splitForTest cuts a file into its non-empty documents, as the decoder
// numbers them.
func splitForTest(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range strings.Split("\n"+string(data), "\n---") {
		var v any
		if yaml.Unmarshal([]byte(d), &v) == nil && v != nil {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}
