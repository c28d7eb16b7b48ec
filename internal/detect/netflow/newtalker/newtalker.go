package newtalker

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/gaissmai/bart"

	"github.com/vigil-soc/vigil/internal/flow"
)

// Name is the analyzer's name and the Detector of its signals.
const Name = "new_talker"

// Analyzer signals first-seen communication pairs and services of
// sensitive assets. It is not safe for concurrent use.
type Analyzer struct {
	cfg        Config
	internal   *flow.Set
	assets     bart.Table[int32] // prefix → index in cfg.Sensitive
	nPrefixes  int
	admin      [1024]uint64 // bitset of admin ports
	learningNs int64
	graceNs    int64

	state   map[[16]byte]*asset
	pending []flow.Signal
	evicted uint64 // pairs and services forgotten by the caps
	refused uint64 // records of assets beyond MaxAssets
}

var _ flow.Analyzer = (*Analyzer)(nil)

// asset is what one sensitive address has been seen doing.
type asset struct {
	addr  netip.Addr
	cfg   int32 // index in Config.Sensitive
	first int64 // first record (ns): the learning period starts here
	// pairs holds a hash of each internal peer with port, protocol and
	// role, and the day it was last seen.
	pairs map[uint64]int32
	// services holds each service (role, protocol, port) with when it was
	// first and last seen.
	services map[uint32]service
	evicted  uint64
}

type service struct {
	first int64
	day   int32
}

// Service roles.
const (
	roleServe    = iota // the asset answers internal clients
	roleServeExt        // the asset answers external clients
	roleOut             // the asset connects out to external servers
)

// Pair roles: which side of the connection the asset was.
const (
	pairServer = 1
	pairClient = 2
)

// New returns a new-talker analyzer. internal says which addresses are
// internal; it may be nil (then every peer is external).
func New(cfg Config, internal *flow.Set) (*Analyzer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Analyzer{cfg: cfg, internal: internal, learningNs: int64(cfg.Learning),
		graceNs: int64(cfg.NewServiceGrace), state: map[[16]byte]*asset{}}
	for i, as := range cfg.Sensitive {
		p, err := flow.ParsePrefix(as.Address)
		if err != nil {
			return nil, fmt.Errorf("new talker: %w", err)
		}
		a.assets.Insert(p, int32(i))
		a.nPrefixes++
	}
	for _, p := range cfg.AdminPorts {
		a.admin[p/64] |= 1 << (p % 64)
	}
	return a, nil
}

// Name implements flow.Analyzer.
func (a *Analyzer) Name() string { return Name }

// talk is one record as a conversation: client, server and service port.
type talk struct {
	r              *flow.Record
	client, server netip.Addr
	port           uint16 // 0 for the dynamic range
	t              int64
	day            int32
}

// Observe implements flow.Analyzer.
func (a *Analyzer) Observe(r *flow.Record) {
	if r.Kind != flow.KindFlow || a.nPrefixes == 0 || !talking(r) || isICMP(r.Proto) {
		return
	}
	tk := talk{r: r, client: r.Src, server: r.Dst, port: r.DstPort, t: r.Start.UnixNano()}
	if replyLike(r) {
		tk.client, tk.server, tk.port = r.Dst, r.Src, r.SrcPort
	}
	si, sOK := a.assets.Lookup(tk.server)
	ci, cOK := a.assets.Lookup(tk.client)
	if !sOK && !cOK {
		return
	}
	if a.cfg.DynamicPortMin != 0 && tk.port >= a.cfg.DynamicPortMin {
		tk.port = 0
	}
	tk.day = int32(floorDiv(tk.t, int64(24*time.Hour)))
	signalled := false
	if sOK {
		signalled = a.asServer(si, &tk)
	}
	if cOK {
		a.asClient(ci, &tk, signalled)
	}
}

// asServer records tk for the asset that answered it and reports whether
// it raised a signal.
func (a *Analyzer) asServer(idx int32, tk *talk) bool {
	as := a.asset(tk.server, idx, tk.t)
	if as == nil {
		return false
	}
	ext := !a.internal.Contains(tk.client)
	role := uint32(roleServe)
	if ext {
		role = roleServeExt
	}
	svcNew, svc := as.addService(svcKey(role, tk.r.Proto, tk.port), tk, a.cfg.MaxServicesPerAsset, &a.evicted)
	pairNew := !ext && as.addPair(pairHash(tk.client, tk.port, tk.r.Proto, pairServer), tk.day,
		a.cfg.MaxPairsPerAsset, &a.evicted)
	if tk.t < as.first+a.learningNs {
		return false
	}
	switch {
	case svcNew && ext:
		a.pending = append(a.pending, a.signal(as, tk, sigExposure))
	case svcNew:
		a.pending = append(a.pending, a.signal(as, tk, sigService))
	case pairNew && !a.inGrace(as, svc, tk.t):
		a.pending = append(a.pending, a.signal(as, tk, sigPairServer))
	default:
		return false
	}
	return true
}

