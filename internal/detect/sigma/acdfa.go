package sigma

// acDFA is an Aho–Corasick automaton compiled into a dense DFA over byte
// classes. It finds every occurrence of its needles (contains literals) in
// one pass over a text with one table load per byte.
//
// Only the first k bytes of each needle are states of the DFA, so its size
// stays bounded however many long needles there are; a state at depth k
// (the text's last k bytes begin some longer needles) continues in a sparse
// trie of the needles' remainders, walked from the next text byte.
//
// States are numbered with those that report something (needles ending
// there, or a remainder trie) last, so the scan loop tests one comparison
// per byte. Transitions hold premultiplied row offsets.
type acDFA struct {
	cls    [256]int32 // byte -> class column
	trans  []int32    // row offset of s, plus class -> row offset of the next state
	stride int32      // columns per row; odd, so offsets divide exactly by inv
	inv    uint32     // multiplicative inverse of stride modulo 2^32
	// firstOut is the row offset of the first reporting state.
	firstOut int32
	// A large DFA holds state numbers in half the space instead: trans16
	// (row s*stride, plus class), with firstOut and inv in state numbers
	// (inv 1).
	trans16     []uint16
	narrowAbove int
	// Per reporting state, in order: needles ending there (outs[outStart[o]:
	// outStart[o+1]]) and the root of its remainder trie in tails, or -1.
	outStart []int32
	outs     []int32
	tail     []int32
	tails    *sparseTrie
	k        int
	// repBase numbers the reporting states within the route's plan, for
	// reporting each state's needles once per event.
	repBase int32
}

// acMaxDepth is the deepest a DFA state may be; acBudget bounds the number
// of transition table entries (4 bytes each): the depth is lowered until
// the table fits.
const (
	acMaxDepth = 12
	acMinDepth = 3
	acBudget   = 1 << 21
)

// newACDFA compiles needles (with their ids) into a DFA. A folding DFA
// holds lower-case needles and reads ASCII upper-case letters as their
// lower-case forms.
func newACDFA(needles []string, ids []int32, fold bool) *acDFA {
	return newACDFAWith(needles, ids, fold, acMaxDepth, acBudget, acNarrowAbove)
}

// newACDFAWith is newACDFA with the deepest state depth, the table budget
// (entries) and the size from which states are 16 bits given.
func newACDFAWith(needles []string, ids []int32, fold bool, maxDepth, budget, narrowAbove int) *acDFA {
	b := &trieBuilder{}
	root := b.newRoot()
	depth := []int{0}
	perDepth := make([]int, maxDepth+1)
	perDepth[0] = 1
	for _, s := range needles {
		n := root
		for i := 0; i < len(s) && i < maxDepth; i++ {
			before := len(b.kids)
			n = b.child(n, s[i])
			if len(b.kids) > before {
				depth = append(depth, i+1)
				perDepth[i+1]++
			}
		}
	}
	a := &acDFA{k: maxDepth, narrowAbove: narrowAbove}
	states := len(b.kids)
	for {
		var used [256]bool
		for _, s := range needles {
			for i := 0; i < len(s) && i < a.k; i++ {
				used[s[i]] = true
			}
		}
		a.classes(&used, fold)
		if a.k <= acMinDepth || states*int(a.stride) <= budget {
			break
		}
		states -= perDepth[a.k]
		a.k--
	}
	a.build(b, depth, needles, ids, fold)
	return a
}

// classes numbers the used bytes 1..n (0 is every other byte), gives
// upper-case letters the class of their lower-case forms when folding, and
// sets an odd stride.
func (a *acDFA) classes(used *[256]bool, fold bool) {
	a.cls = [256]int32{}
	n := int32(1)
	for c := range 256 {
		if used[c] {
			a.cls[c] = n
			n++
		}
	}
	if fold {
		for c := 'A'; c <= 'Z'; c++ {
			a.cls[c] = a.cls[c+'a'-'A']
		}
	}
	if n%2 == 0 {
		n++ // an unused column keeps the stride odd
	}
	a.stride = n
	inv := uint32(n)
	for range 5 { // Newton's iteration doubles the correct low bits
		inv *= 2 - uint32(n)*inv
	}
	a.inv = inv
}

