package yamltree

// hardMaxDepth caps nesting whatever Limits say: yaml.v3 refuses anything
// deeper anyway, and it bounds the recursion of both parsers.
const hardMaxDepth = 10000

// normalize fills zero fields from DefaultLimits and applies the hard cap.
func (l Limits) normalize() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxDepth > hardMaxDepth {
		l.MaxDepth = hardMaxDepth
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultLimits.MaxNodes
	}
	return l
}
