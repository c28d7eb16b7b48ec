package intel

import (
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Directions of a hit, from the point of view of the event's host.
const (
	// DirContacted: the host contacted the indicator (destination, a
	// requested name or URL).
	DirContacted = "host contacted it"
	// DirContactedBy: the indicator contacted the host (source address).
	DirContactedBy = "it contacted host"
	// DirResolved: a DNS answer the host received pointed at it.
	DirResolved = "host resolved it"
	// DirObserved: seen on the host (a file hash, a mail address).
	DirObserved = "seen on host"
)

// Hit is one indicator that matched an event.
type Hit struct {
	Type Type
	// Value is the indicator's value (an address, a CIDR, a parent domain);
	// Matched is the event's value that matched it and Field its field.
	Value, Matched, Field string
	Source                string
	// Confidence is the indicator's confidence at the event's time, after
	// decay; -1 when the feed gave none.
	Confidence int
	Threat     string
	C2         bool
	Direction  string
}

// Match appends to dst every active indicator that matches ev, judged at
// the event's time, and returns it. It does not allocate unless something
// matches and dst is full.
func (m *Matcher) Match(ev *schema.Event, dst []Hit) []Hit {
	if m == nil || len(m.entries) == 0 {
		return dst
	}
	q := query{m: m, ev: ev, t: ev.Timestamp.Unix(), hits: dst}
	q.match()
	return q.hits
}

func (q *query) match() {
	m, ev := q.m, q.ev
	q.ip(ev.Destination.IP, "destination.ip", DirContacted)
	q.ip(ev.Source.IP, "source.ip", DirContactedBy)
	for _, a := range ev.DNS.Answers {
		q.ip(a, "dns.answers", DirResolved)
	}
	q.domain(ev.Destination.Domain, "destination.domain", DirContacted)
	if ev.DNS.Question.Name != ev.Destination.Domain {
		q.domain(ev.DNS.Question.Name, "dns.question.name", DirContacted)
	}
	if ev.URL.Domain != ev.Destination.Domain && ev.URL.Domain != ev.DNS.Question.Name {
		q.domain(ev.URL.Domain, "url.domain", DirContacted)
	}
	if m.urls.len() > 0 && ev.URL.Full != "" {
		q.url(ev.URL.Full)
	}
	if m.hashes.len() > 0 {
		q.hash(ev.File.Hash.MD5, "file.hash.md5", "")
		q.hash(ev.File.Hash.SHA1, "file.hash.sha1", "")
		q.hash(ev.File.Hash.SHA256, "file.hash.sha256", "")
	}
	if m.hashes.len() > 0 || m.emails.len() > 0 {
		q.fields()
	}
}

type query struct {
	m    *Matcher
	ev   *schema.Event
	t    int64
	hits []Hit
	buf  [256]byte
}

func (q *query) ip(s, field, dir string) {
	if s == "" {
		return
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return
	}
	a = a.Unmap()
	m := q.m
	if a.Is4() {
		if i, ok := m.v4[v4key(a)]; ok {
			q.report(i, TypeIP, "", s, field, dir)
		}
	} else if i, ok := m.v6[a.As16()]; ok {
		q.report(i, TypeIP, "", s, field, dir)
	}
	if !m.hasNet {
		return
	}
	if _, ok := m.nets.Lookup(a); !ok {
		return
	}
	for _, n := range m.supernets(a) {
		q.report(n.head, TypeIP, n.prefix.String(), s, field, dir)
	}
}

type netHit struct {
	prefix netip.Prefix
	head   int32
}

// supernets returns every indicator prefix that contains a. It is apart
// from query so that the iterator's closure does not make every query
// escape to the heap.
func (m *Matcher) supernets(a netip.Addr) []netHit {
	var out []netHit
	for p, i := range m.nets.Supernets(netip.PrefixFrom(a, a.BitLen())) {
		out = append(out, netHit{p, i})
	}
	return out
}

// lower returns s lower-cased, in q's buffer when it must change (and fits).
func (q *query) lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			if len(s) > len(q.buf) {
				return strings.ToLower(s)
			}
			n := copy(q.buf[:], s)
			for j := i; j < n; j++ {
				if c := q.buf[j]; c >= 'A' && c <= 'Z' {
					q.buf[j] = c + 'a' - 'A'
				}
			}
			return unsafeString(q.buf[:n])
		}
	}
	return s
}

// domain looks name and each parent domain up.
func (q *query) domain(name, field, dir string) {
	if name == "" || q.m.names.len() == 0 {
		return
	}
	d := strings.TrimSuffix(q.lower(name), ".")
	for {
		if i, ok := q.m.lookupStr(q.m.names, d); ok {
			q.reportKey(i, d, TypeDomain, name, field, dir)
		}
		dot := strings.IndexByte(d, '.')
		if dot < 0 {
			return
		}
		d = d[dot+1:]
	}
}

