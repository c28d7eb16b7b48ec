package intel

import (
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/gaissmai/bart"
)

// entry is one indicator in a Matcher, kept compact (the full record stays
// in the store): a matcher holds millions of them.
type entry struct {
	next   int32 // next entry with the same key; -1 ends the chain
	src    uint16
	conf   int8 // -1 unknown
	flags  uint8
	threat uint32 // index into Matcher.strs
	also   uint32 // index into Matcher.also; 0 none
	keyOff uint32 // where a string key is in Matcher.arena
	keyLen uint16 // its length; 0 for address keys
	from   int64  // unix seconds; 0 open
	until  int64  // unix seconds; 0 open
	seen   int64  // unix seconds the feed last listed it (for decay)
}

const (
	flagC2 uint8 = 1 << iota
	flagDecay
)

// Matcher answers whether an observable is a known indicator. It is
// immutable once built and safe for concurrent use; the intel manager builds
// a new one when sources change and swaps it in.
type Matcher struct {
	sources []SourceInfo
	entries []entry
	strs    []string
	also    [][]Condition

	v4     map[uint32]int32
	v6     map[[16]byte]int32
	nets   bart.Table[int32]
	hasNet bool
	seed   maphash.Seed
	arena  []byte   // string keys, back to back
	names  strTable // domains
	urls   strTable
	hashes strTable // md5, sha1, sha256, sha512; ja3 and ja4 with a prefix
	emails strTable
	counts map[Type]int
}

// SourceInfo is what a matcher knows of a source: its name and its decay
// period for indicators without an expiry (0 none).
type SourceInfo struct {
	Name  string
	Decay time.Duration
}

// Builder collects indicators into a Matcher.
type Builder struct {
	m      *Matcher
	srcIdx map[string]uint16
	strIdx map[string]uint32
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder {
	m := &Matcher{strs: []string{""}, also: [][]Condition{nil},
		v4: map[uint32]int32{}, v6: map[[16]byte]int32{}, seed: maphash.MakeSeed(), names: newStrTable(),
		urls: newStrTable(), hashes: newStrTable(), emails: newStrTable(), counts: map[Type]int{}}
	return &Builder{m: m, srcIdx: map[string]uint16{}, strIdx: map[string]uint32{"": 0}}
}

// AddSource declares a source and its decay; indicators of undeclared
// sources get no decay.
func (b *Builder) AddSource(s SourceInfo) {
	if i, ok := b.srcIdx[s.Name]; ok {
		b.m.sources[i] = s
		return
	}
	b.srcIdx[s.Name] = uint16(len(b.m.sources))
	b.m.sources = append(b.m.sources, s)
}

func (b *Builder) intern(s string) uint32 {
	if i, ok := b.strIdx[s]; ok {
		return i
	}
	i := uint32(len(b.m.strs))
	b.m.strs = append(b.m.strs, s)
	b.strIdx[s] = i
	return i
}

// Add adds an indicator whose Value is already normalised; seen is when its
// feed last listed it. Revoked indicators are skipped, and so are values
// that are not valid for their type.
func (b *Builder) Add(in *Indicator, seen time.Time) {
	if in.Revoked {
		return
	}
	src, ok := b.srcIdx[in.Source]
	if !ok {
		b.AddSource(SourceInfo{Name: in.Source})
		src = b.srcIdx[in.Source]
	}
	e := entry{next: -1, src: src, conf: int8(max(-1, min(in.Confidence, 100))), threat: b.intern(in.Threat),
		from: unixOrZero(in.ValidFrom), until: unixOrZero(in.ValidUntil), seen: unixOrZero(seen)}
	if in.C2() {
		e.flags |= flagC2
	}
	if in.ValidUntil.IsZero() && b.m.sources[src].Decay > 0 {
		e.flags |= flagDecay
	}
	if len(in.Also) > 0 {
		e.also = uint32(len(b.m.also))
		b.m.also = append(b.m.also, in.Also)
	}
	if b.insert(in.Type, in.Value, e) {
		b.m.counts[in.Type]++
	}
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// insert links e into the chain of its key and reports whether the value
// was valid.
func (b *Builder) insert(t Type, v string, e entry) bool {
	m := b.m
	idx := int32(len(m.entries))
	link := func(head int32, ok bool) int32 {
		if ok {
			e.next = head
		}
		m.entries = append(m.entries, e)
		return idx
	}
	switch t {
	case TypeIP:
		return b.insertIP(v, link)
	case TypeDomain:
		b.insertStr(m.names, v, e)
	case TypeURL:
		b.insertStr(m.urls, v, e)
	case TypeMD5, TypeSHA1, TypeSHA256, TypeSHA512, TypeJA3, TypeJA4:
		b.insertStr(m.hashes, hashKey(t, v), e)
	case TypeEmail:
		b.insertStr(m.emails, v, e)
	default:
		return false
	}
	return true
}

func lookup[K comparable](m map[K]int32, k K) (int32, bool) {
	i, ok := m[k]
	return i, ok
}

// hashKey separates JA3 from MD5 (both 32 hex digits) and JA4 from the rest.
func hashKey(t Type, v string) string {
	switch t {
	case TypeJA3:
		return "ja3:" + v
	case TypeJA4:
		return "ja4:" + v
	}
	return v
}

func (b *Builder) insertIP(v string, link func(int32, bool) int32) bool {
	m := b.m
	if p, err := netip.ParsePrefix(v); err == nil && !p.IsSingleIP() {
		head, ok := m.nets.Get(p)
		m.nets.Insert(p, link(head, ok))
		m.hasNet = true
		return true
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return false
	}
	a = a.Unmap()
	if a.Is4() {
		k := v4key(a)
		m.v4[k] = link(lookup(m.v4, k))
		return true
	}
	k := a.As16()
	m.v6[k] = link(lookup(m.v6, k))
	return true
}

func v4key(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// Build returns the matcher; the builder must not be used afterwards.
func (b *Builder) Build() *Matcher {
	m := b.m
	b.m = nil
	return m
}

// Len returns how many indicators the matcher holds.
func (m *Matcher) Len() int { return len(m.entries) }

// Counts returns how many indicators of each type the matcher holds.
func (m *Matcher) Counts() map[Type]int {
	out := make(map[Type]int, len(m.counts))
	for k, v := range m.counts {
		out[k] = v
	}
	return out
}
