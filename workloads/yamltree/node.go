// Package yamltree parses one YAML (or JSON) document into a tree of nodes
// that keep their line and column, with scalars resolved the way
// sigs.k8s.io/yaml resolves them (YAML 1.1, as kubectl does: yes/no/on/off
// are booleans, map keys become strings), duplicate keys rejected, aliases
// expanded within a budget and merge keys (<<) applied.
//
// Parsing is the hot path of `berth validate` and of every Git sync, so the
// common block-style subset of YAML has a fast parser of its own; anything
// outside that subset falls back to go.yaml.in/yaml/v3, and both must give
// the same tree.
package yamltree

// Kind is the type of a node after scalar resolution.
type Kind uint8

const (
	Null Kind = iota
	Bool
	Int
	Float
	String
	Map
	Seq
)

var kindNames = [...]string{"null", "boolean", "integer", "number", "string", "mapping", "sequence"}

// String names the kind as error messages do ("integer", "mapping", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Pos is a 1-based line and column in the file (not the document).
type Pos struct {
	Line, Col int
}

// Node is one value of a document.
type Node struct {
	Kind Kind
	Pos  Pos
	// Text is the scalar as written, after unquoting and block-scalar
	// folding: for a String its value, for Bool/Int/Float/Null the source
	// text (used in messages such as `got boolean "yes"`).
	Text  string
	Bool  bool
	Int   int64
	Float float64
	// Items holds a sequence's elements.
	Items []*Node
	// Fields holds a mapping's entries in document order; keys are unique.
	Fields []Field
	// Binary is set for a scalar tagged !!binary (Text holds the base64).
	Binary bool
}

// Field is one mapping entry. Non-string keys have been turned into the
// string sigs.k8s.io/yaml would give them (5 → "5", true → "true").
type Field struct {
	Key    string
	KeyPos Pos
	Value  *Node
}

// Get returns the value of the mapping entry named key, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Map {
		return nil
	}
	for i := range n.Fields {
		if n.Fields[i].Key == key {
			return n.Fields[i].Value
		}
	}
	return nil
}

// Limits bound what one document may cost to parse.
type Limits struct {
	// MaxDepth is the deepest nesting of mappings and sequences allowed.
	MaxDepth int
	// MaxNodes is the most nodes a document may expand to, counting every
	// alias expansion (a YAML bomb is refused, not expanded).
	MaxNodes int
}

// DefaultLimits are generous for any real manifest: Kubernetes objects nest
// about 20 deep and rarely reach 10,000 nodes.
var DefaultLimits = Limits{MaxDepth: 100, MaxNodes: 1_000_000}

// Error is a syntax or limit error at a position in the file.
type Error struct {
	Pos     Pos
	Message string
	// Kind classifies the error for rule ids: "syntax", "duplicate-key",
	// "alias-bomb", "too-deep".
	Kind string
	// Field is, for a duplicate key, the path of the repeated key with a
	// leading dot (".spec.replicas", ".spec.containers[0].name").
	Field string
}

func (e *Error) Error() string { return e.Message }
