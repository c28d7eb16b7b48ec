// Package intel holds Vigil's threat intelligence: indicators with their
// lifecycle (validity, revocation, confidence, decay), the sources that
// deliver them, the inline matcher that checks every event and flow against
// them, and the retro-hunt over stored events when new indicators arrive.
//
// Format readers live in subpackages (intel/stix for STIX 2.1 bundles and
// patterns, intel/feed for MISP, lists, CSV, TAXII 2.1 and OpenCTI); they
// produce Indicators and never match anything themselves.
package intel

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Type is the kind of observable an indicator names.
type Type string

// Indicator types. An IP indicator holds one address or a CIDR prefix.
const (
	TypeIP     Type = "ip"
	TypeDomain Type = "domain"
	TypeURL    Type = "url"
	TypeMD5    Type = "md5"
	TypeSHA1   Type = "sha1"
	TypeSHA256 Type = "sha256"
	TypeSHA512 Type = "sha512"
	TypeEmail  Type = "email"
	TypeJA3    Type = "ja3"
	TypeJA4    Type = "ja4"
)

// Types lists every indicator type in a stable order.
func Types() []Type {
	return []Type{TypeIP, TypeDomain, TypeURL, TypeMD5, TypeSHA1, TypeSHA256, TypeSHA512, TypeEmail, TypeJA3, TypeJA4}
}

// ParseType reads a type name; it also accepts the usual aliases of feeds
// (ipv4-addr, ip-dst, hostname, md5, sha-256, email-src, ...).
func ParseType(s string) (Type, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ip", "ipv4", "ipv6", "ipv4-addr", "ipv6-addr", "ip-dst", "ip-src", "ip_address", "cidr", "ip-range", "range":
		return TypeIP, nil
	case "domain", "domain-name", "hostname", "fqdn", "dns":
		return TypeDomain, nil
	case "url", "uri", "link":
		return TypeURL, nil
	case "md5", "hash-md5":
		return TypeMD5, nil
	case "sha1", "sha-1", "hash-sha1":
		return TypeSHA1, nil
	case "sha256", "sha-256", "hash-sha256":
		return TypeSHA256, nil
	case "sha512", "sha-512", "hash-sha512":
		return TypeSHA512, nil
	case "email", "email-addr", "email-src", "email-dst", "email-address":
		return TypeEmail, nil
	case "ja3", "ja3-fingerprint-md5", "ja3_md5":
		return TypeJA3, nil
	case "ja4":
		return TypeJA4, nil
	}
	return "", fmt.Errorf("unknown indicator type %q", s)
}

