package asset

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/gaissmai/bart"

	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// Static is an asset described in the configuration file instead of the
// inventory (network.assets): one address or CIDR with a name, role and
// criticality, and whether it is sensitive.
type Static struct {
	Address     string
	Name        string
	Role        string
	Criticality string
	Sensitive   bool
}

// Entry is what the index holds for one asset. Entries are shared by every
// reader of the index and must not be modified.
type Entry struct {
	// Asset is what enrichment writes into events: the inventory ID (empty
	// for a static entry), the name (host name, or for an asset without
	// one its first address), role and criticality.
	schema.Asset
	// Record is the full inventory record; nil for a static entry.
	Record *statedb.Asset
	// Sensitive is the static entry's flag (always false for inventory
	// records).
	Sensitive bool
}

// Index is an immutable lookup of assets by address and host name, safe
// for concurrent use. A nil *Index is empty.
type Index struct {
	addrs bart.Table[*Entry]
	// names holds full host names; short holds first labels, nil where
	// several assets share one.
	names, short map[string]*Entry
	n            int
}

// item is an entry being indexed with the keys it is found by.
type item struct {
	e        *Entry
	prefixes []netip.Prefix
	names    []string
}

// NewIndex builds an index of the inventory's assets and the static
// entries (see the package documentation for which wins where they
// overlap). Static entries with an invalid address or criticality, and
// inventory addresses that do not parse, are left out and reported in the
// error; the index holds everything else.
func NewIndex(assets []statedb.Asset, static []Static) (*Index, error) {
	x := &Index{names: make(map[string]*Entry, 2*len(assets)), short: make(map[string]*Entry, len(assets))}
	var errs []error
	inv := make([]item, 0, len(assets))
	for i := range assets {
		it, err := inventoryItem(&assets[i])
		if err != nil {
			errs = append(errs, err)
		}
		inv = append(inv, it)
	}
	st := make([]item, 0, len(static))
	for i, s := range static {
		it, err := staticItem(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("asset: static asset %d (%s): %w", i, s.Name, err))
			continue
		}
		st = append(st, it)
	}
	x.addTier(inv)
	x.addTier(st)
	x.n = len(inv) + len(st)
	return x, errors.Join(errs...)
}

// inventoryItem makes the entry of an inventory record.
func inventoryItem(a *statedb.Asset) (item, error) {
	name := a.Hostname
	if name == "" && len(a.Addresses) > 0 {
		name = a.Addresses[0]
	}
	crit, err := statedb.ParseCriticality(a.Criticality)
	if err != nil {
		crit = statedb.CriticalityMedium
	}
	it := item{e: &Entry{Asset: schema.Asset{ID: a.ID, Name: name, Role: a.Role, Criticality: crit}, Record: a}}
	if a.Hostname != "" {
		it.names = []string{a.Hostname}
	}
	var errs []error
	for _, s := range a.Addresses {
		p, err := parsePrefix(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("asset: %s (%s): %w", a.ID, name, err))
			continue
		}
		it.prefixes = append(it.prefixes, p)
	}
	return it, errors.Join(errs...)
}

// staticItem makes the entry of a static asset.
func staticItem(s Static) (item, error) {
	p, err := parsePrefix(strings.TrimSpace(s.Address))
	if err != nil {
		return item{}, err
	}
	crit, err := statedb.ParseCriticality(s.Criticality)
	if err != nil {
		return item{}, err
	}
	name := strings.TrimSpace(s.Name)
	it := item{e: &Entry{Asset: schema.Asset{Name: cmp.Or(name, addrString(p)), Role: strings.TrimSpace(s.Role),
		Criticality: crit}, Sensitive: s.Sensitive}, prefixes: []netip.Prefix{p}}
	if name != "" {
		it.names = []string{name}
	}
	return it, nil
}

// parsePrefix reads an address (as a full-length prefix) or a CIDR.
func parsePrefix(s string) (netip.Prefix, error) {
	n, err := statedb.NormalizeAddress(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if n == "" {
		return netip.Prefix{}, errors.New("empty address")
	}
	if strings.Contains(n, "/") {
		return netip.ParsePrefix(n)
	}
	a, err := netip.ParseAddr(n)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// addrString renders a full-length prefix as its address, others as CIDRs.
func addrString(p netip.Prefix) string {
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.String()
}

// addTier indexes items that rank below everything indexed before them:
// a key already taken by an earlier tier keeps its entry. Within the tier
// the more critical asset wins, then the smaller name.
func (x *Index) addTier(items []item) {
	slices.SortStableFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare(statedb.CriticalityRank(b.e.Criticality), statedb.CriticalityRank(a.e.Criticality)),
			cmp.Compare(strings.ToLower(a.e.Name), strings.ToLower(b.e.Name)))
	})
	short := map[string]*Entry{}
	for _, it := range items {
		for _, p := range it.prefixes {
			if _, taken := x.addrs.Get(p); !taken {
				x.addrs.Insert(p, it.e)
			}
		}
		for _, n := range it.names {
			key := hostKey(n)
			if _, taken := x.names[key]; !taken {
				x.names[key] = it.e
			}
			label := firstLabel(key)
			if label == key || isAddr(key) {
				continue // a short name already, or an address: no short form
			}
			if prev, seen := short[label]; seen && prev != it.e {
				short[label] = nil // shared by several assets of this tier
			} else if !seen {
				short[label] = it.e
			}
		}
	}
	for label, e := range short {
		if _, taken := x.short[label]; !taken {
			x.short[label] = e
		}
	}
}

