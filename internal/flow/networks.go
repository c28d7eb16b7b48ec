package flow

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gaissmai/bart"
)

// DefaultInternal returns the address ranges treated as internal when the
// configuration names none: RFC 1918, carrier-grade NAT, link-local and
// IPv6 unique-local and link-local ranges.
func DefaultInternal() []string {
	return []string{
		"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
		"169.254.0.0/16", "fc00::/7", "fe80::/10",
	}
}

// Set is an immutable set of IP prefixes, safe for concurrent reads.
type Set struct {
	t bart.Lite
	n int
}

// NewSet builds a set from CIDRs or single addresses. It reports every
// entry it cannot read.
func NewSet(entries []string) (*Set, error) {
	s := &Set{}
	var bad []string
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		p, err := ParsePrefix(e)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		s.t.Insert(p)
		s.n++
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("flow: %s", strings.Join(bad, "; "))
	}
	return s, nil
}

// ParsePrefix reads a CIDR or a single address (as a /32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR: %w", s, err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Contains reports whether a is in the set. A nil set contains nothing.
func (s *Set) Contains(a netip.Addr) bool {
	if s == nil || s.n == 0 || !a.IsValid() {
		return false
	}
	return s.t.Lookup(a)
}

// Len returns how many entries the set was built from.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}
