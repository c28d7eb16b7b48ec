package intel

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func ind(t Type, v string, mods ...func(*Indicator)) Indicator {
	n, err := Normalize(t, v)
	if err != nil {
		panic(err)
	}
	in := Indicator{Type: t, Value: n, Source: "feed", Confidence: 80}
	for _, f := range mods {
		f(&in)
	}
	return in
}

func testMatcher(t *testing.T) *Matcher {
	t.Helper()
	b := NewBuilder()
	b.AddSource(SourceInfo{Name: "feed"})
	b.AddSource(SourceInfo{Name: "decaying", Decay: 10 * 24 * time.Hour})
	for _, in := range []Indicator{
		ind(TypeIP, "203.0.113.7", func(i *Indicator) { i.Tags = []string{"c2"}; i.Threat = "Emotet" }),
		ind(TypeIP, "2001:db8:bad::1"),
		ind(TypeIP, "198.51.100.0/24"),
		ind(TypeIP, "198.51.0.0/16", func(i *Indicator) { i.Source = "decaying"; i.Confidence = 50 }),
		ind(TypeDomain, "Evil.example.", func(i *Indicator) { i.Threat = "phishing" }),
		ind(TypeURL, "HTTP://Bad.Example.org:80/Payload.exe?x=1"),
		ind(TypeSHA256, strings.Repeat("AB", 32)),
		ind(TypeMD5, strings.Repeat("c", 32)),
		ind(TypeJA3, strings.Repeat("d", 32)),
		ind(TypeEmail, "Phisher@Bad.example"),
		ind(TypeIP, "192.0.2.1", func(i *Indicator) { i.ValidUntil = t0.Add(-time.Hour) }),
		ind(TypeIP, "192.0.2.2", func(i *Indicator) { i.Revoked = true }),
		ind(TypeIP, "192.0.2.3", func(i *Indicator) { i.ValidFrom = t0.Add(time.Hour) }),
		ind(TypeIP, "192.0.2.4", func(i *Indicator) { i.Also = []Condition{{Field: "destination.port", Value: "8080"}} }),
	} {
		b.Add(&in, t0.Add(-24*time.Hour))
	}
	return b.Build()
}

func hits(m *Matcher, ev schema.Event) []string {
	var out []string
	for _, h := range m.Match(&ev, nil) {
		out = append(out, string(h.Type)+" "+h.Value+" "+h.Field+" "+h.Source+" "+h.Direction)
	}
	slices.Sort(out)
	return out
}

