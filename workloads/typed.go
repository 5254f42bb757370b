package workloads

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-io/berth/workloads/yamltree"
)

// typedDecoder fills typed Kubernetes objects from yamltree nodes with the
// semantics kubectl gets from sigs.k8s.io/yaml + strict JSON decoding
// (case-sensitive field names, unknown fields refused, numbers into strings
// refused), but walks the tree directly: it is faster than a JSON round trip
// and every error knows its field path and position. It is not safe for
// concurrent use (it caches type layouts and reuses a path stack).
type typedDecoder struct {
	structs      map[reflect.Type]*structLayout
	selfDecoding map[reflect.Type]selfDecoding
	path         []pathSeg
	errs         []typedError
	scratch      []byte
}

// typedError is a decoding problem at a field of the object.
type typedError struct {
	Pos     yamltree.Pos
	Field   string
	Rule    string
	Message string
}

// pathSeg is one step of the field path being decoded.
type pathSeg struct {
	name  string // field name, or map key when isKey
	index int    // sequence index when name == "" && !isKey
	isKey bool
}

// selfDecoding says how a type decodes itself, if it does.
type selfDecoding uint8

const (
	byReflection selfDecoding = iota
	viaJSON                   // json.Unmarshaler: IntOrString, Quantity, Time, ...
	viaText                   // encoding.TextUnmarshaler, for strings
)

// decodesItself reports (and caches: reflect's Implements is slow) whether
// *t decodes itself.
func (d *typedDecoder) decodesItself(t reflect.Type) selfDecoding {
	if how, ok := d.selfDecoding[t]; ok {
		return how
	}
	how := byReflection
	switch pt := reflect.PointerTo(t); {
	case pt.Implements(jsonUnmarshalerType):
		how = viaJSON
	case pt.Implements(textUnmarshalerType):
		how = viaText
	}
	d.selfDecoding[t] = how
	return how
}

type structLayout struct {
	fields map[string]fieldLayout
	names  []string // for "did you mean" suggestions
}

type fieldLayout struct {
	index []int
	typ   reflect.Type
}

const maxTypedErrors = 50

func newTypedDecoder() *typedDecoder {
	return &typedDecoder{structs: map[reflect.Type]*structLayout{}, selfDecoding: map[reflect.Type]selfDecoding{}}
}

// decode fills obj (a pointer to a struct) from n and returns the problems
// found, at most maxTypedErrors of them.
func (d *typedDecoder) decode(n *yamltree.Node, obj any) []typedError {
	d.path = d.path[:0]
	d.errs = nil
	d.value(n, reflect.ValueOf(obj).Elem())
	return d.errs
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	byteSliceType       = reflect.TypeFor[[]byte]()
)

