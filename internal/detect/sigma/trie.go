package sigma

import (
	"slices"
)

// trieBuilder builds a byte trie (or a forest of them) whose nodes carry
// needle ids. It is only used while a route is compiled; freeze turns it
// into the compact sparseTrie the evaluator walks.
type trieBuilder struct {
	kids [][]trieEdge
	outs [][]int32 // needles reported when the walk passes the node
	ends [][]int32 // needles reported when the text ends at the node
}

type trieEdge struct {
	c    byte
	node int32
}

// newRoot adds a root node and returns its id.
func (b *trieBuilder) newRoot() int32 {
	b.kids = append(b.kids, nil)
	b.outs = append(b.outs, nil)
	b.ends = append(b.ends, nil)
	return int32(len(b.kids) - 1)
}

// lookup returns the child of n by c, or -1.
func (b *trieBuilder) lookup(n int32, c byte) int32 {
	for _, e := range b.kids[n] {
		if e.c == c {
			return e.node
		}
	}
	return -1
}

// child returns the child of n by c, adding it when missing.
func (b *trieBuilder) child(n int32, c byte) int32 {
	if k := b.lookup(n, c); k >= 0 {
		return k
	}
	k := b.newRoot()
	b.kids[n] = append(b.kids[n], trieEdge{c, k})
	return k
}

// insert adds the path s below node n (backwards when reverse is set) and
// records id at its end, among the node's ends when whole is set.
func (b *trieBuilder) insert(n int32, s string, reverse, whole bool, id int32) {
	for i := range len(s) {
		c := s[i]
		if reverse {
			c = s[len(s)-1-i]
		}
		n = b.child(n, c)
	}
	if whole {
		b.ends[n] = append(b.ends[n], id)
	} else {
		b.outs[n] = append(b.outs[n], id)
	}
}

// sparseTrie is a frozen trie, numbered in depth-first order so that a
// node's first child is the next node and a chain of single children is
// contiguous; a node holds the byte of its first child and its needle runs.
// A folding trie holds lower-case needles and compares text bytes
// lower-cased (ASCII).
type sparseTrie struct {
	nodes  []trieNode
	firsts []byte     // nodes[n].first for every n: the labels of chains
	edges  []trieEdge // the children of nodes with several, sorted by byte
	outs   []int32    // needle runs: passed needles, then ending needles
	fold   bool
}

type trieNode struct {
	first byte  // byte of the first child (node n+1)
	kids  uint8 // 0, 1, or 2 for several: look at edges
	// chain counts the single-child steps from the node on that reach no
	// node with needles: a walk compares them with the text in one go
	// (their bytes are firsts[n:n+chain]).
	chain  uint16
	nOut   uint16
	nEnd   uint16
	edgeLo int32 // children in edges[edgeLo:edgeHi] when several
	edgeHi int32
	outLo  int32 // outs[outLo:outLo+nOut] passed, then nEnd ending
}

// freeze builds the sparse trie of the builder's trees, rooted at its
// roots (node 0 and any others; the root of builder node r is the frozen
// node returned by the map).
func (b *trieBuilder) freeze(fold bool) *sparseTrie {
	t, _ := b.freezeRoots(fold)
	return t
}

// freezeRoots freezes every tree of the builder and returns the frozen ids
// of all builder nodes.
func (b *trieBuilder) freezeRoots(fold bool) (*sparseTrie, []int32) {
	newID := make([]int32, len(b.kids))
	order := make([]int32, 0, len(b.kids))
	isChild := make([]bool, len(b.kids))
	for n := range b.kids {
		slices.SortFunc(b.kids[n], func(x, y trieEdge) int { return int(x.c) - int(y.c) })
		for _, e := range b.kids[n] {
			isChild[e.node] = true
		}
	}
	var stack []int32
	for r := range b.kids {
		if isChild[r] {
			continue
		}
		stack = append(stack[:0], int32(r))
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			newID[n] = int32(len(order))
			order = append(order, n)
			for i := len(b.kids[n]) - 1; i >= 0; i-- {
				stack = append(stack, b.kids[n][i].node)
			}
		}
	}
	t := &sparseTrie{fold: fold, nodes: make([]trieNode, len(order))}
	for i, n := range order {
		nd := trieNode{nOut: uint16(len(b.outs[n])), nEnd: uint16(len(b.ends[n])), outLo: int32(len(t.outs))}
		t.outs = append(t.outs, b.outs[n]...)
		t.outs = append(t.outs, b.ends[n]...)
		if kids := b.kids[n]; len(kids) > 0 {
			nd.first, nd.kids = kids[0].c, 1
			if len(kids) > 1 {
				nd.kids = 2
				nd.edgeLo = int32(len(t.edges))
				for _, e := range kids {
					t.edges = append(t.edges, trieEdge{e.c, newID[e.node]})
				}
				nd.edgeHi = int32(len(t.edges))
			}
		}
		t.nodes[i] = nd
	}
	t.firsts = make([]byte, len(t.nodes))
	for n := len(t.nodes) - 1; n >= 0; n-- {
		nd := &t.nodes[n]
		t.firsts[n] = nd.first
		if nd.kids == 1 && n+1 < len(t.nodes) {
			if next := &t.nodes[n+1]; next.nOut == 0 && next.nEnd == 0 {
				nd.chain = uint16(min(int(next.chain)+1, 1<<16-1))
			}
		}
	}
	return t, newID
}

