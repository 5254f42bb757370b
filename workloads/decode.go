package workloads

import (
	"bufio"
	"errors"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/berth-io/berth/workloads/yamltree"
)

// Decoder turns manifest files into typed objects. It is the one decoding
// path of berth: `berth validate`, a Git sync and the API all use it. A
// Decoder is not safe for concurrent use; make one per goroutine.
type Decoder struct {
	typed  *typedDecoder
	limits yamltree.Limits
	reader *bufio.Reader
}

// NewDecoder returns a Decoder with the default limits.
func NewDecoder() *Decoder {
	return &Decoder{typed: newTypedDecoder(), limits: yamltree.DefaultLimits, reader: bufio.NewReaderSize(nil, 64<<10)}
}

// Decoded is one document (or one item of a List) after decoding.
type Decoded struct {
	Result DocumentResult
	// Object is the typed object; nil when the document did not decode or
	// its kind is not served.
	Object *Object
}

// DecodeFile reads the documents of one file in order and calls yield for
// each (each item of a `kind: List` separately). Problems with a document
// are in its Result; the error is only for reading r, and is returned as is.
func (d *Decoder) DecodeFile(file string, r io.Reader, yield func(Decoded)) error {
	docIndex := 0
	err := splitDocuments(d.reader, r, func(raw rawDocument) error {
		if raw.tooLarge {
			yield(Decoded{Result: documentError(file, docIndex, raw.firstLine, RuleTooLarge, tooLargeMessage())})
			docIndex++
			return nil
		}
		tree, err := yamltree.Parse(raw.text, raw.firstLine, d.limits)
		if err != nil {
			yield(Decoded{Result: yamlError(file, docIndex, raw.firstLine, err)})
			docIndex++
			return nil
		}
		if tree == nil {
			return nil // an empty document: comments, or a trailing "---"
		}
		d.decodeDocument(Origin{File: file, Doc: docIndex, Line: tree.Pos.Line}, tree, yield)
		docIndex++
		return nil
	})
	if errors.Is(err, errNotText) {
		yield(Decoded{Result: documentError(file, 0, 0, RuleBinary, err.Error())})
		return nil
	}
	return err
}

func documentError(file string, doc, line int, rule, msg string) DocumentResult {
	return DocumentResult{
		Origin:      Origin{File: file, Doc: doc, Line: line},
		Diagnostics: []Diagnostic{{Severity: SeverityError, Pos: Position{File: file, Line: line, Col: 1}, Rule: rule, Message: msg}},
	}
}

func yamlError(file string, doc, line int, err error) DocumentResult {
	var yerr *yamltree.Error
	if !errors.As(err, &yerr) {
		return documentError(file, doc, line, RuleYAMLSyntax, err.Error())
	}
	rule := RuleYAMLSyntax
	switch yerr.Kind {
	case "duplicate-key":
		rule = RuleDuplicateKey
	case "alias-bomb":
		rule = RuleYAMLBomb
	case "too-deep":
		rule = RuleTooDeep
	}
	r := documentError(file, doc, line, rule, yerr.Message)
	r.Diagnostics[0].Pos = Position{File: file, Line: yerr.Pos.Line, Col: yerr.Pos.Col}
	r.Diagnostics[0].Field = strings.TrimPrefix(yerr.Field, ".")
	return r
}