func (d *typedDecoder) value(n *yamltree.Node, v reflect.Value) {
	if len(d.errs) >= maxTypedErrors {
		return
	}
	if n == nil || n.Kind == yamltree.Null {
		// As encoding/json: null clears pointers, maps, slices and
		// interfaces and leaves everything else alone.
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		}
		return
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem())
		return
	}
	decodesItself := d.decodesItself(v.Type())
	if decodesItself == viaJSON {
		d.unmarshalJSON(n, v.Addr().Interface().(json.Unmarshaler))
		return
	}
	if n.Kind == yamltree.String && decodesItself == viaText {
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Text)); err != nil {
			d.fail(n.Pos, RuleWrongType, err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structValue(n, v)
	case reflect.Map:
		d.mapValue(n, v)
	case reflect.Slice:
		if v.Type() == byteSliceType || v.Type().Elem().Kind() == reflect.Uint8 {
			d.bytesValue(n, v)
			return
		}
		d.sliceValue(n, v)
	case reflect.String:
		if n.Kind != yamltree.String {
			d.wrongType(n, "string")
			return
		}
		v.SetString(n.Text)
	case reflect.Bool:
		if n.Kind != yamltree.Bool {
			d.wrongType(n, "boolean")
			return
		}
		v.SetBool(n.Bool)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := d.integer(n)
		if !ok {
			return
		}
		if v.OverflowInt(i) {
			d.fail(n.Pos, RuleWrongType, fmt.Sprintf("%d is out of range for a %s", i, v.Type().Kind()))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, ok := d.integer(n)
		if !ok {
			return
		}
		if i < 0 || v.OverflowUint(uint64(i)) {
			d.fail(n.Pos, RuleWrongType, fmt.Sprintf("%d is out of range for a %s", i, v.Type().Kind()))
			return
		}
		v.SetUint(uint64(i))
	case reflect.Float32, reflect.Float64:
		switch n.Kind {
		case yamltree.Int:
			v.SetFloat(float64(n.Int))
		case yamltree.Float:
			v.SetFloat(n.Float)
		default:
			d.wrongType(n, "number")
		}
	case reflect.Interface:
		d.unmarshalJSONInto(n, v.Addr().Interface())
	default:
		d.fail(n.Pos, RuleWrongType, "berth cannot decode a field of type "+v.Type().String())
	}
}

// integer reads an integer the way kubectl would accept it: a YAML integer,
// or a float with no fraction (sigs.k8s.io/yaml turns 3.0 and 1e3 into the
// JSON numbers 3 and 1000).
func (d *typedDecoder) integer(n *yamltree.Node) (int64, bool) {
	switch n.Kind {
	case yamltree.Int:
		return n.Int, true
	case yamltree.Float:
		if n.Float == math.Trunc(n.Float) && math.Abs(n.Float) < 1<<63 {
			return int64(n.Float), true
		}
		d.fail(n.Pos, RuleWrongType, "expected an integer, got "+n.Text)
		return 0, false
	}
	d.wrongType(n, "integer")
	return 0, false
}

func (d *typedDecoder) structValue(n *yamltree.Node, v reflect.Value) {
	if n.Kind != yamltree.Map {
		d.wrongType(n, "mapping")
		return
	}
	layout := d.layout(v.Type())
	for i := range n.Fields {
		f := &n.Fields[i]
		d.path = append(d.path, pathSeg{name: f.Key})
		fl, ok := layout.fields[f.Key]
		if !ok {
			d.fail(f.KeyPos, RuleUnknownField, unknownFieldMessage(f.Key, layout.names))
		} else {
			d.value(f.Value, fieldByIndex(v, fl.index))
		}
		d.path = d.path[:len(d.path)-1]
	}
}

// fieldByIndex is reflect.Value.FieldByIndex allocating nil embedded
// pointers on the way (k8s.io/api embeds by value, but be safe).
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

func (d *typedDecoder) mapValue(n *yamltree.Node, v reflect.Value) {
	if n.Kind != yamltree.Map {
		d.wrongType(n, "mapping")
		return
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.fail(n.Pos, RuleWrongType, "berth cannot decode a map keyed by "+t.Key().String())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(t, len(n.Fields)))
	}
	elem := reflect.New(t.Elem()).Elem()
	for i := range n.Fields {
		f := &n.Fields[i]
		d.path = append(d.path, pathSeg{name: f.Key, isKey: true})
		elem.SetZero()
		d.value(f.Value, elem)
		v.SetMapIndex(reflect.ValueOf(f.Key).Convert(t.Key()), elem)
		d.path = d.path[:len(d.path)-1]
	}
}

func (d *typedDecoder) sliceValue(n *yamltree.Node, v reflect.Value) {
	if n.Kind != yamltree.Seq {
		d.wrongType(n, "list")
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Items), len(n.Items))
	for i, it := range n.Items {
		d.path = append(d.path, pathSeg{index: i})
		d.value(it, s.Index(i))
		d.path = d.path[:len(d.path)-1]
	}
	v.Set(s)
}

// bytesValue decodes base64 text into []byte, as JSON does (Secret.data).
func (d *typedDecoder) bytesValue(n *yamltree.Node, v reflect.Value) {
	if n.Kind != yamltree.String {
		d.wrongType(n, "base64 string")
		return
	}
	text := n.Text
	if n.Binary {
		// !!binary scalars may be folded over several lines.
		text = strings.Join(strings.Fields(text), "")
	}
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		d.fail(n.Pos, RuleWrongType, "expected base64 data: "+err.Error()+" (use stringData for plain text)")
		return
	}
	v.SetBytes(b)
}

