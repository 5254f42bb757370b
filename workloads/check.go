package workloads

import (
	"strconv"
	"strings"

	"github.com/berth-io/berth/workloads/yamltree"
)

// Checker defaults and validates decoded objects one at a time, and checks
// what only the whole input can tell: duplicate objects and references to
// ConfigMaps and Secrets that are not there. It keeps only keys and
// positions, so its memory does not grow with the size of the objects.
type Checker struct {
	seen  map[Key]Position
	refs  []pendingRef
	found map[Key]bool // ConfigMaps and Secrets in the input
}

// pendingRef is a reference to check once the whole input is read. Its
// strings are copies: a name sliced from a document would keep that whole
// document in memory until the end of the run.
type pendingRef struct {
	target Key
	path   string
	pos    Position
	object string
}

// NewChecker returns a Checker for one input (a Git revision, a validate run).
func NewChecker() *Checker {
	return &Checker{seen: map[Key]Position{}, found: map[Key]bool{}}
}

// Check applies Kubernetes' defaults to o.Obj, validates it and returns what
// it found, each finding placed at its file position.
func (c *Checker) Check(o *Object) []Diagnostic {
	Default(o.Obj)
	key := o.Key()
	key.Namespace, key.Name = strings.Clone(key.Namespace), strings.Clone(key.Name) // kept past o, see pendingRef
	object := key.String()
	var out []Diagnostic
	add := func(f Finding) {
		path := ""
		if f.Path != nil {
			path = f.Path.String()
		}
		out = append(out, Diagnostic{
			Severity: f.Severity, Pos: o.position(path), Field: path,
			Rule: f.Rule, Message: f.Message, Object: object,
		})
	}
	for _, f := range validateObject(o.Obj) {
		add(f)
	}
	for _, f := range notHonoured(key.Kind, o.Tree) {
		add(f)
	}
	if key.Name != "" {
		if first, dup := c.seen[key]; dup {
			out = append(out, Diagnostic{
				Severity: SeverityError, Pos: o.position("metadata.name"), Field: "metadata.name",
				Rule: RuleDuplicateObject, Object: object,
				Message: object + " is defined twice; the first is at " + first.String(),
			})
		} else {
			c.seen[key] = o.position("metadata.name")
		}
	}
	if key.Kind == "ConfigMap" || key.Kind == "Secret" {
		c.found[key] = true
	}
	for _, r := range configReferences(o.Obj) {
		if r.Optional {
			continue
		}
		path := r.Path.String()
		target := Key{Kind: r.Kind, Namespace: strings.Clone(r.Namespace), Name: strings.Clone(r.Name)}
		c.refs = append(c.refs, pendingRef{target: target, path: path, pos: o.position(path), object: object})
	}
	return out
}

// Finish reports the references to ConfigMaps and Secrets that no document
// of the input defines. They are warnings: the object may exist already.
func (c *Checker) Finish() []Diagnostic {
	var out []Diagnostic
	for _, p := range c.refs {
		if c.found[p.target] {
			continue
		}
		out = append(out, Diagnostic{
			Severity: SeverityWarning, Pos: p.pos, Field: p.path, Rule: RuleMissingRef, Object: p.object,
			Message: p.target.String() + " is not defined in the input; pods will not start until it exists",
		})
	}
	c.refs = nil
	return out
}

// position finds where the field at path sits in the document. A field
// that was not written (a default, a missing required field) is placed at
// its nearest written ancestor.
func (o *Object) position(path string) Position {
	n := locate(o.Tree, path)
	line, col := o.Line, 1
	if n != (yamltree.Pos{}) {
		line, col = n.Line, n.Col
	}
	return Position{File: o.File, Line: line, Col: col}
}

// locate walks a Kubernetes field path (spec.containers[0].env[1].name,
// metadata.labels[app.kubernetes.io/name]) through the tree and returns the
// position of the deepest node it reaches: a mapping entry's key, a
// sequence item.
func locate(tree *yamltree.Node, path string) yamltree.Pos {
	if tree == nil {
		return yamltree.Pos{}
	}
	n, pos := tree, tree.Pos
	for path != "" && n != nil {
		var seg string
		index := -1
		switch {
		case path[0] == '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return pos
			}
			seg, path = path[1:end], path[end+1:]
			if i, err := strconv.Atoi(seg); err == nil && n.Kind == yamltree.Seq {
				index = i
			}
		default:
			path = strings.TrimPrefix(path, ".")
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			seg, path = path[:end], path[end:]
		}
		switch {
		case index >= 0:
			if index >= len(n.Items) {
				return pos
			}
			n = n.Items[index]
			pos = n.Pos
		case n.Kind == yamltree.Map:
			var next *yamltree.Node
			for i := range n.Fields {
				if n.Fields[i].Key == seg {
					next, pos = n.Fields[i].Value, n.Fields[i].KeyPos
					break
				}
			}
			if next == nil {
				return pos
			}
			n = next
		default:
			return pos
		}
	}
	return pos
}
