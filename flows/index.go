package flows

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The index finds the few flows a span may belong to without trying every
// flow, so that a gateway with 100,000 flows classifies a span about as fast
// as one with ten.
//
// Each flow is filed under one of its match rules that the index can look
// up (its anchor): an equals or in, or a regex whose matches all equal or
// start with known literals ("GET", "/checkout.*"). A node of the index maps
// values of an attribute to child nodes, which file their flows under
// another of their rules, and so on until a few flows are left; those, and
// flows without such a rule, are tried in full. A span visits only the
// children its own values lead to.
//
// The index only proposes candidates: a candidate still has all its rules
// tested, as the linear classifier did. What makes it exact is that a flow
// whose rules all hold is always proposed, because its anchor at each node
// holds and leads to the child it was filed in. Of the flows that hold, the
// first in file order wins: the search keeps the best flow found so far
// and skips any node whose flows all come later.

// node is one node of the index. nodes[0] is empty: a zero id means none.
type node struct {
	// flows[off:off+n] are the flows tried in full here, in file order.
	off, n int32
	// min is the first flow in file order anywhere under this node.
	min  int32
	keys []keyIndex
}

// keyIndex maps the values of one attribute to child nodes.
type keyIndex struct {
	pseudo pseudoKey
	key    int

	// equals and in, by the kind of the span's value, as literal.equal
	// compares: strings by text, ints exactly against integer literals
	// (ints) and as float64 against other numeric literals (intsAsFloat,
	// e.g. "200.0"), doubles against every numeric literal, booleans
	// against "true" and "false". Exact regex literals are in strs too.
	strs        strTable
	ints        map[int64]int32
	intsAsFloat map[float64]int32
	floats      map[float64]int32
	bools       [2]int32
	// texts holds exact regex literals for the decimal form of numbers and
	// booleans, which is what a regex tests for them.
	texts strTable
	// prefixes holds regex literal prefixes, for the text of any value.
	prefixes prefixSet
}

// prefixSet finds the literals a text starts with.
type prefixSet struct {
	lits []string // sorted
	// parent[i] is the longest other literal that lits[i] starts with, or
	// -1: literals a text starts with are a chain of parents.
	parent []int32
	nodes  []int32
}

// index is the classifier's index: a root for entry spans, over every
// flow, and one for other spans, over the flows that are not entry-only.
type index struct {
	nodes []node
	flows []int32
	// known[i] has a bit for each rule of flows[i] that holds whenever the
	// search reaches it there: an equals or in rule of string values that
	// a node above looked up (see exactRules). Testing a candidate skips
	// them; with many flows their literals are cold memory.
	known     []uint64
	entryRoot int32
	otherRoot int32
}

// search returns the first flow in file order under node id that holds for
// the span, or best if none comes before best.
func (c *Classifier) search(id int32, in *Input, entry bool, best int32) int32 {
	n := &c.idx.nodes[id]
	if n.min >= best {
		return best
	}
	for i := range n.keys {
		best = c.searchKey(&n.keys[i], in, entry, best)
	}
	for i := n.off; i < n.off+n.n; i++ {
		f := c.idx.flows[i]
		if f >= best {
			break
		}
		fl := &c.flows[f]
		if (!fl.entryOnly || entry) && holdExcept(fl.match, in, c.idx.known[i]) {
			return f
		}
	}
	return best
}

// holdExcept says whether every rule holds for the span but those with a
// bit in known, which are known to.
func holdExcept(rules []compiledRule, in *Input, known uint64) bool {
	for i := range rules {
		if i < 64 && known&(1<<i) != 0 {
			continue
		}
		if !rules[i].holds(in) {
			return false
		}
	}
	return true
}