func (d *typedDecoder) unmarshalJSON(n *yamltree.Node, u json.Unmarshaler) {
	d.scratch = yamltree.AppendJSON(d.scratch[:0], n)
	if err := u.UnmarshalJSON(d.scratch); err != nil {
		d.fail(n.Pos, RuleWrongType, cleanJSONError(err))
	}
}

func (d *typedDecoder) unmarshalJSONInto(n *yamltree.Node, ptr any) {
	d.scratch = yamltree.AppendJSON(d.scratch[:0], n)
	if err := json.Unmarshal(d.scratch, ptr); err != nil {
		d.fail(n.Pos, RuleWrongType, cleanJSONError(err))
	}
}

func cleanJSONError(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}

func (d *typedDecoder) wrongType(n *yamltree.Node, want string) {
	got := n.Kind.String()
	msg := "expected " + article(want) + ", got " + got
	switch n.Kind {
	case yamltree.String:
		msg += " " + strconv.Quote(n.Text)
	case yamltree.Map, yamltree.Seq:
	default:
		msg += " " + n.Text
	}
	if want == "string" && n.Kind != yamltree.Map && n.Kind != yamltree.Seq {
		// YAML reads yes, on, 8080 and 1.10 as booleans and numbers; the
		// fix is always the same.
		msg += `; quote it: "` + n.Text + `"`
	}
	d.fail(n.Pos, RuleWrongType, msg)
}

func article(noun string) string {
	switch noun[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + noun
	}
	return "a " + noun
}

func (d *typedDecoder) fail(pos yamltree.Pos, rule, msg string) {
	if len(d.errs) >= maxTypedErrors {
		return
	}
	d.errs = append(d.errs, typedError{Pos: pos, Field: d.pathString(), Rule: rule, Message: msg})
}

// pathString formats the current path as Kubernetes field paths do:
// spec.containers[0].env[1].name, metadata.labels[app].
func (d *typedDecoder) pathString() string {
	return fieldPath(d.path).String()
}

// fieldPath turns a stack of path segments into a field.Path.
func fieldPath(segs []pathSeg) *field.Path {
	var p *field.Path
	for _, s := range segs {
		switch {
		case p == nil:
			p = field.NewPath(s.name)
		case s.isKey:
			p = p.Key(s.name)
		case s.name == "":
			p = p.Index(s.index)
		default:
			p = p.Child(s.name)
		}
	}
	return p
}

// layout returns the JSON field layout of struct type t, following
// encoding/json's rules for tags and embedded structs.
func (d *typedDecoder) layout(t reflect.Type) *structLayout {
	if l, ok := d.structs[t]; ok {
		return l
	}
	l := &structLayout{fields: map[string]fieldLayout{}}
	d.structs[t] = l
	collectFields(t, nil, l)
	return l
}

func collectFields(t reflect.Type, prefix []int, l *structLayout) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		index := append(append([]int(nil), prefix...), i)
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectFields(ft, index, l)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := l.fields[name]; dup {
			continue // the shallower field wins, as in encoding/json
		}
		l.fields[name] = fieldLayout{index: index, typ: sf.Type}
		l.names = append(l.names, name)
	}
}

// unknownFieldMessage names the unknown field and, when one is close, the
// field the user probably meant.
func unknownFieldMessage(key string, names []string) string {
	msg := "unknown field " + strconv.Quote(key)
	best, bestDist := "", 3
	for _, n := range names {
		if strings.EqualFold(n, key) {
			return msg + "; did you mean " + strconv.Quote(n) + "? (field names are case-sensitive)"
		}
		if dist := editDistance(n, key, bestDist); dist < bestDist {
			best, bestDist = n, dist
		}
	}
	if best != "" {
		msg += "; did you mean " + strconv.Quote(best) + "?"
	}
	return msg
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// at least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