// decodeDocument decodes one parsed document, flattening `kind: List`.
func (d *Decoder) decodeDocument(origin Origin, tree *yamltree.Node, yield func(Decoded)) {
	res := DocumentResult{Origin: origin}
	errAt := func(n *yamltree.Node, field, rule, msg string) {
		pos := Position{File: origin.File, Line: origin.Line, Col: 1}
		if n != nil {
			pos.Line, pos.Col = n.Pos.Line, n.Pos.Col
		}
		res.Diagnostics = append(res.Diagnostics, Diagnostic{Severity: SeverityError, Pos: pos, Field: field, Rule: rule, Message: msg})
	}
	if tree.Kind != yamltree.Map {
		errAt(tree, "", RuleNotAnObject, "expected a Kubernetes object (a mapping with apiVersion and kind), got a "+tree.Kind.String())
		yield(Decoded{Result: res})
		return
	}
	apiVersion, kind := stringField(tree, "apiVersion"), stringField(tree, "kind")
	// Results outlive the document (JSON and JUnit output collect them):
	// copy what they keep, or each would pin its whole document in memory.
	res.APIVersion, res.Kind = strings.Clone(apiVersion), strings.Clone(kind)
	if meta := tree.Get("metadata"); meta != nil {
		res.Name, res.Namespace = strings.Clone(stringField(meta, "name")), strings.Clone(stringField(meta, "namespace"))
	}
	switch {
	case apiVersion == "" && kind == "":
		errAt(tree, "", RuleNotAnObject, "not a Kubernetes object: apiVersion and kind are missing")
	case kind == "":
		errAt(tree, "kind", RuleRequired, "kind is required")
	case apiVersion == "":
		errAt(tree, "apiVersion", RuleRequired, "apiVersion is required")
	case kind == "List" && apiVersion == "v1":
		d.decodeList(origin, tree, yield)
		return
	default:
		if sk := lookupServed(apiVersion, kind); sk != nil {
			d.decodeTyped(sk, origin, tree, res, yield)
			return
		}
		if hint := removedHint(apiVersion, kind); hint != "" {
			errAt(tree.Get("apiVersion"), "apiVersion", RuleRemovedAPI, hint)
		} else if isKnownKind(apiVersion, kind) {
			res.Ignored = true
			res.Diagnostics = append(res.Diagnostics, Diagnostic{
				Severity: SeverityWarning, Pos: Position{File: origin.File, Line: tree.Get("kind").Pos.Line, Col: tree.Get("kind").Pos.Col},
				Field: "kind", Rule: RuleUnservedKind, Message: kind + " is not served by berth; ignored",
			})
		} else {
			errAt(tree.Get("kind"), "kind", RuleUnknownKind, unknownKindMessage(apiVersion, kind))
		}
	}
	yield(Decoded{Result: res})
}

func (d *Decoder) decodeList(origin Origin, tree *yamltree.Node, yield func(Decoded)) {
	items := tree.Get("items")
	if items == nil || items.Kind == yamltree.Null {
		return
	}
	if items.Kind != yamltree.Seq {
		res := DocumentResult{Origin: origin, APIVersion: "v1", Kind: "List"}
		res.Diagnostics = []Diagnostic{{Severity: SeverityError, Pos: Position{File: origin.File, Line: items.Pos.Line, Col: items.Pos.Col},
			Field: "items", Rule: RuleWrongType, Message: "expected a list of objects, got " + items.Kind.String()}}
		yield(Decoded{Result: res})
		return
	}
	for _, it := range items.Items {
		o := origin
		o.Line = it.Pos.Line
		d.decodeDocument(o, it, yield)
	}
}

func (d *Decoder) decodeTyped(sk *servedKind, origin Origin, tree *yamltree.Node, res DocumentResult, yield func(Decoded)) {
	obj := sk.new()
	for _, e := range d.typed.decode(tree, obj) {
		res.Diagnostics = append(res.Diagnostics, Diagnostic{
			Severity: SeverityError, Pos: Position{File: origin.File, Line: e.Pos.Line, Col: e.Pos.Col},
			Field: e.Field, Rule: e.Rule, Message: e.Message,
		})
	}
	if len(res.Diagnostics) > 0 {
		yield(Decoded{Result: res})
		return
	}
	gv, _ := schema.ParseGroupVersion(sk.apiVersion)
	obj.GetObjectKind().SetGroupVersionKind(gv.WithKind(sk.kind))
	yield(Decoded{Result: res, Object: &Object{Origin: origin, Obj: obj, Tree: tree}})
}

// stringField returns the string value of the mapping entry key of n, or ""
// (also when it is not a string: the typed decoder reports that).
func stringField(n *yamltree.Node, key string) string {
	v := n.Get(key)
	if v == nil {
		return ""
	}
	switch v.Kind {
	case yamltree.String:
		return v.Text
	case yamltree.Int, yamltree.Float, yamltree.Bool:
		return v.Text
	}
	return ""
}