func (c *Classifier) searchKey(k *keyIndex, in *Input, entry bool, best int32) int32 {
	v := lookup(k.pseudo, k.key, in)
	var text string
	switch v.Kind {
	case ValueStr:
		switch id := k.strs.get(v.Str); {
		case id > 0:
			best = c.search(id, in, entry, best)
		case id < 0:
			// A proven leaf (shortcutLeaves): what search would find.
			if f := -id - 1; f < best && (!c.flows[f].entryOnly || entry) {
				best = f
			}
		}
		text = v.Str
	case ValueInt:
		if id := k.ints[v.Int]; id != 0 {
			best = c.search(id, in, entry, best)
		}
		if id := k.intsAsFloat[float64(v.Int)]; id != 0 {
			best = c.search(id, in, entry, best)
		}
		if k.texts.empty() && k.prefixes.lits == nil {
			return best
		}
		in.scratch = strconv.AppendInt(in.scratch[:0], v.Int, 10)
		text = string(in.scratch) // short and not kept: no allocation
	case ValueDouble:
		if id := k.floats[v.Double]; id != 0 {
			best = c.search(id, in, entry, best)
		}
		if k.texts.empty() && k.prefixes.lits == nil {
			return best
		}
		in.scratch = appendDouble(in.scratch[:0], v.Double)
		text = string(in.scratch)
	case ValueBool:
		b := 0
		if v.Bool {
			b = 1
		}
		if id := k.bools[b]; id != 0 {
			best = c.search(id, in, entry, best)
		}
		text = strconv.FormatBool(v.Bool)
	default:
		return best // regexes and equality never hold on absent or other values
	}
	if v.Kind != ValueStr && !k.texts.empty() {
		if id := k.texts.get(text); id != 0 {
			best = c.search(id, in, entry, best)
		}
	}
	ps := &k.prefixes
	if ps.lits == nil {
		return best
	}
	i, common := ps.find(text)
	for ; i >= 0; i = int(ps.parent[i]) {
		if len(ps.lits[i]) <= common {
			best = c.search(ps.nodes[i], in, entry, best)
		}
	}
	return best
}

// find returns the last literal not after text and how many leading bytes
// the two share, or -1. Every literal text starts with is that literal or
// one of its parents: a literal p with text starting with p sorts between p
// and text, so the last literal not after text starts with p too.
func (ps *prefixSet) find(text string) (int, int) {
	lo, hi := 0, len(ps.lits)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ps.lits[m] <= text {
			lo = m + 1
		} else {
			hi = m
		}
	}
	i := lo - 1
	if i < 0 {
		return -1, 0
	}
	lit, common := ps.lits[i], 0
	for common < len(lit) && common < len(text) && lit[common] == text[common] {
		common++
	}
	return i, common
}

// lookup returns the value a rule on (pseudo, key) tests: a pseudo key reads
// the span, a real key the span attribute or, when the span lacks it, the
// resource attribute.
func lookup(pseudo pseudoKey, key int, in *Input) Value {
	switch pseudo {
	case pseudoName:
		return Value{Kind: ValueStr, Str: in.Name}
	case pseudoKind:
		return Value{Kind: ValueStr, Str: in.Kind.String()}
	}
	if key < len(in.Span) && in.Span[key].Kind != ValueAbsent {
		return in.Span[key]
	}
	if key < len(in.Resource) {
		return in.Resource[key]
	}
	return Value{}
}

// leafFlows is how many flows a node tries in full rather than index:
// trying two flows costs about what one more lookup does.
const leafFlows = 2

// maxCopies bounds how many children a flow is filed in along one path
// (an in rule with many values files it under each), so that nested in
// rules cannot multiply the index's size.
const maxCopies = 256

// indexRule is a match rule the index can look up, a candidate anchor: the
// rule holds only when its value equals one of eq (as literal.equal
// compares), or its text is one of exact or starts with one of prefix.
type indexRule struct {
	rule   int
	pseudo pseudoKey
	key    int
	eq     []literal
	exact  []string
	prefix []string
}

func (a *indexRule) alternatives() int { return len(a.eq) + len(a.exact) + len(a.prefix) }

// anchorsOf returns the match rules of f the index can use. Rules past the
// 64th are only tested, never looked up.
func anchorsOf(f *compiledFlow) []indexRule {
	var out []indexRule
	for i := range f.match {
		if i >= 64 {
			break
		}
		r := &f.match[i]
		a := indexRule{rule: i, pseudo: r.pseudo, key: r.key}
		switch r.op {
		case OpEquals:
			a.eq = []literal{r.lit}
		case OpIn:
			a.eq = r.lits
		case OpRegex:
			if !r.re.indexable {
				continue
			}
			a.exact, a.prefix = r.re.exact, r.re.prefix
		default:
			continue
		}
		out = append(out, a)
	}
	return out
}

