package dnsanomaly

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
)

func TestSplitName(t *testing.T) {
	t.Parallel()
	d57 := strings.Repeat("d", 57)
	sub := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63)
	longest := sub + "." + d57 + ".com" // 253 characters
	for _, c := range []struct {
		in, reg, sub string
		registered   bool
		ok           bool
	}{
		{"www.example.com", "example.com", "www", true, true},
		{"a.b.example.co.uk", "example.co.uk", "a.b", true, true},
		{"example.com", "example.com", "", true, true},
		{"x.user.github.io", "user.github.io", "x", true, true}, // private suffix
		{"com", "com", "", false, true},
		{"co.uk", "co.uk", "", false, true},
		{"wpad", "wpad", "", false, true},
		{"_ldap._tcp.dc._msdcs.corp.example", "corp.example", "_ldap._tcp.dc._msdcs", true, true},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", "", true, true},
		{"www.bücher.example", "bücher.example", "www", true, true},
		{"1.2.3.4", "", "", false, false},
		{"2001:db8::1", "", "", false, false},
		{"::ffff:10.0.0.1", "", "", false, false},
		{"host-1.example.123", "example.123", "host-1", true, true}, // numeric TLD, not an address
		{"", "", "", false, false},
		{".", "", "", false, false},
		{"a..b.com", "", "", false, false},
		{".example.com", "", "", false, false},
		{"example.com.", "", "", false, false}, // flow.FromEvent trims the root dot
		{longest, d57 + ".com", sub, true, true},
		{"x" + longest, "", "", false, false}, // 254 characters
	} {
		n, ok := splitName(c.in)
		if ok != c.ok || (ok && (n.reg != c.reg || n.sub != c.sub || n.registered != c.registered || n.full != c.in)) {
			t.Errorf("splitName(%q) = %+v %v, want reg %q sub %q registered %v ok %v", c.in, n, ok, c.reg, c.sub, c.registered, c.ok)
		}
	}
}

// TestWeirdNamesDoNotBreak feeds odd names as queries and NXDOMAIN answers:
// each is either counted invalid or taken, never a panic, and good names
// beside them still count.
func TestWeirdNamesDoNotBreak(t *testing.T) {
	t.Parallel()
	weird := []string{"", ".", "..", "a..b", "1.2.3.4", "::1", "fe80::1%eth0", strings.Repeat("x", 300),
		strings.Repeat("a.", 126) + "a", "ünïcödé.example", "xn--n3h.example", "\x00\xff.example", "-.-", "*.example.com",
		"_.example", "a\nb.example", "UPPER.Example.COM", "com", "localhost", "x.in-addr.arpa", "printer.local"}
	d := newDriver(t, DefaultConfig())
	g := newGen(5)
	for i, n := range weird {
		ts := t0.Add(time.Duration(i) * time.Second)
		g.query(ts, host(1), n, "A", "NXDOMAIN")
		g.query(ts, host(2), "ok"+strconv.Itoa(i)+".good.example", "TXT", "NOERROR")
	}
	d.feed(g.sorted())
	d.advance(t0.Add(3 * time.Hour))
	c := d.a.Counts()
	if c.Invalid < 8 || c.Queries < uint64(len(weird)) {
		t.Fatalf("counts %+v", c)
	}
}

// FuzzSplitName: any string splits consistently or is rejected.
func FuzzSplitName(f *testing.F) {
	for _, s := range []string{"www.example.com", "a.b.co.uk", "1.2.3.4", "", "x..y", "bücher.de", "a.github.io"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := splitName(s)
		if !ok {
			return
		}
		if n.full != s || !strings.HasSuffix(s, n.reg) || (n.sub != "" && n.sub+"."+n.reg != s) || len(s) > maxNameLen {
			t.Fatalf("splitName(%q) = %+v", s, n)
		}
	})
}

// FuzzObserve: any query name, type and response code is taken or
// counted invalid without a panic, and the state stays saveable.
func FuzzObserve(f *testing.F) {
	f.Add("abc.example.com", "TXT", "NXDOMAIN")
	f.Add("1.2.3.4", "A", "")
	f.Add("x..y", "TYPE65399", "SERVFAIL")
	f.Fuzz(func(t *testing.T, name, qtype, rcode string) {
		d := newDriver(t, DefaultConfig())
		for i := range 30 {
			r := flow.Record{Kind: flow.KindDNS, EventID: uint64(i + 1), Start: t0.Add(time.Duration(i) * time.Second),
				Src: host(3), Name: strconv.Itoa(i) + name, QType: qtype, RCode: rcode}
			d.a.Observe(&r)
			r.Name = name
			d.a.Observe(&r)
		}
		d.advance(t0.Add(2 * time.Hour))
		if _, err := d.a.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDistinctCounter(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 10, 64, 65, 200, 1000, 10000, 100000} {
		var d distinct
		news := 0
		for i := range n {
			s := strconv.Itoa(i) + "-" + strconv.Itoa(rng.IntN(1<<30))
			if d.add(hash64(s)) {
				news++
			}
			d.add(hash64(s)) // a repeat never counts
		}
		got := d.count()
		if n <= exactLimit && (got != float64(n) || news != n) {
			t.Errorf("n=%d: count %v, new %d; want exact", n, got, news)
		}
		if rel := math.Abs(got-float64(n)) / float64(n); rel > 0.08 {
			t.Errorf("n=%d: count %.0f, off by %.1f%%", n, got, rel*100)
		}
	}
}

func TestTextStats(t *testing.T) {
	t.Parallel()
	et := newEntropyTable()
	var scratch [256]uint8
	for _, c := range []struct {
		in                            string
		entropy                       float64
		labels, maxLabel, vowels, run int
	}{
		{"aaaa", 0, 1, 4, 4, 0},
		{"abcd", 2, 1, 4, 1, 3},
		{"ab.cd", 2, 2, 2, 1, 2},
		{"strengths", 2.7255, 1, 9, 1, 5}, // log2(9) − (2+2)/9
		{"", 0, 0, 0, 0, 0},
	} {
		st := et.stats(c.in, &scratch)
		if math.Abs(st.entropy-c.entropy) > 1e-3 || st.labels != c.labels || st.maxLabel != c.maxLabel ||
			st.vowels != c.vowels || st.maxConsonantRun != c.run {
			t.Errorf("stats(%q) = %+v", c.in, st)
		}
	}
	if scratch != [256]uint8{} {
		t.Error("scratch not left zeroed")
	}
}
