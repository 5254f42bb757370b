package yamltree

import (
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// parseFallback parses doc with yaml.v3 and converts its node tree. It
// handles all of YAML; the fast parser hands it everything it is unsure of.
func parseFallback(doc []byte, firstLine int, lim Limits) (root *Node, err error) {
	defer func() {
		// yaml.v3 recovers its own errors but not every internal panic.
		if r := recover(); r != nil {
			root, err = nil, syntaxError(Pos{Line: firstLine, Col: 1}, "cannot parse YAML: %v", r)
		}
	}()
	var y yaml.Node
	if err := yaml.Unmarshal(doc, &y); err != nil {
		return nil, v3Error(err, firstLine, lim)
	}
	if y.Kind != yaml.DocumentNode || len(y.Content) == 0 {
		return nil, nil
	}
	c := converter{lim: lim, firstLine: firstLine}
	n, _, err := c.conv(y.Content[0], 0)
	if err != nil {
		return nil, err
	}
	if n.Kind == Null {
		return nil, nil
	}
	return n, nil
}

// v3Error turns yaml.v3's "yaml: line 3: did not find expected key" into an
// *Error at that line of the file.
func v3Error(err error, firstLine int, lim Limits) *Error {
	msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n", " ")
	pos := Pos{Line: firstLine, Col: 1}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			if n, convErr := strconv.Atoi(rest[:i]); convErr == nil {
				pos.Line = firstLine + n - 1
				msg = rest[i+2:]
			}
		}
	}
	if strings.HasPrefix(msg, "exceeded max depth") {
		return tooDeepError(pos, lim.MaxDepth)
	}
	return &Error{Pos: pos, Kind: KindSyntax, Message: msg}
}

// converter turns a yaml.v3 tree into Nodes, resolving scalars as YAML 1.1,
// applying merge keys and checking limits. Aliases share the anchored Node.
type converter struct {
	lim       Limits
	firstLine int
	anchors   map[*yaml.Node]*anchored
	aliased   bool // an alias was met: a size overrun is then a bomb
}

// anchored is the converted value of an anchored node.
type anchored struct {
	n      *Node
	cost   cost
	inWork bool // being converted: an alias to it is a cycle
}

// cost is what a subtree expands to: its node count and its height in
// collections (a scalar has height 0).
type cost struct {
	size, height int
}

func (c *converter) pos(y *yaml.Node) Pos {
	return Pos{Line: c.firstLine + y.Line - 1, Col: y.Column}
}

// conv converts y, which sits inside depth collections.
func (c *converter) conv(y *yaml.Node, depth int) (*Node, cost, error) {
	if y.Kind == yaml.AliasNode {
		return c.alias(y, depth)
	}
	if y.Anchor == "" {
		return c.convNode(y, depth)
	}
	if c.anchors == nil {
		c.anchors = make(map[*yaml.Node]*anchored)
	}
	a := &anchored{inWork: true}
	c.anchors[y] = a
	n, k, err := c.convNode(y, depth)
	a.n, a.cost, a.inWork = n, k, false
	return n, k, err
}

func (c *converter) alias(y *yaml.Node, depth int) (*Node, cost, error) {
	c.aliased = true
	a := c.anchors[y.Alias]
	if a == nil || y.Alias == nil {
		return nil, cost{}, syntaxError(c.pos(y), "unknown anchor %q referenced", y.Value)
	}
	if a.inWork {
		return nil, cost{}, syntaxError(c.pos(y), "anchor %q value contains itself", y.Value)
	}
	if depth+a.cost.height > c.lim.MaxDepth {
		return nil, cost{}, tooDeepError(c.pos(y), c.lim.MaxDepth)
	}
	return a.n, a.cost, nil
}

func (c *converter) convNode(y *yaml.Node, depth int) (*Node, cost, error) {
	switch y.Kind {
	case yaml.ScalarNode:
		n := &Node{Pos: c.pos(y), Text: y.Value}
		const quoted = yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle
		switch {
		case y.Style&yaml.TaggedStyle != 0:
			if err := resolveTagged(n, y.Tag, y.Value); err != nil {
				return nil, cost{}, err
			}
		case y.Style&quoted != 0:
			n.Kind = String
		default:
			setScalar(n, resolvePlain(y.Value))
		}
		return n, cost{size: 1}, nil
	case yaml.SequenceNode:
		return c.seq(y, depth)
	case yaml.MappingNode:
		return c.mapping(y, depth)
	case yaml.AliasNode:
		return c.alias(y, depth)
	}
	return nil, cost{}, syntaxError(c.pos(y), "unexpected YAML node")
}

