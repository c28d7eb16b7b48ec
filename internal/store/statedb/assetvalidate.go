package statedb

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"unicode"

	"github.com/vigil-soc/vigil/internal/schema"
)

// FieldError is one invalid field of an asset.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Limits on asset fields.
const (
	maxHostname   = 253
	maxAssetText  = 1024
	maxAssetNotes = 16 << 10
	maxAssetList  = 256
)

// ValidateAsset returns a normalised copy of a (see Asset) or an error
// wrapping ErrInvalidAsset that names every invalid field.
func ValidateAsset(a Asset) (Asset, error) {
	out, errs := normaliseAsset(a)
	if len(errs) == 0 {
		return out, nil
	}
	parts := make([]string, len(errs))
	for i := range errs {
		parts[i] = errs[i].Error()
	}
	return out, fmt.Errorf("%w: %s", ErrInvalidAsset, strings.Join(parts, "; "))
}

// normaliseAsset trims and canonicalises a's fields and reports the invalid
// ones.
func normaliseAsset(a Asset) (Asset, []FieldError) {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	a.Hostname = strings.TrimSpace(a.Hostname)
	if err := checkHostname(a.Hostname); err != nil {
		bad("hostname", "%v", err)
	}
	a.Addresses = normaliseList(a.Addresses, "addresses", NormalizeAddress, bad)
	if a.Hostname == "" && len(a.Addresses) == 0 {
		bad("hostname", "an asset needs a host name or at least one address")
	}
	var err error
	if a.MAC, err = NormalizeMAC(a.MAC); err != nil {
		bad("mac", "%v", err)
	}
	if a.Criticality, err = ParseCriticality(a.Criticality); err != nil {
		bad("criticality", "%v", err)
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"owner", &a.Owner, maxAssetText}, {"role", &a.Role, maxAssetText}, {"notes", &a.Notes, maxAssetNotes}} {
		*f.v = strings.TrimSpace(*f.v)
		if len(*f.v) > f.max {
			bad(f.name, "longer than %d bytes", f.max)
		}
	}
	a.Tags = normaliseList(a.Tags, "tags", normaliseTag, bad)
	a.ExpectedSources = normaliseList(a.ExpectedSources, "expected_sources", NormalizeExpectedSource, bad)
	return a, errs
}

// normaliseList normalises each entry of list with norm, drops empty ones
// and duplicates (ignoring case), and reports bad entries. It never returns
// nil.
func normaliseList(list []string, field string, norm func(string) (string, error),
	bad func(field, format string, args ...any)) []string {
	out := make([]string, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, v := range list {
		n, err := norm(strings.TrimSpace(v))
		if err != nil {
			bad(field, "%v", err)
			continue
		}
		if n == "" || seen[strings.ToLower(n)] {
			continue
		}
		seen[strings.ToLower(n)] = true
		out = append(out, n)
	}
	if len(out) > maxAssetList {
		bad(field, "more than %d entries", maxAssetList)
	}
	return out
}

// checkHostname reports whether h can be a host name: at most 253 bytes,
// no spaces, control characters or separators.
func checkHostname(h string) error {
	if len(h) > maxHostname {
		return fmt.Errorf("longer than %d bytes", maxHostname)
	}
	for _, r := range h {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' || r == ';' || r == '/' {
			return fmt.Errorf("%q contains %q, not allowed in a host name", h, r)
		}
	}
	return nil
}

// ParseCriticality returns the canonical criticality of s (case and spaces
// ignored): low, medium, high or critical; empty means medium.
func ParseCriticality(s string) (string, error) {
	switch c := strings.ToLower(strings.TrimSpace(s)); c {
	case "":
		return CriticalityMedium, nil
	case CriticalityLow, CriticalityMedium, CriticalityHigh, CriticalityCritical:
		return c, nil
	}
	return "", fmt.Errorf("criticality %q must be low, medium, high or critical", s)
}

// CriticalityRank orders criticalities: low 1, medium 2, high 3, critical
// 4, anything else 0.
func CriticalityRank(c string) int {
	switch c {
	case CriticalityLow:
		return 1
	case CriticalityMedium:
		return 2
	case CriticalityHigh:
		return 3
	case CriticalityCritical:
		return 4
	}
	return 0
}

// NormalizeAddress returns the canonical form of an IP address or CIDR:
// IPv4-mapped IPv6 as IPv4, a full-length prefix as the plain address. A
// CIDR with host bits set ("10.0.0.5/24") and zoned addresses are errors.
// An empty s gives an empty result.
func NormalizeAddress(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return "", fmt.Errorf("%q is not an IP address or CIDR", s)
		}
		return a.Unmap().String(), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	addr, bits := p.Addr(), p.Bits()
	if addr.Is4In6() && bits >= 96 {
		addr, bits = addr.Unmap(), bits-96
		p = netip.PrefixFrom(addr, bits)
	}
	if p.Masked() != p {
		return "", fmt.Errorf("%q has host bits set: write the address %s or the network %s", s, addr, p.Masked())
	}
	if bits == addr.BitLen() {
		return addr.String(), nil
	}
	return p.String(), nil
}

// NormalizeMAC returns a MAC address in lower-case colon form; empty stays
// empty.
func NormalizeMAC(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	hw, err := net.ParseMAC(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a MAC address", s)
	}
	return hw.String(), nil
}

// normaliseTag checks one tag.
func normaliseTag(s string) (string, error) {
	if len(s) > 128 {
		return "", fmt.Errorf("tag %q is longer than 128 bytes", s[:32]+"...")
	}
	if strings.ContainsAny(s, ",;\n\r\t") {
		return "", fmt.Errorf("tag %q contains a separator", s)
	}
	return s, nil
}

// expectedInputs are the input kinds an expected source may name.
var expectedInputs = []string{schema.InputSyslog, schema.InputNDJSON, schema.InputBulk, schema.InputZeek,
	schema.InputSuricata, schema.InputWinlogbeat, schema.InputEVTX, schema.InputNetflow}

// NormalizeExpectedSource checks an expected source, "input" or
// "input:stream" (see Asset), and returns it with the input in lower case.
func NormalizeExpectedSource(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	in, stream, qualified := strings.Cut(s, ":")
	in = strings.ToLower(in)
	if !slices.Contains(expectedInputs, in) {
		return "", fmt.Errorf("expected source %q: input %q must be one of %s", s, in,
			strings.Join(expectedInputs, ", "))
	}
	if !qualified {
		return in, nil
	}
	if stream == "" || strings.ContainsFunc(stream, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' || r == ';'
	}) {
		return "", fmt.Errorf("expected source %q: the stream after %q must be a non-empty name without spaces", s, in+":")
	}
	return in + ":" + stream, nil
}

// ExpectedInput returns the input kind of an expected source
// ("winlogbeat:Security" gives "winlogbeat").
func ExpectedInput(s string) string {
	in, _, _ := strings.Cut(s, ":")
	return in
}

// sameAsset reports whether a and b hold the same inventory data (ID and
// times aside).
func sameAsset(a, b Asset) bool {
	return a.Hostname == b.Hostname && slices.Equal(a.Addresses, b.Addresses) && a.MAC == b.MAC &&
		a.Owner == b.Owner && a.Role == b.Role && a.Criticality == b.Criticality &&
		slices.Equal(a.Tags, b.Tags) && slices.Equal(a.ExpectedSources, b.ExpectedSources) && a.Notes == b.Notes
}
