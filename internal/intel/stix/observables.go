package stix

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-soc/vigil/internal/intel"
)

// issue is a construct of one alternative that cannot be compiled.
type issue struct {
	pos          int
	name, reason string
}

// knownObject reports whether objects of type typ can yield indicators.
func knownObject(typ string) bool {
	switch typ {
	case "ipv4-addr", "ipv6-addr", "domain-name", "url", "file", "email-addr", "email-message", "network-traffic":
		return true
	}
	return false
}

// primary is the observable value of one alternative.
type primary struct {
	pos   int
	cmp   *Comparison
	typ   intel.Type
	value string
	// side is "dst" or "src" for network-traffic address references.
	side string
}

// refCheck is network-traffic:dst_ref.type (or src_ref.type) = 'x'.
type refCheck struct {
	pos           int
	side, objType string
}

// termParts gathers the comparisons of one alternative by role.
type termParts struct {
	first     *Comparison
	primaries []primary
	conds     []intel.Condition
	condPos   []int
	refs      []refCheck
}

// add classifies one comparison (operator already checked to be =,
// ISSUBSET or LIKE, not negated) and records its value.
func (t *termParts) add(l *Comparison) *issue {
	if t.first == nil {
		t.first = l
	}
	typ, prop := l.Path.ObjectType, canonicalProperty(l.Path)
	switch typ + ":" + prop {
	case "ipv4-addr:value", "ipv6-addr:value":
		return t.address(l, "")
	case "network-traffic:dst_ref.value":
		return t.address(l, "dst")
	case "network-traffic:src_ref.value":
		return t.address(l, "src")
	case "domain-name:value":
		return t.domain(l, "")
	case "url:value":
		return t.simple(l, intel.TypeURL)
	case "email-addr:value", "email-message:from_ref.value", "email-message:sender_ref.value":
		return t.simple(l, intel.TypeEmail)
	case "email-message:subject":
		return t.cond(l, "email.subject", stringValue)
	case "file:name":
		return t.cond(l, "file.name", stringValue)
	case "file:mime_type":
		return t.cond(l, "file.mime_type", stringValue)
	case "file:size":
		return t.cond(l, "file.size", rangeValue(0, 1<<62))
	case "network-traffic:dst_port":
		return t.cond(l, "destination.port", rangeValue(0, 65535))
	case "network-traffic:src_port":
		return t.cond(l, "source.port", rangeValue(0, 65535))
	case "network-traffic:protocols[*]":
		return t.protocol(l)
	case "network-traffic:dst_ref.type", "network-traffic:src_ref.type":
		return t.refType(l, prop[:3])
	}
	steps := l.Path.Steps
	if typ == "file" && len(steps) == 2 && steps[0].Key == "hashes" && steps[1].Kind == StepKey {
		if ht, ok := hashType(steps[1].Key); ok {
			return t.simple(l, ht)
		}
	}
	if last := steps[len(steps)-1]; typ == "network-traffic" && last.Kind == StepKey {
		if ft, ok := fingerprintType(last.Key); ok {
			return t.simple(l, ft)
		}
	}
	reason := "no indicator type or condition is derived from this property"
	if strings.HasPrefix(prop, "protocols[") {
		reason = "list positions are not matched; use protocols[*]"
	}
	return &issue{l.Start, "property " + l.Path.String(), reason}
}