// add accumulates a child's cost into a collection's, failing once the
// expansion exceeds the budget.
func (c *converter) add(total *cost, child cost, at Pos) error {
	total.size += child.size
	if child.height+1 > total.height {
		total.height = child.height + 1
	}
	if total.size > c.lim.MaxNodes {
		return tooManyNodesError(at, c.lim.MaxNodes, c.aliased)
	}
	return nil
}

func (c *converter) enter(y *yaml.Node, depth int) error {
	if depth+1 > c.lim.MaxDepth {
		return tooDeepError(c.pos(y), c.lim.MaxDepth)
	}
	return nil
}

func (c *converter) seq(y *yaml.Node, depth int) (*Node, cost, error) {
	if err := c.enter(y, depth); err != nil {
		return nil, cost{}, err
	}
	n := &Node{Kind: Seq, Pos: c.pos(y), Items: make([]*Node, 0, len(y.Content))}
	total := cost{size: 1, height: 1}
	for _, e := range y.Content {
		item, k, err := c.conv(e, depth+1)
		if err != nil {
			return nil, cost{}, withPath(err, "["+strconv.Itoa(len(n.Items))+"]")
		}
		if err := badFloat(item); err != nil {
			return nil, cost{}, err
		}
		if err := c.add(&total, k, item.Pos); err != nil {
			return nil, cost{}, err
		}
		n.Items = append(n.Items, item)
	}
	return n, total, nil
}

func (c *converter) mapping(y *yaml.Node, depth int) (*Node, cost, error) {
	if err := c.enter(y, depth); err != nil {
		return nil, cost{}, err
	}
	n := &Node{Kind: Map, Pos: c.pos(y)}
	b := mapBuilder{fields: make([]Field, 0, len(y.Content)/2)}
	total := cost{size: 1, height: 1}
	for i := 0; i+1 < len(y.Content); i += 2 {
		ky, vy := y.Content[i], y.Content[i+1]
		if isMergeKey(ky) {
			if err := c.merge(&b, &total, ky, vy, depth); err != nil {
				return nil, cost{}, err
			}
			continue
		}
		k, _, err := c.conv(ky, depth+1)
		if err != nil {
			return nil, cost{}, err
		}
		key, err := keyString(k)
		if err != nil {
			return nil, cost{}, err
		}
		v, vk, err := c.conv(vy, depth+1)
		if err != nil {
			return nil, cost{}, withPath(err, "."+key)
		}
		if err := badFloat(v); err != nil {
			return nil, cost{}, err
		}
		vk.size++ // the key
		if err := c.add(&total, vk, v.Pos); err != nil {
			return nil, cost{}, err
		}
		if err := b.set(Field{Key: key, KeyPos: k.Pos, Value: v}, true); err != nil {
			return nil, cost{}, withPath(err, "."+key)
		}
	}
	n.Fields = b.fields
	return n, total, nil
}

// isMergeKey reports a "<<" key that v2 treats as a merge: plain, or
// tagged !!merge (yaml.v3 tags both "!!merge").
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" &&
		k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0
}

// merge applies "<<: value" as v2 does: entries are written in document
// order and a later write wins, so keys written after the "<<" override
// merged ones, and in "<<: [*a, *b]" the maps are applied last to first so
// that *a wins over *b.
func (c *converter) merge(b *mapBuilder, total *cost, ky, vy *yaml.Node, depth int) error {
	v, vk, err := c.conv(vy, depth+1)
	if err != nil {
		return err
	}
	wantMap := func(at *Node) error {
		return syntaxError(at.Pos, "the merge key << needs a mapping or a sequence of mappings, got a %s", at.Kind)
	}
	var maps []*Node
	switch v.Kind {
	case Map:
		maps = []*Node{v}
	case Seq:
		if vy.Kind == yaml.AliasNode {
			return wantMap(v) // v2 refuses an alias to a sequence here
		}
		for i := len(v.Items) - 1; i >= 0; i-- {
			if v.Items[i].Kind != Map {
				return wantMap(v.Items[i])
			}
			maps = append(maps, v.Items[i])
		}
	default:
		return wantMap(v)
	}
	// The merged maps' sizes already count their entries; overridden
	// entries are counted twice, which only errs on the safe side.
	if err := c.add(total, vk, c.pos(ky)); err != nil {
		return err
	}
	for _, m := range maps {
		for _, f := range m.Fields {
			if err := b.set(f, false); err != nil {
				return err
			}
		}
	}
	return nil
}
