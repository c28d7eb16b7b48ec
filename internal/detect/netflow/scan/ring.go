package scan

import "math/bits"

// The windows are counted in hops of half the fast window. A contact keeps,
// for the last ringHops hops, which hops it was seen in, answered in and
// failed in, as bitmaps: bit h mod 64 stands for hop h when
// top-64 < h <= top.

func mod64(h int64) uint { return uint(h & (ringHops - 1)) }

// span returns the bits standing for hops from..to (fewer than 64 of them).
func span(from, to int64) uint64 {
	n := to - from + 1
	switch {
	case n <= 0:
		return 0
	case n >= ringHops:
		return ^uint64(0)
	}
	return bits.RotateLeft64(uint64(1)<<uint(n)-1, int(mod64(from)))
}

// hist is a contact's history: hops seen, answered and failed.
type hist struct {
	top              int64
	seen, ok, failed uint64
}

// mark records an attempt in hop h; it reports false when h is older than
// the history holds.
func (x *hist) mark(h int64, ok, failed bool) bool {
	switch {
	case h > x.top:
		clear := ^uint64(0)
		if h-x.top < ringHops {
			clear = span(x.top+1, h)
		}
		x.seen &^= clear
		x.ok &^= clear
		x.failed &^= clear
		x.top = h
	case h <= x.top-ringHops:
		return false
	}
	b := uint64(1) << mod64(h)
	x.seen |= b
	if ok {
		x.ok |= b
	}
	if failed {
		x.failed |= b
	}
	return true
}

// in reports whether mask has a bit for a hop in from..to that the history
// still holds.
func (x *hist) in(mask uint64, from, to int64) bool {
	if from <= x.top-ringHops {
		from = x.top - ringHops + 1
	}
	if to > x.top {
		to = x.top
	}
	return from <= to && mask&span(from, to) != 0
}

// activity is a source's record of the hops it was active in, with
// saturating counts per hop of targets first seen and first failed in that
// hop: upper bounds of the distinct targets and failed targets of any
// window, which let an evaluation skip a source without reading its
// contacts.
type activity struct {
	top          int64
	bits         uint64
	seen, failed [ringHops]uint8
}

func (a *activity) mark(h int64) {
	if h > a.top {
		if h-a.top >= ringHops {
			a.bits = 0
			a.seen, a.failed = [ringHops]uint8{}, [ringHops]uint8{}
		} else {
			a.bits &^= span(a.top+1, h)
			for x := a.top + 1; x <= h; x++ {
				a.seen[mod64(x)], a.failed[mod64(x)] = 0, 0
			}
		}
		a.top = h
	}
	if h > a.top-ringHops {
		a.bits |= uint64(1) << mod64(h)
	}
}

func (a *activity) has(h int64) bool {
	return h <= a.top && h > a.top-ringHops && a.bits&(uint64(1)<<mod64(h)) != 0
}

// any reports whether the source was active in a hop of from..to.
func (a *activity) any(from, to int64) bool {
	from, to = max(from, a.top-ringHops+1), min(to, a.top)
	return from <= to && a.bits&span(from, to) != 0
}

// count adds a new target and, if failed, a newly failed one to hop h.
func (a *activity) count(h int64, seen, failed bool) {
	if h > a.top || h <= a.top-ringHops {
		return
	}
	i := mod64(h)
	if seen && a.seen[i] < 255 {
		a.seen[i]++
	}
	if failed && a.failed[i] < 255 {
		a.failed[i]++
	}
}

// sum adds the counts of hops from..to.
func (a *activity) sum(c *[ringHops]uint8, from, to int64) int {
	from, to = max(from, a.top-ringHops+1), min(to, a.top)
	n := 0
	for h := from; h <= to; h++ {
		n += int(c[mod64(h)])
	}
	return n
}

// floorDiv divides rounding toward minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
