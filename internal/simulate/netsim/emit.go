package netsim

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// Transport protocols and connection states of rec.
const (
	protoTCP  uint8 = 6
	protoUDP  uint8 = 17
	protoICMP uint8 = 1
)

// Connection states of rec, as Zeek names them in conn_state.
const (
	stSF   uint8 = iota // normal establishment and termination
	stS0                // attempt, no reply
	stREJ               // attempt rejected
	stRSTO              // SYN, SYN-ACK, then the originator reset (a SYN scan of an open port)
	stOTH               // no SYN seen (ICMP, mid-stream)
)

// DNS query types and response codes.
const (
	qtA     uint16 = 1
	qtTXT   uint16 = 16
	qtSRV   uint16 = 33
	rcNoErr uint8  = 0
	rcNX    uint8  = 3
)

// Answer kinds of a DNS record.
const (
	ansNone uint8 = iota
	ansIP
	ansText
)

// rec is a record decided but not yet due: everything its JSON needs.
type rec struct {
	at, end      int64 // µs since the epoch: first and last packet
	uidA, uidB   uint64
	src, dst     uint32
	sport, dport uint16
	log, proto   uint8
	state        uint8
	tls12        bool // TLS 1.2 rather than 1.3
	svc          string
	ob, rb       int64 // payload bytes each way
	op, rp       int64 // packets each way

	name    string // DNS query or TLS server name
	qtype   uint16
	rcode   uint8
	ansKind uint8
	trans   uint16
	rtt     int32 // µs
	ttl     int32 // s
	ansIP   uint32
	ans     string
}

// flowCtx gives an activity its own connection ids and source ports, so
// activities never share state and adding one does not change the others'
// records.
type flowCtx struct {
	seed, stream uint64
	n            uint64
	port         uint32
	lo, span     uint32
}

func newFlowCtx(seed, stream uint64, linux bool) flowCtx {
	f := flowCtx{seed: seed, stream: stream, lo: 49152, span: 16384}
	if linux {
		f.lo, f.span = 32768, 28232
	}
	f.port = uint32(mix64(seed^stream) % uint64(f.span))
	return f
}

// uid returns the next connection id.
func (f *flowCtx) uid() (uint64, uint64) {
	f.n++
	a := mix64(f.seed ^ mix64(f.stream+f.n*0x9e3779b97f4a7c15))
	return a, mix64(a ^ 0x5851f42d4c957f2d)
}

// ephemeral returns the next source port.
func (f *flowCtx) ephemeral() uint16 {
	f.port += 1 + uint32(f.n&1)
	return uint16(f.lo + f.port%f.span)
}

// mix64 is SplitMix64's finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// streamID names a random stream by label and index, so each activity's
// randomness does not depend on the order activities are made in.
func streamID(label string, i int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(label))
	return mix64(h.Sum64() + uint64(i)*0x9e3779b97f4a7c15)
}

// newRand returns the random source of one stream.
func newRand(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

// secs converts seconds to µs.
func secs(s float64) int64 { return int64(math.Round(s * 1e6)) }

// lognormal returns a log-normal value with the given median.
func lognormal(rng *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*rng.NormFloat64())
}

// uniform returns a value in [lo, hi).
func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

// tcpPackets estimates the packets of a TCP connection carrying ob and rb
// payload bytes: the handshake and teardown, full segments, and the
// acknowledgements of the other side's data.
func tcpPackets(ob, rb int64) (op, rp int64) {
	seg := func(b int64) int64 { return (b + 1447) / 1448 }
	op = 3 + seg(ob) + seg(rb)/2
	rp = 2 + seg(rb) + seg(ob)/2
	return op, rp
}

// conn queues a conn record and returns its uid.
func (g *Generator) conn(f *flowCtx, c rec) (uint64, uint64) {
	c.log = logConn
	c.uidA, c.uidB = f.uid()
	if c.sport == 0 {
		c.sport = f.ephemeral()
	}
	if c.op == 0 && c.rp == 0 {
		switch {
		case c.proto == protoTCP && c.state == stSF:
			c.op, c.rp = tcpPackets(c.ob, c.rb)
		case c.state == stSF:
			c.op, c.rp = max(1, (c.ob+1471)/1472), max(1, (c.rb+1471)/1472)
		default:
			c.op = 1
		}
	}
	if c.end < c.at {
		c.end = c.at
	}
	g.emit(&c)
	return c.uidA, c.uidB
}