// chainMatch reports whether text equals the chain bytes from node n
// (ASCII letters of the text folded when the trie folds); backwards reads
// text from its end.
func (t *sparseTrie) chainMatch(text string, n int32, backwards bool) bool {
	label := t.firsts[n : int(n)+len(text)]
	for k := range len(label) {
		c := text[k]
		if backwards {
			c = text[len(text)-1-k]
		}
		if t.fold && c-'A' < 26 {
			c += 'a' - 'A'
		}
		if c != label[k] {
			return false
		}
	}
	return true
}

// next returns the child of n by c, or -1.
func (t *sparseTrie) next(n int32, c byte) int32 {
	if t.fold && c-'A' < 26 {
		c += 'a' - 'A'
	}
	nd := &t.nodes[n]
	switch nd.kids {
	case 0:
		return -1
	case 1:
		if nd.first == c {
			return n + 1
		}
		return -1
	}
	lo, hi := nd.edgeLo, nd.edgeHi
	if hi-lo > 8 {
		// Binary search in a wide node (the roots of big tries).
		end := hi
		for lo < hi {
			mid := int32(uint32(lo+hi) >> 1)
			if t.edges[mid].c < c {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo < end && t.edges[lo].c == c {
			return t.edges[lo].node
		}
		return -1
	}
	for i := lo; i < hi; i++ {
		if t.edges[i].c == c {
			return t.edges[i].node
		}
	}
	return -1
}

// walk follows text from position j below node n and reports the needles
// of every node on the way (the needles that continue the text at j), and
// those ending where the text ends.
func (t *sparseTrie) walk(n int32, text string, j int, st *evalState) {
	for {
		nd := &t.nodes[n]
		if nd.nOut > 0 {
			st.hitNeedles(t.outs[nd.outLo : nd.outLo+int32(nd.nOut)])
		}
		if j >= len(text) {
			if nd.nEnd > 0 {
				lo := nd.outLo + int32(nd.nOut)
				st.hitNeedles(t.outs[lo : lo+int32(nd.nEnd)])
			}
			return
		}
		if ch := int(nd.chain); ch > 1 {
			k := min(ch, len(text)-j)
			if !t.chainMatch(text[j:j+k], n, false) || k < ch {
				return // a mismatch, or the text ends inside: no needles there
			}
			n += int32(ch)
			j += ch
			continue
		}
		c := text[j]
		if nd.kids == 1 { // a chain: the child is the next node
			if t.fold && c-'A' < 26 {
				c += 'a' - 'A'
			}
			if c != nd.first {
				return
			}
			n++
		} else if n = t.next(n, c); n < 0 {
			return
		}
		j++
	}
}

// walkBack follows text backwards from its end below node n and reports
// the needles of every node on the way (the needles text ends with).
func (t *sparseTrie) walkBack(n int32, text string, st *evalState) {
	j := len(text) - 1
	for {
		nd := &t.nodes[n]
		if nd.nOut > 0 {
			st.hitNeedles(t.outs[nd.outLo : nd.outLo+int32(nd.nOut)])
		}
		if j < 0 {
			return
		}
		if ch := int(nd.chain); ch > 1 {
			k := min(ch, j+1)
			if !t.chainMatch(text[j+1-k:j+1], n, true) || k < ch {
				return
			}
			n += int32(ch)
			j -= ch
			continue
		}
		c := text[j]
		if nd.kids == 1 {
			if t.fold && c-'A' < 26 {
				c += 'a' - 'A'
			}
			if c != nd.first {
				return
			}
			n++
		} else if n = t.next(n, c); n < 0 {
			return
		}
		j--
	}
}

// size returns the trie's approximate memory in bytes.
//
//nolint:unused // memory accounting for the engine metrics
func (t *sparseTrie) size() int {
	return 24*len(t.nodes) + len(t.firsts) + 8*len(t.edges) + 4*len(t.outs)
}
