package scan

import (
	"encoding/binary"
	"math/bits"
)

// table indexes the contacts: an open-addressing hash table with linear
// probing whose slots hold 8 bytes each — the low 32 bits of the key's
// hash and the contact's slot in the slab plus one (0 is empty). Keeping
// the hash lets a probe skip other keys and lets the table grow and delete
// without reading the slab; one lookup usually costs one cache line of the
// table and one of the slab, where a Go map with these 36-byte keys costs
// two of the map and one of the slab.
type table struct {
	slots []uint64
	n     int
}

const minTableSlots = 1024

func newTable(capacity int) table {
	n := minTableSlots
	for n*3/4 < capacity {
		n *= 2
	}
	return table{slots: make([]uint64, n)}
}

func (t *table) mask() uint64 { return uint64(len(t.slots) - 1) }

// hashKey hashes a contact key (wyhash-style multiply-mix of its words).
func hashKey(k *ckey) uint64 {
	s0, s1 := binary.LittleEndian.Uint64(k.src[:8]), binary.LittleEndian.Uint64(k.src[8:])
	d0, d1 := binary.LittleEndian.Uint64(k.t.dst[:8]), binary.LittleEndian.Uint64(k.t.dst[8:])
	pp := uint64(k.t.port)<<8 | uint64(k.t.proto)
	h := mum(s0^0xa0761d6478bd642f, s1^0xe7037ed1a0b428db) ^ mum(d0^0x8ebc6af09c88c6e3, d1^pp^0x589965cc75374cc3)
	return mum(h, 0x1d8e4e27c47d124f)
}

func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// find returns the position of the slot holding k and its slab index.
func (t *table) find(cs []contact, k *ckey, h uint64) (pos uint64, idx int32, ok bool) {
	m, tag := t.mask(), h&0xffffffff
	for i := h & m; ; i = (i + 1) & m {
		s := t.slots[i]
		if s == 0 {
			return 0, 0, false
		}
		if s>>32 == tag && cs[int32(s)-1].k == *k {
			return i, int32(s) - 1, true
		}
	}
}

// insert adds slab index idx under hash h; the key must be absent.
func (t *table) insert(h uint64, idx int32) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	t.put(h&0xffffffff, idx)
	t.n++
}

func (t *table) put(tag uint64, idx int32) {
	m := t.mask()
	i := tag & m
	for t.slots[i] != 0 {
		i = (i + 1) & m
	}
	t.slots[i] = tag<<32 | uint64(uint32(idx+1))
}

func (t *table) grow() {
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	for _, s := range old {
		if s != 0 {
			t.put(s>>32, int32(s)-1)
		}
	}
}

// remove empties the slot at pos, shifting back the entries after it that
// probed past it (so no tombstones are needed).
func (t *table) remove(pos uint64) {
	m := t.mask()
	i := pos
	for j := (i + 1) & m; ; j = (j + 1) & m {
		s := t.slots[j]
		if s == 0 {
			break
		}
		home := (s >> 32) & m
		if (j-home)&m >= (j-i)&m {
			t.slots[i] = s
			i = j
		}
	}
	t.slots[i] = 0
	t.n--
}