// build computes the DFA of the trie's nodes down to depth k, the outputs
// and the remainder tries.
func (a *acDFA) build(b *trieBuilder, depth []int, needles []string, ids []int32, fold bool) {
	order, id := a.numberStates(b, depth)
	outs := make([][]int32, len(order))
	tailOf := make([]int32, len(order))
	tails := &trieBuilder{}
	for i := range tailOf {
		tailOf[i] = -1
	}
	// Needles end at (or continue below) their node of depth min(len, k).
	for i, s := range needles {
		n := int32(0)
		for j := 0; j < len(s) && j < a.k; j++ {
			n = b.lookup(n, s[j])
		}
		sid := id[n]
		if len(s) <= a.k {
			outs[sid] = append(outs[sid], ids[i])
			continue
		}
		if tailOf[sid] < 0 {
			tailOf[sid] = tails.newRoot()
		}
		tails.insert(tailOf[sid], s[a.k:], false, false, ids[i])
	}
	delta := a.transitions(b, order, id, outs)
	a.renumber(delta, outs, tailOf)
	var frozen []int32
	a.tails, frozen = tails.freezeRoots(fold)
	for i, t := range a.tail {
		if t >= 0 {
			a.tail[i] = frozen[t]
		}
	}
}

// numberStates numbers the trie's nodes down to depth k breadth first:
// order lists the builder nodes by state, id gives the state of a builder
// node (-1 below depth k).
func (a *acDFA) numberStates(b *trieBuilder, depth []int) (order, id []int32) {
	order = []int32{0}
	id = make([]int32, len(b.kids))
	for i := range id {
		id[i] = -1
	}
	id[0] = 0
	for q := 0; q < len(order); q++ {
		n := order[q]
		if depth[n] == a.k {
			continue
		}
		for _, e := range b.kids[n] {
			id[e.node] = int32(len(order))
			order = append(order, e.node)
		}
	}
	return order, id
}

// transitions computes the DFA's transitions (state number per state and
// class) from the trie's and the failure links, and adds to each state's
// outputs those of its longest proper suffix in the trie.
func (a *acDFA) transitions(b *trieBuilder, order, id []int32, outs [][]int32) []int32 {
	stride := int(a.stride)
	delta := make([]int32, len(order)*stride)
	fail := make([]int32, len(order))
	for q, n := range order {
		s := int32(q)
		row := delta[q*stride : (q+1)*stride]
		if s != 0 {
			copy(row, delta[int(fail[s])*stride:int(fail[s]+1)*stride])
		}
		for _, e := range b.kids[n] {
			u := id[e.node]
			if u < 0 {
				continue // below depth k: a remainder
			}
			col := a.cls[e.c]
			if s != 0 {
				fail[u] = delta[int(fail[s])*stride+int(col)]
			}
			row[col] = u
		}
		if s != 0 {
			// fail[s] is shallower, so it is numbered (and complete) first.
			outs[s] = append(outs[s], outs[fail[s]]...)
		}
	}
	return delta
}

// renumber moves the reporting states last, premultiplies the transitions
// and flattens the outputs.
func (a *acDFA) renumber(delta []int32, outs [][]int32, tailOf []int32) {
	n := len(outs)
	newID := make([]int32, n)
	next := int32(0)
	for s := range n {
		if len(outs[s]) == 0 && tailOf[s] < 0 {
			newID[s] = next
			next++
		}
	}
	firstOut := next
	for s := range n {
		if len(outs[s]) > 0 || tailOf[s] >= 0 {
			newID[s] = next
			a.outStart = append(a.outStart, int32(len(a.outs)))
			a.outs = append(a.outs, outs[s]...)
			a.tail = append(a.tail, tailOf[s])
			next++
		}
	}
	a.outStart = append(a.outStart, int32(len(a.outs)))
	stride := int(a.stride)
	if len(delta)*4 > a.narrowAbove && n <= 1<<16 {
		a.trans16 = make([]uint16, len(delta))
		for s := range n {
			row := int(newID[s]) * stride
			for col := range stride {
				a.trans16[row+col] = uint16(newID[delta[s*stride+col]])
			}
		}
		a.firstOut, a.inv = firstOut, 1
		return
	}
	a.trans = make([]int32, len(delta))
	for s := range n {
		row := int(newID[s]) * stride
		for col := range stride {
			a.trans[row+col] = newID[delta[s*stride+col]] * a.stride
		}
	}
	a.firstOut = firstOut * a.stride
}

// scan reports every needle occurring in text to st. A long text is read
// as two interleaved streams, its halves, so that the table loads of one
// overlap those of the other; the second stream starts k-1 bytes early
// without reporting, so that its state is exact from its first reported
// byte on (a state stands for at most the last k bytes). The loops only
// record the reporting states met (without a branch); they are handled
// after the scan.
func (a *acDFA) scan(text string, st *evalState) {
	n := len(text)
	if cap(st.dfaHits) < n {
		st.dfaHits = make([]uint64, n+n/2)
	}
	buf := st.dfaHits[:n]
	mid := n
	if n >= acSplitMin {
		mid = n / 2
	}
	var k1, k2 int
	if a.trans16 != nil {
		k1, k2 = a.run16(text, mid, buf)
	} else {
		k1, k2 = a.run32(text, mid, buf)
	}
	for _, h := range buf[:k1] {
		a.report(int32(h>>32), text, int(uint32(h)), st)
	}
	for _, h := range buf[mid:k2] {
		a.report(int32(h>>32), text, int(uint32(h)), st)
	}
}