// Indicator is one observable with what the feed says about it.
type Indicator struct {
	Type Type `json:"type"`
	// Value is normalised by Normalize: a canonical address or prefix,
	// a lower-case domain without trailing dot, a URL with lower-case
	// scheme and host, lower-case hashes and e-mail addresses.
	Value string `json:"value"`
	// ID is the feed's own identifier (STIX indicator id, MISP attribute
	// uuid), if any.
	ID string `json:"id,omitempty"`
	// Source is the configured source name; set by the manager.
	Source string `json:"source,omitempty"`
	// Confidence is 0..100; -1 means the feed did not say.
	Confidence int `json:"confidence"`
	// ValidFrom and ValidUntil bound when the indicator may alert; zero
	// means unbounded on that side.
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	Revoked    bool      `json:"revoked,omitempty"`
	// Threat names what the indicator stands for (malware family, campaign,
	// "c2"), Description is free text, Tags are labels and threat types
	// (STIX indicator_types such as "malicious-activity", MISP tags).
	Threat      string   `json:"threat,omitempty"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// Also are further conditions on the same event that must hold for a
	// match (from STIX AND within one observation), e.g. destination.port.
	Also []Condition `json:"also,omitempty"`
}

// Condition is an equality on an event field by its ECS name.
type Condition struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// C2 reports whether the indicator marks command-and-control
// infrastructure: a tag or threat naming c2, command-and-control or botnet
// controller.
func (in *Indicator) C2() bool {
	for _, s := range append([]string{in.Threat}, in.Tags...) {
		s = strings.ToLower(s)
		if s == "c2" || strings.Contains(s, "command-and-control") || strings.Contains(s, "command and control") ||
			strings.Contains(s, "c&c") || strings.Contains(s, "botnet_cc") || strings.Contains(s, "c2 server") ||
			strings.HasPrefix(s, "c2:") || strings.HasSuffix(s, " c2") || strings.Contains(s, "botnet controller") {
			return true
		}
	}
	return false
}

// Active reports whether the indicator may alert at time t: not revoked
// and t inside its validity.
func (in *Indicator) Active(t time.Time) bool {
	if in.Revoked {
		return false
	}
	if !in.ValidFrom.IsZero() && t.Before(in.ValidFrom) {
		return false
	}
	return in.ValidUntil.IsZero() || t.Before(in.ValidUntil)
}

// Key identifies the indicator within a source: type and value.
func (in *Indicator) Key() string { return string(in.Type) + ":" + in.Value }

// ErrEmpty is returned by Normalize for an empty value.
var ErrEmpty = errors.New("empty indicator value")

var hashLen = map[Type]int{TypeMD5: 32, TypeSHA1: 40, TypeSHA256: 64, TypeSHA512: 128, TypeJA3: 32}

// Normalize returns v in the canonical form of type t, or an error saying
// why it is not a valid value of that type.
func Normalize(t Type, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", ErrEmpty
	}
	switch t {
	case TypeIP:
		return normalizeIP(v)
	case TypeDomain:
		return NormalizeDomain(v)
	case TypeURL:
		return NormalizeURL(v)
	case TypeMD5, TypeSHA1, TypeSHA256, TypeSHA512, TypeJA3:
		v = strings.ToLower(v)
		if len(v) != hashLen[t] || strings.Trim(v, "0123456789abcdef") != "" {
			return "", fmt.Errorf("%s: want %d hex digits, got %q", t, hashLen[t], v)
		}
		return v, nil
	case TypeEmail:
		a, err := mail.ParseAddress(v)
		if err != nil {
			return "", fmt.Errorf("email: %w", err)
		}
		return strings.ToLower(a.Address), nil
	case TypeJA4:
		return strings.ToLower(v), nil
	}
	return "", fmt.Errorf("unknown indicator type %q", t)
}

func normalizeIP(v string) (string, error) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return "", fmt.Errorf("ip: %w", err)
		}
		p = p.Masked()
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.IsSingleIP() {
			return p.Addr().String(), nil
		}
		return p.String(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return "", fmt.Errorf("ip: %w", err)
	}
	return a.Unmap().WithZone("").String(), nil
}

// NormalizeDomain lower-cases a domain name and strips a trailing dot and
// a leading "*." (a wildcard names the domain and its subdomains, which is
// how domains match anyway).
func NormalizeDomain(v string) (string, error) {
	v = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(v)), ".")
	v = strings.TrimPrefix(v, "*.")
	if v == "" || len(v) > 253 || strings.ContainsAny(v, " /:@*\t") || strings.HasPrefix(v, ".") ||
		strings.Contains(v, "..") {
		return "", fmt.Errorf("domain: invalid name %q", v)
	}
	return v, nil
}

// NormalizeURL lower-cases a URL's scheme and host, drops a default port
// and the fragment, and adds "http://" when the scheme is missing. Path and
// query keep their case.
func NormalizeURL(v string) (string, error) {
	if !strings.Contains(v, "://") {
		v = "http://" + v
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", fmt.Errorf("url: %w", err)
	}
	if u.Host == "" {
		return "", fmt.Errorf("url: no host in %q", v)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return "", fmt.Errorf("url: no host in %q", v)
	}
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), nil
}

// Problem is something a reader could not turn into an indicator: where
// (file:line, object id) and why. Readers report problems and go on.
type Problem struct {
	Where  string `json:"where"`
	Reason string `json:"reason"`
}

// String formats the problem as "where: reason".
func (p Problem) String() string { return p.Where + ": " + p.Reason }