func TestMatch(t *testing.T) {
	t.Parallel()
	m := testMatcher(t)
	at := func(ev schema.Event) schema.Event { ev.Timestamp = t0; return ev }
	tests := []struct {
		name string
		ev   schema.Event
		want []string
	}{
		{"ipv4 destination", at(schema.Event{Destination: schema.Endpoint{IP: "203.0.113.7"}}),
			[]string{"ip 203.0.113.7 destination.ip feed host contacted it"}},
		{"ipv4 source", at(schema.Event{Source: schema.Endpoint{IP: "203.0.113.7"}}),
			[]string{"ip 203.0.113.7 source.ip feed it contacted host"}},
		{"ipv4-mapped ipv6", at(schema.Event{Destination: schema.Endpoint{IP: "::ffff:203.0.113.7"}}),
			[]string{"ip ::ffff:203.0.113.7 destination.ip feed host contacted it"}},
		{"ipv6", at(schema.Event{Destination: schema.Endpoint{IP: "2001:DB8:BAD::1"}}),
			[]string{"ip 2001:DB8:BAD::1 destination.ip feed host contacted it"}},
		{"nested cidrs both hit", at(schema.Event{Destination: schema.Endpoint{IP: "198.51.100.9"}}),
			[]string{"ip 198.51.0.0/16 destination.ip decaying host contacted it",
				"ip 198.51.100.0/24 destination.ip feed host contacted it"}},
		{"outer cidr only", at(schema.Event{Destination: schema.Endpoint{IP: "198.51.7.9"}}),
			[]string{"ip 198.51.0.0/16 destination.ip decaying host contacted it"}},
		{"dns answer", at(schema.Event{DNS: schema.DNS{Answers: []string{"10.0.0.1", "203.0.113.7"}}}),
			[]string{"ip 203.0.113.7 dns.answers feed host resolved it"}},
		{"exact domain, any case", at(schema.Event{DNS: schema.DNS{Question: schema.DNSQuestion{Name: "EVIL.example"}}}),
			[]string{"domain evil.example dns.question.name feed host contacted it"}},
		{"parent domain", at(schema.Event{Destination: schema.Endpoint{Domain: "a.b.evil.example."}}),
			[]string{"domain evil.example destination.domain feed host contacted it"}},
		{"look-alike is not a subdomain", at(schema.Event{Destination: schema.Endpoint{Domain: "notevil.example"}}), nil},
		{"url host case and default port", at(schema.Event{URL: schema.URL{Full: "http://BAD.example.org/Payload.exe?x=1"}}),
			[]string{"url http://bad.example.org/Payload.exe?x=1 url.full feed host contacted it"}},
		{"url path case matters", at(schema.Event{URL: schema.URL{Full: "http://bad.example.org/payload.exe?x=1"}}), nil},
		{"sha256 upper case", at(schema.Event{File: schema.File{Hash: schema.Hashes{SHA256: strings.Repeat("Ab", 32)}}}),
			[]string{"sha256 " + strings.Repeat("ab", 32) + " file.hash.sha256 feed seen on host"}},
		{"sysmon hashes list", at(schema.Event{Fields: schema.Fields{{Key: "Hashes", Value: "SHA1=00,MD5=" + strings.Repeat("C", 32) + ",IMPHASH=" + strings.Repeat("c", 32)}}}),
			[]string{"md5 " + strings.Repeat("c", 32) + " Hashes feed seen on host"}},
		{"ja3 is not an md5", at(schema.Event{Fields: schema.Fields{{Key: "ja3", Value: strings.Repeat("c", 32)}}}), nil},
		{"ja3", at(schema.Event{Fields: schema.Fields{{Key: "tls.client.ja3", Value: strings.Repeat("D", 32)}}}),
			[]string{"ja3 " + strings.Repeat("d", 32) + " tls.client.ja3 feed host contacted it"}},
		{"email in a zeek smtp from", at(schema.Event{Fields: schema.Fields{{Key: "from", Value: `"Mr X" <phisher@BAD.example>`}}}),
			[]string{"email phisher@bad.example from feed seen on host"}},
		{"expired", at(schema.Event{Destination: schema.Endpoint{IP: "192.0.2.1"}}), nil},
		{"expired indicator still matched an event before expiry", schema.Event{Timestamp: t0.Add(-2 * time.Hour), Destination: schema.Endpoint{IP: "192.0.2.1"}},
			[]string{"ip 192.0.2.1 destination.ip feed host contacted it"}},
		{"revoked", at(schema.Event{Destination: schema.Endpoint{IP: "192.0.2.2"}}), nil},
		{"not yet valid", at(schema.Event{Destination: schema.Endpoint{IP: "192.0.2.3"}}), nil},
		{"condition holds", at(schema.Event{Destination: schema.Endpoint{IP: "192.0.2.4", Port: 8080}}),
			[]string{"ip 192.0.2.4 destination.ip feed host contacted it"}},
		{"condition fails", at(schema.Event{Destination: schema.Endpoint{IP: "192.0.2.4", Port: 443}}), nil},
		{"decayed away", schema.Event{Timestamp: t0.Add(10 * 24 * time.Hour), Destination: schema.Endpoint{IP: "198.51.7.9"}}, nil},
		{"garbage values", at(schema.Event{Destination: schema.Endpoint{IP: "not-an-ip", Domain: "..."}, URL: schema.URL{Full: "::"}}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := hits(m, tc.ev); !slices.Equal(got, tc.want) {
				t.Errorf("hits:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestMatchDecayLowersConfidence(t *testing.T) {
	t.Parallel()
	m := testMatcher(t)
	confAt := func(d time.Duration) int {
		c := -2
		ev := schema.Event{Timestamp: t0.Add(d), Destination: schema.Endpoint{IP: "198.51.7.9"}}
		for _, h := range m.Match(&ev, nil) {
			c = h.Confidence
		}
		return c
	}
	// Seen 24 h before t0 with a 10-day decay and confidence 50.
	if c := confAt(-24 * time.Hour); c != 50 {
		t.Errorf("confidence when last seen = %d, want 50", c)
	}
	if c := confAt(4 * 24 * time.Hour); c != 25 {
		t.Errorf("confidence half-way through decay = %d, want 25", c)
	}
}

func TestMatchC2AndThreat(t *testing.T) {
	t.Parallel()
	m := testMatcher(t)
	var got Hit
	ev := schema.Event{Timestamp: t0, Destination: schema.Endpoint{IP: "203.0.113.7"}}
	for _, h := range m.Match(&ev, nil) {
		got = h
	}
	if !got.C2 || got.Threat != "Emotet" || got.Confidence != 80 {
		t.Fatalf("hit = %+v, want C2 Emotet confidence 80", got)
	}
	if c := m.Counts(); c[TypeIP] != 7 || c[TypeDomain] != 1 || m.Len() != 13 {
		t.Fatalf("counts = %v, len %d", c, m.Len())
	}
}

func TestMatchNoAllocs(t *testing.T) {
	m := testMatcher(t)
	ev := schema.Event{Timestamp: t0, Source: schema.Endpoint{IP: "10.1.2.3"}, Destination: schema.Endpoint{IP: "93.184.216.34", Domain: "WWW.Example.COM"},
		DNS: schema.DNS{Question: schema.DNSQuestion{Name: "www.example.com"}}, File: schema.File{Hash: schema.Hashes{SHA256: strings.Repeat("E", 64)}},
		Fields: schema.Fields{{Key: "Hashes", Value: "MD5=" + strings.Repeat("F", 32)}, {Key: "from", Value: "a@b.example"}}}
	buf := make([]Hit, 0, 4)
	if n := testing.AllocsPerRun(100, func() {
		if len(m.Match(&ev, buf)) != 0 {
			t.Fatal("unexpected hit")
		}
	}); n != 0 {
		t.Fatalf("Match allocates %.1f times per event without hits", n)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ     Type
		in, out string
		bad     bool
	}{
		{TypeIP, " 10.0.0.1 ", "10.0.0.1", false},
		{TypeIP, "10.0.0.7/24", "10.0.0.0/24", false},
		{TypeIP, "10.0.0.7/32", "10.0.0.7", false},
		{TypeIP, "::ffff:1.2.3.4", "1.2.3.4", false},
		{TypeIP, "2001:DB8::1", "2001:db8::1", false},
		{TypeIP, "10.0.0.300", "", true},
		{TypeDomain, "*.Evil.COM.", "evil.com", false},
		{TypeDomain, "a b.com", "", true},
		{TypeURL, "Example.com/Path", "http://example.com/Path", false},
		{TypeURL, "HTTPS://X.org:443/a#frag", "https://x.org/a", false},
		{TypeMD5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e", false},
		{TypeSHA1, "abc", "", true},
		{TypeEmail, "Bob <Bob@Example.COM>", "bob@example.com", false},
		{TypeEmail, "nobody", "", true},
		{"nonsense", "x", "", true},
	}
	for _, tc := range tests {
		got, err := Normalize(tc.typ, tc.in)
		if (err != nil) != tc.bad || got != tc.out {
			t.Errorf("Normalize(%s, %q) = %q, %v; want %q, error %v", tc.typ, tc.in, got, err, tc.out, tc.bad)
		}
	}
}

// TestNormalizeStable checks that normal forms normalise to themselves.
func TestNormalizeStable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typ Type
		in  string
	}{{TypeURL, "."}, {TypeURL, "http://:80/"}, {TypeDomain, "*.*.a"}, {TypeDomain, "*.evil.com"}, {TypeURL, "x.org/A"}} {
		n, err := Normalize(tc.typ, tc.in)
		if err != nil {
			continue
		}
		if again, err := Normalize(tc.typ, n); err != nil || again != n {
			t.Errorf("Normalize(%s, %q) = %q, which normalises to %q, %v", tc.typ, tc.in, n, again, err)
		}
	}
}