// hostKey is the lookup form of a host name: lower case, without a
// trailing dot. It does not allocate for names already in that form.
func hostKey(name string) string {
	name = strings.TrimSuffix(name, ".")
	return strings.ToLower(name)
}

// firstLabel returns the part of a host name before the first dot.
func firstLabel(name string) string {
	if i := strings.IndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}

// Len returns how many assets (inventory and static) the index was built
// from.
func (x *Index) Len() int {
	if x == nil {
		return 0
	}
	return x.n
}

// LookupAddr returns the asset of address a: the asset holding a itself,
// else the one holding the most specific CIDR containing a.
func (x *Index) LookupAddr(a netip.Addr) (*Entry, bool) {
	if x == nil || !a.IsValid() {
		return nil, false
	}
	e, ok := x.addrs.Lookup(a.Unmap())
	return e, ok
}

// LookupHost returns the asset of a host name, ignoring case and a
// trailing dot. A short name ("web01") finds the asset of that name or,
// failing that, the one whose fully qualified name starts with it (unless
// several do); a fully qualified name finds the asset of that name or,
// failing that, the one inventoried under its short name. It does not
// allocate for ASCII names.
func (x *Index) LookupHost(name string) (*Entry, bool) {
	if x == nil || name == "" {
		return nil, false
	}
	var buf [maxHostKey]byte
	key, ok := lowerASCII(buf[:0], strings.TrimSuffix(name, "."))
	if !ok {
		key = []byte(hostKey(name))
	}
	if e, ok := x.names[string(key)]; ok {
		return e, true
	}
	label := key
	if i := bytes.IndexByte(key, '.'); i > 0 {
		label = key[:i]
	}
	if len(label) == len(key) {
		// A short name finds the asset whose full name starts with it.
		e := x.short[string(label)]
		return e, e != nil
	}
	if looksLikeAddr(name) && isAddr(name) {
		return nil, false
	}
	// A full name finds the asset inventoried under its short name.
	e, ok := x.names[string(label)]
	return e, ok
}

// maxHostKey is the longest name LookupHost lowers on the stack.
const maxHostKey = 256

// lowerASCII appends s in lower case to dst and reports whether s was
// ASCII and short enough to fit dst's capacity.
func lowerASCII(dst []byte, s string) ([]byte, bool) {
	if len(s) > cap(dst) {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8RuneSelf {
			return nil, false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst, true
}

// utf8RuneSelf is the first byte value that is not ASCII.
const utf8RuneSelf = 0x80

// looksLikeAddr reports whether s might be an IP address: it starts with a
// hex digit or a colon and holds only hex digits, dots and colons (and a
// zone after '%'). It lets callers skip netip.ParseAddr, which allocates
// its error, for host names.
func looksLikeAddr(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '.', c == ':':
		case c == '%' && i > 0:
			return true
		default:
			return false
		}
	}
	return true
}

// ParseAddr parses s as an IP address (IPv4-mapped IPv6 unmapped) without
// allocating for strings that are plainly not addresses, such as host
// names.
func ParseAddr(s string) (netip.Addr, bool) {
	if !looksLikeAddr(s) {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// isAddr reports whether s is an IP address.
func isAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// Lister lists inventory assets; *statedb.DB is one.
type Lister interface {
	Assets(ctx context.Context, f statedb.AssetFilter) ([]statedb.Asset, error)
}

// Load reads the whole inventory from db and builds its index with the
// static entries. On a database error the index is nil; bad static
// entries are reported in the error beside a usable index (see NewIndex).
func Load(ctx context.Context, db Lister, static []Static) (*Index, error) {
	assets, err := db.Assets(ctx, statedb.AssetFilter{})
	if err != nil {
		return nil, fmt.Errorf("asset: load the inventory: %w", err)
	}
	return NewIndex(assets, static)
}