// member is a flow being filed: used has a bit for each rule some node
// above already looked up, copies how many children it is filed in.
type member struct {
	flow   int32
	used   uint64
	copies int32
}

type groupKind uint8

const (
	groupStr groupKind = iota
	groupInt
	groupIntAsFloat
	groupFloat
	groupBool
	groupText
	groupPrefix
)

// groupKey names a child of a node: the value of an attribute it is for.
type groupKey struct {
	pseudo pseudoKey
	key    int
	kind   groupKind
	s      string
	i      int64
	f      float64
}

// bucketKey is a value an anchor looks up, to count how many flows of a
// node share it.
type bucketKey struct {
	pseudo pseudoKey
	key    int
	prefix bool
	s      string
}

type indexBuilder struct {
	// anchors[f] are the rules of flow f the index can look up.
	anchors [][]indexRule
	// exact[f] has a bit for each rule of flow f that holds whenever a
	// node reached the flow by looking it up (see exactRules).
	exact []uint64
	nodes []node
	list  []int32
	known []uint64
}

// exactRules returns a bit for each of f's equals and in rules whose
// literals are all strings (or which test the span's name or kind, always
// a string). Filed under such a rule, a flow is only reached through the
// string map of its key index (literalGroups makes no other group of it),
// by a value equal to one of its literals: the rule holds, as
// literal.equal tests a string value.
func exactRules(f *compiledFlow) uint64 {
	var bits uint64
	for i := range min(len(f.match), 64) {
		r := &f.match[i]
		var lits []literal
		switch r.op {
		case OpEquals:
			lits = []literal{r.lit}
		case OpIn:
			lits = r.lits
		default:
			continue
		}
		ok := true
		for _, l := range lits {
			if r.pseudo == pseudoNone && (l.isInt || l.isFloat || l.isBool) {
				ok = false
			}
		}
		if ok {
			bits |= 1 << i
		}
	}
	return bits
}

func buildIndex(flows []compiledFlow) index {
	b := &indexBuilder{anchors: make([][]indexRule, len(flows)), exact: make([]uint64, len(flows)), nodes: make([]node, 1, 1+len(flows))}
	b.nodes[0].min = math.MaxInt32
	all := make([]member, 0, len(flows))
	var other []member
	for i := range flows {
		b.anchors[i] = anchorsOf(&flows[i])
		b.exact[i] = exactRules(&flows[i])
		all = append(all, member{flow: int32(i), copies: 1})
		if !flows[i].entryOnly {
			other = append(other, member{flow: int32(i), copies: 1})
		}
	}
	var idx index
	idx.entryRoot = b.build(all)
	switch len(other) {
	case 0:
	case len(all):
		idx.otherRoot = idx.entryRoot
	default:
		idx.otherRoot = b.build(other)
	}
	idx.nodes, idx.flows, idx.known = b.nodes, b.list, b.known
	idx.shortcutLeaves(flows)
	return idx
}

// shortcutLeaves lets a string look-up that leads to a leaf of one flow
// whose rules the look-ups on the way all proved give the flow itself, as
// -(flow+1) in place of the leaf's id: searching the leaf would read its
// node and lists only to find that flow (with thousands of flows, a cache
// miss). A flow is one route of one service in most gateways' files.
func (idx *index) shortcutLeaves(flows []compiledFlow) {
	for ni := range idx.nodes {
		for ki := range idx.nodes[ni].keys {
			t := &idx.nodes[ni].keys[ki].strs
			for si := range t.slots {
				if sl := &t.slots[si]; sl.hash != 0 && sl.id > 0 {
					if f, ok := idx.provenLeaf(flows, sl.id); ok {
						sl.id = -(f + 1)
					}
				}
			}
		}
	}
}