// run32 runs the premultiplied table over text's halves (the first mid
// bytes and the rest), recording reporting states in buf[:k1] and
// buf[mid:k2].
func (a *acDFA) run32(text string, mid int, buf []uint64) (k1, k2 int) {
	trans, cls, first := a.trans, &a.cls, a.firstOut-1
	n := len(text)
	k2 = mid
	s1, s2 := int32(0), int32(0)
	for i := max(0, mid-a.k+1); i < mid && mid < n; i++ {
		s2 = trans[s2+cls[text[i]]]
	}
	hi := text[mid:]
	for i := 0; i < len(hi) && i < mid; i++ {
		s1 = trans[s1+cls[text[i]]]
		s2 = trans[s2+cls[hi[i]]]
		buf[k1] = uint64(uint32(s1))<<32 | uint64(i)
		k1 += int(uint32(first-s1) >> 31)
		buf[k2] = uint64(uint32(s2))<<32 | uint64(mid+i)
		k2 += int(uint32(first-s2) >> 31)
	}
	for i := min(len(hi), mid); i < mid; i++ { // short texts: one stream
		s1 = trans[s1+cls[text[i]]]
		buf[k1] = uint64(uint32(s1))<<32 | uint64(i)
		k1 += int(uint32(first-s1) >> 31)
	}
	for i := 2 * mid; i < n; i++ { // odd length: the last byte
		s2 = trans[s2+cls[text[i]]]
		buf[k2] = uint64(uint32(s2))<<32 | uint64(i)
		k2 += int(uint32(first-s2) >> 31)
	}
	return k1, k2
}

// run16 is run32 over the half-size table of state numbers.
func (a *acDFA) run16(text string, mid int, buf []uint64) (k1, k2 int) {
	trans, cls, first, stride := a.trans16, &a.cls, a.firstOut-1, a.stride
	n := len(text)
	k2 = mid
	s1, s2 := int32(0), int32(0)
	for i := max(0, mid-a.k+1); i < mid && mid < n; i++ {
		s2 = int32(trans[s2*stride+cls[text[i]]])
	}
	hi := text[mid:]
	for i := 0; i < len(hi) && i < mid; i++ {
		s1 = int32(trans[s1*stride+cls[text[i]]])
		s2 = int32(trans[s2*stride+cls[hi[i]]])
		buf[k1] = uint64(uint32(s1))<<32 | uint64(i)
		k1 += int(uint32(first-s1) >> 31)
		buf[k2] = uint64(uint32(s2))<<32 | uint64(mid+i)
		k2 += int(uint32(first-s2) >> 31)
	}
	for i := min(len(hi), mid); i < mid; i++ {
		s1 = int32(trans[s1*stride+cls[text[i]]])
		buf[k1] = uint64(uint32(s1))<<32 | uint64(i)
		k1 += int(uint32(first-s1) >> 31)
	}
	for i := 2 * mid; i < n; i++ {
		s2 = int32(trans[s2*stride+cls[text[i]]])
		buf[k2] = uint64(uint32(s2))<<32 | uint64(i)
		k2 += int(uint32(first-s2) >> 31)
	}
	return k1, k2
}

// acSplitMin is the text length from which scan reads two streams;
// acNarrowAbove the table size in bytes above which a DFA with at most
// 1<<16 states keeps state numbers in 16 bits.
const (
	acSplitMin    = 64
	acNarrowAbove = 256 << 10
)

// report handles reaching reporting state s at text[i].
func (a *acDFA) report(s int32, text string, i int, st *evalState) {
	o := uint32(s-a.firstOut) * a.inv
	// A state's needles are reported once per event, or each time while
	// the state records a text's needles (the memo must get them all).
	if g := &st.repGen[a.repBase+int32(o)]; *g != st.mgen || st.recording {
		*g = st.mgen
		if lo, hi := a.outStart[o], a.outStart[o+1]; lo < hi {
			st.hitNeedles(a.outs[lo:hi])
		}
	}
	if t := a.tail[o]; t >= 0 {
		a.tails.walk(t, text, i+1, st)
	}
}

// size returns the automaton's approximate memory in bytes.
//
//nolint:unused // memory accounting for the engine metrics
func (a *acDFA) size() int {
	return 4*(len(a.trans)+len(a.outStart)+len(a.outs)+len(a.tail)) + 2*len(a.trans16) + a.tails.size() + 1024
}