func (q *query) url(full string) {
	u, err := NormalizeURL(full)
	if err != nil {
		return
	}
	if i, ok := q.m.lookupStr(q.m.urls, u); ok {
		q.reportKey(i, u, TypeURL, full, "url.full", DirContacted)
	}
}

// hash looks a hash (or a JA3/JA4 fingerprint, with prefix) up.
func (q *query) hash(v, field, prefix string) {
	if v == "" || len(v) > 200 {
		return
	}
	var k string
	if prefix == "" {
		k = q.lower(v)
	} else {
		n := copy(q.buf[:], prefix)
		n += copy(q.buf[n:], v)
		for j := len(prefix); j < n; j++ {
			if c := q.buf[j]; c >= 'A' && c <= 'Z' {
				q.buf[j] = c + 'a' - 'A'
			}
		}
		k = unsafeString(q.buf[:n])
	}
	if i, ok := q.m.lookupStr(q.m.hashes, k); ok {
		t, dir := hashType(len(v), prefix), DirObserved
		if prefix != "" {
			dir = DirContacted
		}
		q.reportKey(i, k, t, v, field, dir)
	}
}

func hashType(n int, prefix string) Type {
	switch {
	case prefix == "ja3:":
		return TypeJA3
	case prefix == "ja4:":
		return TypeJA4
	case n == 32:
		return TypeMD5
	case n == 40:
		return TypeSHA1
	case n == 64:
		return TypeSHA256
	}
	return TypeSHA512
}

// reportKey reports the entries of the chain starting at i whose key is
// key (others share only its hash). The hit's value is the stored key,
// without the ja3:/ja4: prefix.
func (q *query) reportKey(i int32, key string, t Type, matched, field, dir string) {
	m := q.m
	for ; i >= 0; i = m.entries[i].next {
		e := &m.entries[i]
		if m.keyOf(e) != key {
			continue
		}
		conf, ok := m.active(e, q.t)
		if !ok || !q.also(e) {
			continue
		}
		value := m.keyOf(e)
		if t == TypeJA3 || t == TypeJA4 {
			value = value[4:]
		}
		q.hits = append(q.hits, Hit{Type: t, Value: strings.Clone(value), Matched: matched, Field: field,
			Source: m.sources[e.src].Name, Confidence: conf, Threat: m.strs[e.threat], C2: e.flags&flagC2 != 0,
			Direction: dir})
	}
}

// report appends a hit for every active entry of the chain starting at i.
func (q *query) report(i int32, t Type, value, matched, field, dir string) {
	m := q.m
	for ; i >= 0; i = m.entries[i].next {
		e := &m.entries[i]
		conf, ok := m.active(e, q.t)
		if !ok || !q.also(e) {
			continue
		}
		if value == "" {
			value = matched
		}
		q.hits = append(q.hits, Hit{Type: t, Value: value, Matched: matched, Field: field, Source: m.sources[e.src].Name,
			Confidence: conf, Threat: m.strs[e.threat], C2: e.flags&flagC2 != 0, Direction: dir})
	}
}

// active reports whether e may alert at unix time t and its confidence then.
func (m *Matcher) active(e *entry, t int64) (int, bool) {
	if (e.from != 0 && t < e.from) || (e.until != 0 && t >= e.until) {
		return 0, false
	}
	conf := int(e.conf)
	if e.flags&flagDecay == 0 || t <= e.seen {
		return conf, true
	}
	decay := int64(m.sources[e.src].Decay / time.Second)
	age := t - e.seen
	if decay <= 0 || age >= decay {
		return 0, false
	}
	if conf < 0 {
		return conf, true
	}
	return int(int64(conf) * (decay - age) / decay), true
}

func (q *query) also(e *entry) bool {
	for _, c := range q.m.also[e.also] {
		if v, _ := q.ev.Get(c.Field); !strings.EqualFold(v, c.Value) {
			return false
		}
	}
	return true
}

// Lookup reports the most confident active indicator, at time t, for a
// contacted address or name (either may be empty), for context in other
// detections (the network analytics' phase two).
func (m *Matcher) Lookup(addr netip.Addr, name string, t time.Time) (Hit, bool) {
	ev := schema.Event{Timestamp: t, Destination: schema.Endpoint{Domain: name}}
	if addr.IsValid() {
		ev.Destination.IP = addr.String()
	}
	best, ok := Hit{}, false
	for _, h := range m.Match(&ev, nil) {
		if !ok || h.C2 && !best.C2 || h.C2 == best.C2 && h.Confidence > best.Confidence {
			best, ok = h, true
		}
	}
	return best, ok
}