// provenLeaf returns the flow of node id if the node is a leaf of that one
// flow and every rule of it is known to hold when the node is reached.
func (idx *index) provenLeaf(flows []compiledFlow, id int32) (int32, bool) {
	n := &idx.nodes[id]
	if len(n.keys) > 0 || n.n != 1 {
		return 0, false
	}
	f := idx.flows[n.off]
	rules := len(flows[f].match)
	return f, rules <= 64 && idx.known[n.off] == ^uint64(0)>>(64-rules)
}

// build files members (in file order) under a new node and returns its id.
func (b *indexBuilder) build(members []member) int32 {
	if len(members) == 0 {
		return 0
	}
	id := int32(len(b.nodes))
	b.nodes = append(b.nodes, node{min: members[0].flow})
	if len(members) <= leafFlows {
		b.setFlows(id, members)
		return id
	}
	choice, own := b.choose(members)

	// Group the members by the values their anchors look up, keeping the
	// groups in the order they first appear so builds are reproducible.
	groups := map[groupKey][]member{}
	var order []groupKey
	add := func(k groupKey, m member) {
		g, seen := groups[k]
		if !seen {
			order = append(order, k)
		}
		if n := len(g); n > 0 && g[n-1].flow == m.flow {
			return // two values of an anchor that look up alike
		}
		groups[k] = append(g, m)
	}
	for mi, m := range members {
		if choice[mi] < 0 {
			continue
		}
		a := &b.anchors[m.flow][choice[mi]]
		m.used |= 1 << a.rule
		m.copies *= int32(a.alternatives())
		base := groupKey{pseudo: a.pseudo, key: a.key}
		for _, l := range a.eq {
			for _, k := range literalGroups(base, l) {
				add(k, m)
			}
		}
		for _, s := range a.exact {
			k := base
			k.kind, k.s = groupStr, s
			add(k, m)
			if a.pseudo == pseudoNone && couldBeScalarText(s) {
				k.kind = groupText
				add(k, m)
			}
		}
		for _, s := range a.prefix {
			k := base
			k.kind, k.s = groupPrefix, s
			add(k, m)
		}
	}

	keys := b.children(order, groups)
	b.nodes[id].keys = keys
	b.setFlows(id, own)
	return id
}

// choose picks each member's anchor: of its rules not yet looked up, the
// one whose values the fewest other members share, so children come out
// small. choice[i] is an index in anchors[members[i].flow], or -1 for a
// member with no rule left to look up; own lists those.
func (b *indexBuilder) choose(members []member) (choice []int, own []member) {
	usable := func(m member, a *indexRule) bool {
		return m.used&(1<<a.rule) == 0 && int(m.copies)*a.alternatives() <= maxCopies
	}
	shared := map[bucketKey]int{}
	for _, m := range members {
		for ai := range b.anchors[m.flow] {
			if a := &b.anchors[m.flow][ai]; usable(m, a) {
				forBuckets(a, func(k bucketKey) { shared[k]++ })
			}
		}
	}
	choice = make([]int, len(members))
	for mi, m := range members {
		choice[mi] = -1
		best := 0
		for ai := range b.anchors[m.flow] {
			a := &b.anchors[m.flow][ai]
			if !usable(m, a) {
				continue
			}
			cost := 0
			forBuckets(a, func(k bucketKey) { cost += shared[k] })
			if choice[mi] < 0 || cost < best {
				choice[mi], best = ai, cost
			}
		}
		if choice[mi] < 0 {
			own = append(own, m)
		}
	}
	return choice, own
}