// tcp queues an established TCP connection and returns its uid.
func (g *Generator) tcp(f *flowCtx, at int64, src, dst uint32, dport uint16, svc string, dur, ob, rb int64) (uint64, uint64) {
	return g.conn(f, rec{at: at, end: at + dur, src: src, dst: dst, dport: dport, proto: protoTCP,
		state: stSF, svc: svc, ob: ob, rb: rb})
}

// tls queues an established TLS connection (conn and ssl records) to
// dst:dport with server name sni ("" for none).
func (g *Generator) tls(f *flowCtx, at int64, src, dst uint32, dport uint16, sni string, dur, ob, rb int64) {
	c := rec{at: at, end: at + dur, src: src, dst: dst, dport: dport, proto: protoTCP, state: stSF,
		svc: "ssl", ob: ob, rb: rb}
	c.sport = f.ephemeral()
	a, b := g.conn(f, c)
	hs := min(dur, 2000+int64(mix64(a)%60000)) // handshake: 2–62 ms
	g.emit(&rec{log: logSSL, at: at + hs, uidA: a, uidB: b, src: src, dst: dst, sport: c.sport, dport: dport,
		proto: protoTCP, name: sni, tls12: a%5 == 0})
}

// lookup queues a DNS query from src to the resolver (dns and conn
// records) and returns when the answer arrived.
func (g *Generator) lookup(f *flowCtx, rng *rand.Rand, at int64, src uint32, q rec) int64 {
	q.at, q.src, q.dst, q.dport, q.proto = at, src, g.net.role(RoleDNS).ip, 53, protoUDP
	q.rtt = int32(300 + rng.ExpFloat64()*6000)
	if q.rcode == rcNX {
		q.rtt += 20000
	}
	q.trans = uint16(rng.Uint32())
	q.sport = f.ephemeral()
	ob := int64(12 + len(q.name) + 2 + 4)
	rb := ob
	switch q.ansKind {
	case ansIP:
		rb += 16
	case ansText:
		rb += int64(12 + len(q.ans))
	}
	a, b := g.conn(f, rec{at: at, end: at + int64(q.rtt), src: src, dst: q.dst, sport: q.sport, dport: 53,
		proto: protoUDP, state: stSF, svc: "dns", ob: ob, rb: rb, op: 1, rp: 1})
	q.log, q.uidA, q.uidB = logDNS, a, b
	g.emit(&q)
	return at + int64(q.rtt)
}

// resolveA looks name up (A record answered with ip) unless c holds a
// fresh answer, and returns when the answer is known.
func (g *Generator) resolveA(f *flowCtx, rng *rand.Rand, c *dnsCache, at int64, src uint32, name string, ip uint32, ttl int32) int64 {
	key := hashName(name)
	if c.fresh(key, at) {
		return at
	}
	c.put(key, at+int64(ttl)*1e6)
	return g.lookup(f, rng, at, src, rec{name: name, qtype: qtA, ansKind: ansIP, ansIP: ip, ttl: ttl})
}

func hashName(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// dnsCache is a host's small resolver cache: names it will not look up
// again until their TTL runs out. Old entries are overwritten in turn.
type dnsCache struct {
	keys [32]uint64
	exp  [32]int64
	next int
}

func (c *dnsCache) fresh(key uint64, at int64) bool {
	for i, k := range c.keys {
		if k == key {
			return c.exp[i] > at
		}
	}
	return false
}

func (c *dnsCache) put(key uint64, exp int64) {
	for i, k := range c.keys {
		if k == key {
			c.exp[i] = exp
			return
		}
	}
	c.keys[c.next], c.exp[c.next] = key, exp
	c.next = (c.next + 1) % len(c.keys)
}