// canonicalProperty spells the path after the object type with bare keys:
// "hashes.SHA-256", "protocols[*]", "dst_ref.value".
func canonicalProperty(p ObjectPath) string {
	var b strings.Builder
	for i, s := range p.Steps {
		switch s.Kind {
		case StepKey:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Key)
		case StepIndex:
			b.WriteString("[" + strconv.FormatInt(s.Index, 10) + "]")
		default:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

// hashType maps a file:hashes key (any case) to an indicator type.
func hashType(key string) (intel.Type, bool) {
	switch strings.ToLower(key) {
	case "md5":
		return intel.TypeMD5, true
	case "sha-1", "sha1":
		return intel.TypeSHA1, true
	case "sha-256", "sha256":
		return intel.TypeSHA256, true
	case "sha-512", "sha512":
		return intel.TypeSHA512, true
	}
	return "", false
}

// fingerprintType maps the last key of a network-traffic path naming a TLS
// client fingerprint (no STIX standard exists) to JA3 or JA4.
func fingerprintType(key string) (intel.Type, bool) {
	switch strings.ToLower(key) {
	case "ja3", "ja3_hash", "ja3_md5", "ja3-fingerprint-md5", "x_ja3", "x_ja3_hash":
		return intel.TypeJA3, true
	case "ja4", "ja4_fingerprint", "x_ja4":
		return intel.TypeJA4, true
	}
	return "", false
}

func opIssue(l *Comparison, allowed string) *issue {
	return &issue{l.Start, l.Op.String() + " on " + l.Path.String(), "only " + allowed + " is matched on this property"}
}

func invalidValue(l *Comparison, err error) *issue {
	return &issue{l.Value.Start, "invalid value", fmt.Sprintf("%s %s: %v", l.Path, l.Value, err)}
}

func stringOf(l *Comparison) (string, *issue) {
	if l.Value.Kind != LitString {
		return "", invalidValue(l, fmt.Errorf("want a string, got a %s", l.Value.Kind))
	}
	return l.Value.Str, nil
}

// simple records an observable compared with = only.
func (t *termParts) simple(l *Comparison, typ intel.Type) *issue {
	if l.Op != OpEqual {
		return opIssue(l, "=")
	}
	s, bad := stringOf(l)
	if bad != nil {
		return bad
	}
	v, err := normalize(typ, s)
	if err != nil {
		return invalidValue(l, err)
	}
	t.primaries = append(t.primaries, primary{pos: l.Start, cmp: l, typ: typ, value: v})
	return nil
}

// address records an IP address or range (=, ISSUBSET); on a
// network-traffic reference (side set) the value may also be a domain.
func (t *termParts) address(l *Comparison, side string) *issue {
	s, bad := stringOf(l)
	if bad != nil {
		return bad
	}
	isIP := l.Op == OpIsSubset || looksLikeIP(s)
	if side != "" && !isIP {
		return t.domain(l, side)
	}
	if l.Op != OpEqual && l.Op != OpIsSubset {
		return opIssue(l, "= and ISSUBSET")
	}
	v, err := normalize(intel.TypeIP, s)
	if err != nil {
		return invalidValue(l, err)
	}
	fam := family(v)
	if want := l.Path.ObjectType; (want == "ipv4-addr" && fam != "ipv4-addr") ||
		(want == "ipv6-addr" && fam != "ipv6-addr") {
		return invalidValue(l, fmt.Errorf("not an %s address", strings.TrimSuffix(want, "-addr")))
	}
	t.primaries = append(t.primaries, primary{pos: l.Start, cmp: l, typ: intel.TypeIP, value: v,
		side: side})
	return nil
}

// normalize is intel.Normalize that also rejects a value whose normal
// form does not normalise to itself, so that an indicator's value is
// stable: intel.NormalizeURL turns "." into "http:///" (no host), and
// intel.NormalizeDomain turns "*.*.a" into "*.a".
func normalize(typ intel.Type, s string) (string, error) {
	v, err := intel.Normalize(typ, s)
	if err != nil {
		return "", err
	}
	if again, err := intel.Normalize(typ, v); err != nil || again != v {
		return "", fmt.Errorf("%s: %q has no stable normal form", typ, s)
	}
	return v, nil
}

func looksLikeIP(s string) bool {
	s = strings.TrimSpace(s)
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// family names the STIX object type of a normalised IP indicator value.
func family(v string) string {
	if strings.Contains(v, ":") {
		return "ipv6-addr"
	}
	return "ipv4-addr"
}

// domain records a domain name (=), or with LIKE '%.example.com' the parent
// domain example.com, which the matcher treats as covering subdomains.
func (t *termParts) domain(l *Comparison, side string) *issue {
	if l.Op != OpEqual && l.Op != OpLike {
		return opIssue(l, "= and LIKE '%.domain'")
	}
	s, bad := stringOf(l)
	if bad != nil {
		return bad
	}
	if l.Op == OpLike && strings.ContainsAny(s, "%_") {
		rest, ok := strings.CutPrefix(s, "%.")
		if !ok || strings.ContainsAny(rest, "%_") {
			return &issue{l.Start, "LIKE " + quoteString(s),
				"only LIKE '%.domain' (a domain and its subdomains) is matched"}
		}
		s = rest
	}
	v, err := normalize(intel.TypeDomain, s)
	if err != nil {
		return invalidValue(l, err)
	}
	t.primaries = append(t.primaries, primary{pos: l.Start, cmp: l, typ: intel.TypeDomain, value: v,
		side: side})
	return nil
}

// valueFunc converts a condition's literal to the condition value.
type valueFunc func(l *Comparison) (string, *issue)

func stringValue(l *Comparison) (string, *issue) { return stringOf(l) }

func rangeValue(lo, hi int64) valueFunc {
	return func(l *Comparison) (string, *issue) {
		if l.Value.Kind != LitInt {
			return "", invalidValue(l, fmt.Errorf("want an integer, got a %s", l.Value.Kind))
		}
		if l.Value.Int < lo || l.Value.Int > hi {
			return "", invalidValue(l, fmt.Errorf("out of range %d..%d", lo, hi))
		}
		return strconv.FormatInt(l.Value.Int, 10), nil
	}
}

// cond records an equality condition on the event field named by ECS.
func (t *termParts) cond(l *Comparison, field string, conv valueFunc) *issue {
	if l.Op != OpEqual {
		return opIssue(l, "=")
	}
	v, bad := conv(l)
	if bad != nil {
		return bad
	}
	t.conds = append(t.conds, intel.Condition{Field: field, Value: v})
	t.condPos = append(t.condPos, l.Start)
	return nil
}

// protocol records protocols[*] = 'x' as network.transport (tcp, udp,
// icmp, ...), network.type (ipv4, ipv6) or network.protocol (http, dns,
// tls, ...).
func (t *termParts) protocol(l *Comparison) *issue {
	if l.Op != OpEqual {
		return opIssue(l, "=")
	}
	s, bad := stringOf(l)
	if bad != nil {
		return bad
	}
	s = strings.ToLower(strings.TrimSpace(s))
	field := "network.protocol"
	switch s {
	case "tcp", "udp", "icmp", "ipv6-icmp", "icmpv6", "sctp", "gre":
		field = "network.transport"
	case "ipv4", "ipv6":
		field = "network.type"
	case "":
		return invalidValue(l, intel.ErrEmpty)
	}
	t.conds = append(t.conds, intel.Condition{Field: field, Value: s})
	t.condPos = append(t.condPos, l.Start)
	return nil
}

// refType records network-traffic:dst_ref.type (or src_ref.type), checked
// against the address on the same side.
func (t *termParts) refType(l *Comparison, side string) *issue {
	if l.Op != OpEqual {
		return opIssue(l, "=")
	}
	s, bad := stringOf(l)
	if bad != nil {
		return bad
	}
	switch s {
	case "ipv4-addr", "ipv6-addr", "domain-name":
	default:
		return invalidValue(l, fmt.Errorf("an address reference is ipv4-addr, ipv6-addr or domain-name"))
	}
	t.refs = append(t.refs, refCheck{pos: l.Start, side: side, objType: s})
	return nil
}

// indicators combines the parts: one indicator per distinct observable
// (several only for hashes of one file), each with all conditions.
func (t *termParts) indicators() ([]intel.Indicator, *issue) {
	var prims []primary
	for _, p := range t.primaries {
		if !slices.ContainsFunc(prims, func(q primary) bool { return q.typ == p.typ && q.value == p.value && q.side == p.side }) {
			prims = append(prims, p)
		}
	}
	if len(prims) == 0 {
		return nil, &issue{t.first.Start, "property " + t.first.Path.String(),
			"a condition alone is not matched; it needs an address, domain, URL, hash or e-mail value of the same object"}
	}
	for _, p := range prims[1:] {
		if !isHash(p.typ) || !isHash(prims[0].typ) {
			return nil, &issue{p.pos, "AND of two values",
				fmt.Sprintf("%s and %s cannot both be matched by one indicator", prims[0].cmp.Path, p.cmp.Path)}
		}
	}
	conds, bad := t.conditions()
	if bad != nil {
		return nil, bad
	}
	if bad := t.checkRefs(prims); bad != nil {
		return nil, bad
	}
	out := make([]intel.Indicator, 0, len(prims))
	for _, p := range prims {
		out = append(out, intel.Indicator{Type: p.typ, Value: p.value, Confidence: -1, Also: slices.Clone(conds)})
	}
	return out, nil
}

func isHash(t intel.Type) bool {
	return t == intel.TypeMD5 || t == intel.TypeSHA1 || t == intel.TypeSHA256 || t == intel.TypeSHA512
}

// conditions returns the conditions sorted by field, without duplicates;
// two different values for one field can never both hold.
func (t *termParts) conditions() ([]intel.Condition, *issue) {
	if len(t.conds) == 0 {
		return nil, nil
	}
	idx := make([]int, len(t.conds))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(t.conds[a].Field, t.conds[b].Field) })
	out := make([]intel.Condition, 0, len(idx))
	for _, i := range idx {
		c := t.conds[i]
		if n := len(out); n > 0 && out[n-1].Field == c.Field {
			if out[n-1].Value != c.Value {
				return nil, &issue{t.condPos[i], "conflicting conditions",
					fmt.Sprintf("%s cannot be both %q and %q", c.Field, out[n-1].Value, c.Value)}
			}
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// checkRefs verifies dst_ref.type / src_ref.type against the address on
// the same side.
func (t *termParts) checkRefs(prims []primary) *issue {
	for _, r := range t.refs {
		i := slices.IndexFunc(prims, func(p primary) bool { return p.side == r.side })
		if i < 0 {
			return &issue{r.pos, "condition " + r.side + "_ref.type",
				"only the type of the address matched by the same observation is checked"}
		}
		p := prims[i]
		got := "domain-name"
		if p.typ == intel.TypeIP {
			got = family(p.value)
		}
		if got != r.objType {
			return &issue{r.pos, "conflicting conditions",
				fmt.Sprintf("%s_ref.type %s does not match %s value %s", r.side, r.objType, got, p.value)}
		}
	}
	return nil
}