// asClient records tk for the asset that opened it; done says the server
// side already signalled it.
func (a *Analyzer) asClient(idx int32, tk *talk, done bool) {
	as := a.asset(tk.client, idx, tk.t)
	if as == nil {
		return
	}
	var svcNew, pairNew bool
	if !a.internal.Contains(tk.server) {
		svcNew, _ = as.addService(svcKey(roleOut, tk.r.Proto, tk.port), tk, a.cfg.MaxServicesPerAsset, &a.evicted)
	} else {
		pairNew = as.addPair(pairHash(tk.server, tk.port, tk.r.Proto, pairClient), tk.day,
			a.cfg.MaxPairsPerAsset, &a.evicted)
	}
	if done || tk.t < as.first+a.learningNs {
		return
	}
	switch {
	case svcNew:
		a.pending = append(a.pending, a.signal(as, tk, sigOutbound))
	case pairNew:
		a.pending = append(a.pending, a.signal(as, tk, sigPairClient))
	}
}

// inGrace reports whether svc was itself signalled as new less than
// NewServiceGrace before t.
func (a *Analyzer) inGrace(as *asset, svc service, t int64) bool {
	return svc.first >= as.first+a.learningNs && t < svc.first+a.graceNs
}

// asset returns the state of addr, made on its first record; nil when
// MaxAssets are tracked already.
func (a *Analyzer) asset(addr netip.Addr, idx int32, t int64) *asset {
	k := addr.As16()
	as := a.state[k]
	if as == nil {
		if len(a.state) >= a.cfg.MaxAssets {
			a.refused++
			return nil
		}
		as = &asset{addr: addr, cfg: idx, first: t, pairs: map[uint64]int32{}, services: map[uint32]service{}}
		a.state[k] = as
	}
	as.first = min(as.first, t)
	return as
}

// addPair remembers a pair and reports whether it is new.
func (as *asset) addPair(h uint64, day int32, limit int, evicted *uint64) bool {
	if d, ok := as.pairs[h]; ok {
		if day > d {
			as.pairs[h] = day
		}
		return false
	}
	if len(as.pairs) >= limit {
		n := evictOldest(as.pairs, max(limit/8, 1), func(d int32) int32 { return d })
		as.evicted += n
		*evicted += n
	}
	as.pairs[h] = day
	return true
}

// addService remembers a service and reports whether it is new, with its
// record.
func (as *asset) addService(k uint32, tk *talk, limit int, evicted *uint64) (bool, service) {
	if s, ok := as.services[k]; ok {
		if tk.day > s.day {
			s.day = tk.day
			as.services[k] = s
		}
		return false, s
	}
	if len(as.services) >= limit {
		n := evictOldest(as.services, max(limit/8, 1), func(s service) int32 { return s.day })
		as.evicted += n
		*evicted += n
	}
	s := service{first: tk.t, day: tk.day}
	as.services[k] = s
	return true, s
}

// evictOldest deletes at least n entries of m, those seen least recently,
// and returns how many it deleted.
func evictOldest[K comparable, V any](m map[K]V, n int, day func(V) int32) uint64 {
	days := make([]int32, 0, len(m))
	for _, v := range m {
		days = append(days, day(v))
	}
	slices.Sort(days)
	cutoff := days[min(n, len(days))-1]
	var gone uint64
	for k, v := range m {
		if day(v) <= cutoff {
			delete(m, k)
			gone++
		}
	}
	return gone
}

func svcKey(role uint32, proto uint8, port uint16) uint32 {
	return role<<24 | uint32(proto)<<16 | uint32(port)
}

// pairHash is a fixed 64-bit hash of a peer, port, protocol and role, the
// same across restarts.
func pairHash(peer netip.Addr, port uint16, proto uint8, role uint8) uint64 {
	b := peer.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	return mix(hi ^ mix(lo^uint64(port)<<24^uint64(proto)<<8^uint64(role)))
}

// mix is the splitmix64 finaliser.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Advance implements flow.Analyzer: it emits the first-seen pairs and
// services observed since the last call, in the order they were seen.
// New talkers need no window, so the watermark is not used.
func (a *Analyzer) Advance(_ time.Time, emit func(flow.Signal)) {
	for i := range a.pending {
		emit(a.pending[i])
	}
	clear(a.pending)
	a.pending = a.pending[:0]
}

// Stats implements flow.Analyzer.
func (a *Analyzer) Stats() flow.Stats {
	pairs, services := 0, 0
	for _, as := range a.state {
		pairs += len(as.pairs)
		services += len(as.services)
	}
	return flow.Stats{
		Entities: map[string]int{"assets": len(a.state), "pairs": pairs, "services": services},
		Bytes:    int64(len(a.state))*assetBytes + int64(pairs)*pairBytes + int64(services)*serviceBytes,
	}
}

// Dropped returns how many pairs and services the caps forgot and how
// many records of assets beyond MaxAssets were ignored.
func (a *Analyzer) Dropped() (evicted, refused uint64) { return a.evicted, a.refused }

// Estimated sizes, measured by the memory benchmark.
const (
	assetBytes   = 400
	pairBytes    = 36
	serviceBytes = 40
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func addrOf(b [16]byte) netip.Addr { return netip.AddrFrom16(b).Unmap() }
