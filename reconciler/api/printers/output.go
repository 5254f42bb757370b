package printers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/berth-io/berth/reconciler/store"
)

// Output formats of `get -o`.
const (
	FormatTable = "table"
	FormatWide  = "wide"
	FormatJSON  = "json"
	FormatYAML  = "yaml"
)

// ParseFormat checks an -o value ("" is the table).
func ParseFormat(s string) (string, error) {
	switch s {
	case "", FormatTable:
		return FormatTable, nil
	case FormatWide, FormatJSON, FormatYAML:
		return s, nil
	}
	return "", fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json, wide, yaml (and table, the default)", s)
}

// list is what kubectl prints for several objects.
type list struct {
	APIVersion string         `json:"apiVersion"`
	Items      []store.Object `json:"items"`
	Kind       string         `json:"kind"`
	Metadata   listMeta       `json:"metadata"`
}

type listMeta struct {
	ResourceVersion string `json:"resourceVersion"`
}

// PrintObject writes one object as JSON or YAML, Kubernetes-shaped
// (apiVersion, kind, metadata, spec, status).
func PrintObject(w io.Writer, format string, obj store.Object) error {
	if err := setTypeMeta(obj); err != nil {
		return err
	}
	return encode(w, format, obj)
}

// PrintList writes objects as kubectl prints a list: {"apiVersion": "v1",
// "items": [...], "kind": "List", "metadata": {"resourceVersion": ""}}.
func PrintList(w io.Writer, format string, objs []store.Object) error {
	for _, obj := range objs {
		if err := setTypeMeta(obj); err != nil {
			return err
		}
	}
	l := list{APIVersion: "v1", Kind: "List", Items: objs}
	if l.Items == nil {
		l.Items = []store.Object{}
	}
	return encode(w, format, l)
}

func encode(w io.Writer, format string, v any) error {
	switch format {
	case FormatJSON:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "    ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		_, err := w.Write(buf.Bytes())
		return err
	case FormatYAML:
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("printers: %q is not json or yaml", format)
}

// setTypeMeta fills in apiVersion and kind, which typed objects decoded
// from the API may lack.
func setTypeMeta(obj store.Object) error {
	if !obj.GetObjectKind().GroupVersionKind().Empty() {
		return nil
	}
	kind, err := store.KindOf(obj)
	if err != nil {
		return err
	}
	blank, err := store.New(kind)
	if err != nil {
		return err
	}
	gvk := blank.GetObjectKind().GroupVersionKind()
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind})
	return nil
}