// children builds a child node for each group and files it in the key
// index of its attribute.
func (b *indexBuilder) children(order []groupKey, groups map[groupKey][]member) []keyIndex {
	var keys []keyIndex
	slot := func(k groupKey) int {
		for i := range keys {
			if keys[i].pseudo == k.pseudo && keys[i].key == k.key {
				return i
			}
		}
		keys = append(keys, keyIndex{pseudo: k.pseudo, key: k.key})
		return len(keys) - 1
	}
	// Groups with the same flows share a child: an int literal's groups
	// (text, int, double) usually do.
	built := map[string]int32{}
	prefixes := map[int][]prefixChild{} // by index in keys
	var sig []byte
	for _, k := range order {
		g := groups[k]
		sig = sig[:0]
		for _, m := range g {
			sig = binary.LittleEndian.AppendUint32(sig, uint32(m.flow))
		}
		child, ok := built[string(sig)]
		if !ok {
			child = b.build(g)
			built[string(sig)] = child
		}
		i := slot(k)
		ki := &keys[i]
		switch k.kind {
		case groupStr:
			ki.strs.set(k.s, child)
		case groupInt:
			ki.ints = put(ki.ints, k.i, child)
		case groupIntAsFloat:
			ki.intsAsFloat = put(ki.intsAsFloat, k.f, child)
		case groupFloat:
			ki.floats = put(ki.floats, k.f, child)
		case groupBool:
			ki.bools[k.i] = child
		case groupText:
			ki.texts.set(k.s, child)
		case groupPrefix:
			prefixes[i] = append(prefixes[i], prefixChild{k.s, child})
		}
	}
	for i, ps := range prefixes {
		keys[i].prefixes = newPrefixSet(ps)
	}
	return keys
}

type prefixChild struct {
	lit  string
	node int32
}

// newPrefixSet sorts ps, which holds distinct literals, and links each to
// its parent.
func newPrefixSet(ps []prefixChild) prefixSet {
	slices.SortFunc(ps, func(a, b prefixChild) int { return strings.Compare(a.lit, b.lit) })
	set := prefixSet{lits: make([]string, len(ps)), parent: make([]int32, len(ps)), nodes: make([]int32, len(ps))}
	// Literals starting with p sort right after p: a stack holds the chain
	// of literals the current one may start with.
	var stack []int32
	for j, p := range ps {
		set.lits[j], set.nodes[j] = p.lit, p.node
		for len(stack) > 0 && !strings.HasPrefix(p.lit, set.lits[stack[len(stack)-1]]) {
			stack = stack[:len(stack)-1]
		}
		set.parent[j] = -1
		if len(stack) > 0 {
			set.parent[j] = stack[len(stack)-1]
		}
		stack = append(stack, int32(j))
	}
	return set
}

func (b *indexBuilder) setFlows(id int32, members []member) {
	n := &b.nodes[id]
	n.off, n.n = int32(len(b.list)), int32(len(members))
	for _, m := range members {
		b.list = append(b.list, m.flow)
		b.known = append(b.known, m.used&b.exact[m.flow])
	}
}

func forBuckets(a *indexRule, fn func(bucketKey)) {
	k := bucketKey{pseudo: a.pseudo, key: a.key}
	for _, l := range a.eq {
		k.s = l.s
		fn(k)
	}
	for _, s := range a.exact {
		k.s = s
		fn(k)
	}
	k.prefix = true
	for _, s := range a.prefix {
		k.s = s
		fn(k)
	}
}

// literalGroups returns the children an equals literal is filed in: one
// for each kind of value it can equal.
func literalGroups(base groupKey, l literal) []groupKey {
	k := base
	k.kind, k.s = groupStr, l.s
	out := []groupKey{k}
	if base.pseudo != pseudoNone {
		return out // span name and kind are strings
	}
	if l.isInt {
		k = base
		k.kind, k.i = groupInt, l.i
		out = append(out, k)
	} else if l.isFloat {
		k = base
		k.kind, k.f = groupIntAsFloat, l.f
		out = append(out, k)
	}
	if l.isFloat {
		k = base
		k.kind, k.f = groupFloat, l.f
		out = append(out, k)
	}
	if l.isBool {
		k = base
		k.kind = groupBool
		if l.b {
			k.i = 1
		}
		out = append(out, k)
	}
	return out
}

// couldBeScalarText reports whether s could be the text a regex tests for
// an int, double or bool value (see regexMatch): decimal digits with signs,
// points and exponents, NaN, ±Inf, true or false.
func couldBeScalarText(s string) bool {
	switch s {
	case "true", "false", "NaN", "+Inf", "-Inf":
		return true
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789+-.e", rune(s[i])) {
			return false
		}
	}
	return true
}

func put[K comparable](m map[K]int32, k K, v int32) map[K]int32 {
	if m == nil {
		m = map[K]int32{}
	}
	m[k] = v
	return m
}
