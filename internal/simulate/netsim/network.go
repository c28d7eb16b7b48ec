package netsim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
)

// Host roles.
const (
	RoleWorkstation = "workstation"
	RoleWeb         = "web"
	RoleDB          = "db"
	RoleMail        = "mail"
	RoleBastion     = "bastion"
	RoleDC          = "dc"
	RoleFileServer  = "fileserver"
	RoleBackup      = "backup"
	RoleDNS         = "dns"
)

// Domain is the company's DNS domain.
const Domain = "corp.example.com"

// Host is one internal machine of the simulated company.
type Host struct {
	// Name is the host name ("ws-07"); its FQDN is Name + "." + Domain.
	Name string
	IP   netip.Addr
	// Role is one of the Role* constants.
	Role string
	// Sensitive marks the assets a new-talker analytic should watch: the
	// domain controller, the database, the file server and the backup server.
	Sensitive bool
	// Admin marks the workstations of the server administrators, which ssh
	// to the bastion; DBA the workstation of the database administrator.
	Admin, DBA bool
	// Subnet is the internal subnet the host is in.
	Subnet netip.Prefix
}

// Subnet is one internal network.
type Subnet struct {
	Name   string
	Prefix netip.Prefix
}

// Service is an external (or company-wide) service the hosts use: the
// targets of the benign look-alikes.
type Service struct {
	// Name is the DNS name the hosts look up ("" for services used by
	// address, like NTP).
	Name string
	// IPs are the service's addresses.
	IPs  []netip.Addr
	Port uint16
	// Purpose says what the service is ("ntp", "monitoring", ...).
	Purpose string
}

// Network describes the simulated company's network.
type Network struct {
	Domain  string
	Subnets []Subnet
	// Hosts are the internal hosts: servers first, then workstations.
	Hosts []Host
	// Resolver is the internal DNS resolver every host queries.
	Resolver netip.Addr
	// Services are the external services behind the benign look-alikes.
	Services []Service
	// Sites is the number of external web sites in the browsing catalogue;
	// their addresses are in SitesPrefix.
	Sites       int
	SitesPrefix netip.Prefix
	// ClientsPrefix holds the Internet clients of the public web servers.
	ClientsPrefix netip.Prefix
}

// Internal returns the internal networks as CIDR strings, for
// flow.NewSet.
func (n *Network) Internal() []string {
	out := make([]string, len(n.Subnets))
	for i, s := range n.Subnets {
		out[i] = s.Prefix.String()
	}
	return out
}

// Host returns the host with the given name.
func (n *Network) Host(name string) (Host, bool) {
	for _, h := range n.Hosts {
		if h.Name == name {
			return h, true
		}
	}
	return Host{}, false
}

// HostByIP returns the host with the given address.
func (n *Network) HostByIP(ip netip.Addr) (Host, bool) {
	for _, h := range n.Hosts {
		if h.IP == ip {
			return h, true
		}
	}
	return Host{}, false
}

// hostInfo is a host as the generator uses it.
type hostInfo struct {
	name, fqdn string
	ip         uint32
	role       string
	sensitive  bool
	linux      bool
	admin, dba bool
}

// site is one external web site of the browsing catalogue.
type site struct {
	name string
	ip   uint32
	ttl  int32
	cdn  int8 // index into cdns, or -1
	// assets are the CDN names the site's pages load.
	assets [3]string
}

// cdn is a content delivery network with many edge addresses.
type cdn struct {
	domain string
	edges  []uint32
}

// Fixed addresses. The Internet is simulated in 198.18.0.0/15 (RFC 2544,
// never routed) and the RFC 5737 documentation ranges, so no real address
// appears.
const (
	ipNTP1      uint32 = 198<<24 | 19<<16 | 0<<8 | 123
	ipNTP2      uint32 = 198<<24 | 19<<16 | 1<<8 | 123
	ipMonitor   uint32 = 198<<24 | 19<<16 | 2<<8 | 10
	ipAV        uint32 = 198<<24 | 19<<16 | 3<<8 | 20
	ipUpdateCDN uint32 = 198<<24 | 19<<16 | 4<<8 | 50
)

// Names of the fixed external services.
const (
	nameMonitor   = "ingest.statuswatch-cloud.com"
	nameAV        = "update.shieldav-cloud.com"
	nameUpdateCDN = "dl.osupdate-cdn.com"
	nameWebsite   = "www." + Domain
	nameIntranet  = "intranet." + Domain
	nameMail      = "mail." + Domain
)

// network is the generator's view of the company and the Internet.
type network struct {
	hosts    []hostInfo
	ws       []int // indexes of workstations in hosts
	byRole   map[string]int
	sites    []site
	cdns     []cdn
	mailPeer []uint32
	mx       []uint32
	subnets  []Subnet
}

func ip4(a, b, c, d byte) uint32 { return uint32(a)<<24 | uint32(b)<<16 | uint32(c)<<8 | uint32(d) }

func addrOf(ip uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)})
}

func internal(ip uint32) bool { return ip>>16 == 10<<8|10 }

// newNetwork builds the company of o.Hosts hosts and the site catalogue.
func newNetwork(o Options) *network {
	n := &network{byRole: map[string]int{}}
	servers := []hostInfo{
		{name: "web-01", ip: ip4(10, 10, 1, 11), role: RoleWeb, linux: true},
		{name: "web-02", ip: ip4(10, 10, 1, 12), role: RoleWeb, linux: true},
		{name: "db-01", ip: ip4(10, 10, 1, 21), role: RoleDB, linux: true, sensitive: true},
		{name: "mail-01", ip: ip4(10, 10, 1, 25), role: RoleMail, linux: true},
		{name: "bastion-01", ip: ip4(10, 10, 1, 5), role: RoleBastion, linux: true},
		{name: "dc-01", ip: ip4(10, 10, 2, 10), role: RoleDC, sensitive: true},
		{name: "fs-01", ip: ip4(10, 10, 2, 20), role: RoleFileServer, sensitive: true},
		{name: "backup-01", ip: ip4(10, 10, 2, 30), role: RoleBackup, linux: true, sensitive: true},
		{name: "ns-01", ip: ip4(10, 10, 2, 53), role: RoleDNS, linux: true},
	}
	n.hosts = append(n.hosts, servers...)
	for i := range o.Hosts - len(servers) {
		h := hostInfo{name: fmt.Sprintf("ws-%02d", i+1), role: RoleWorkstation,
			ip: ip4(10, 10, byte(3+i/150), byte(101+i%150))}
		// As in the demo simulator: alice and bob (ws-01, ws-02) administer
		// the servers, carol (ws-04) is the DBA.
		h.admin = i == 0 || i == 1
		h.dba = i == 3
		n.ws = append(n.ws, len(n.hosts))
		n.hosts = append(n.hosts, h)
	}
	for i := range n.hosts {
		h := &n.hosts[i]
		h.fqdn = h.name + "." + Domain
		if _, ok := n.byRole[h.role]; !ok {
			n.byRole[h.role] = i
		}
	}
	n.subnets = []Subnet{
		{"servers", netip.MustParsePrefix("10.10.1.0/24")},
		{"infrastructure", netip.MustParsePrefix("10.10.2.0/24")},
	}
	for s := 0; s*150 < len(n.ws); s++ {
		name := "workstations"
		if s > 0 {
			name += "-" + strconv.Itoa(s+1)
		}
		n.subnets = append(n.subnets, Subnet{name, netip.PrefixFrom(addrOf(ip4(10, 10, byte(3+s), 0)), 24)})
	}
	rng := rand.New(rand.NewPCG(o.Seed, streamID("catalogue", 0)))
	n.buildInternet(rng, o.Sites)
	return n
}

// role returns the first host with the role.
func (n *network) role(r string) *hostInfo { return &n.hosts[n.byRole[r]] }

// buildInternet makes the CDNs, the mail peers and the site catalogue.
func (n *network) buildInternet(rng *rand.Rand, sites int) {
	for c, dom := range []string{"fastedge-cdn.net", "static-cdnhub.com"} {
		cd := cdn{domain: dom}
		for e := range 16 {
			cd.edges = append(cd.edges, ip4(198, 19, byte(10+c), byte(1+e)))
		}
		n.cdns = append(n.cdns, cd)
	}
	// The demo simulator's mail peers.
	n.mailPeer = []uint32{ip4(198, 51, 100, 25), ip4(198, 51, 100, 26), ip4(203, 0, 113, 25)}
	for i := range 40 {
		n.mx = append(n.mx, ip4(198, 19, 20, byte(1+i)))
	}
	seen := map[string]bool{}
	for i := range sites {
		var name string
		for {
			name = siteName(rng)
			if !seen[name] {
				break
			}
		}
		seen[name] = true
		s := site{name: name, ip: ip4(198, 18, byte(i/254), byte(1+i%254)), cdn: -1,
			ttl: []int32{60, 300, 300, 600, 3600}[rng.IntN(5)]}
		if rng.Float64() < 0.4 {
			s.cdn = int8(rng.IntN(len(n.cdns)))
			code := s.name
			if len(code) > 4 && code[:4] == "www." {
				code = code[4:]
			}
			for len(code) > 0 && (code[len(code)-1] < 'a' || code[len(code)-1] > 'z' || len(code) > 6) {
				code = code[:len(code)-1]
			}
			for k := range s.assets {
				s.assets[k] = fmt.Sprintf("%s-%s%d.%s", code, []string{"img", "js", "static"}[k], i%97,
					n.cdns[s.cdn].domain)
			}
		}
		n.sites = append(n.sites, s)
	}
}

// siteName returns a pronounceable made-up site name.
func siteName(rng *rand.Rand) string {
	syllables := [...]string{"ka", "lo", "mi", "ne", "ta", "ro", "vi", "sa", "do", "ple", "tri", "mon", "zen",
		"bel", "cor", "dan", "fi", "gal", "hu", "jo", "lin", "mar", "nor", "pa", "qui", "ra", "sol", "ver", "wen",
		"xo", "ya", "zu", "bra", "cla", "dre", "flo", "gre", "kro", "sta", "tor"}
	tlds := [...]string{"com", "com", "com", "com", "com", "com", "net", "org", "io", "de", "co.uk", "fr", "nl"}
	b := make([]byte, 0, 32)
	if rng.IntN(2) == 0 {
		b = append(b, "www."...)
	}
	for range 2 + rng.IntN(2) {
		b = append(b, syllables[rng.IntN(len(syllables))]...)
	}
	if rng.IntN(8) == 0 {
		b = append(b, '-')
		b = append(b, syllables[rng.IntN(len(syllables))]...)
	}
	b = append(b, '.')
	b = append(b, tlds[rng.IntN(len(tlds))]...)
	return string(b)
}

// export returns the public description of the network.
func (n *network) export() Network {
	out := Network{Domain: Domain, Subnets: append([]Subnet(nil), n.subnets...),
		Resolver: addrOf(n.role(RoleDNS).ip), Sites: len(n.sites),
		SitesPrefix:   netip.MustParsePrefix("198.18.0.0/16"),
		ClientsPrefix: netip.MustParsePrefix("198.19.128.0/17")}
	for _, h := range n.hosts {
		a := addrOf(h.ip)
		var sub netip.Prefix
		for _, s := range n.subnets {
			if s.Prefix.Contains(a) {
				sub = s.Prefix
			}
		}
		out.Hosts = append(out.Hosts, Host{Name: h.name, IP: a, Role: h.role, Sensitive: h.sensitive,
			Admin: h.admin, DBA: h.dba, Subnet: sub})
	}
	addrs := func(ips ...uint32) []netip.Addr {
		var a []netip.Addr
		for _, ip := range ips {
			a = append(a, addrOf(ip))
		}
		return a
	}
	out.Services = []Service{
		{Purpose: "ntp", IPs: addrs(ipNTP1, ipNTP2), Port: 123},
		{Purpose: "monitoring", Name: nameMonitor, IPs: addrs(ipMonitor), Port: 443},
		{Purpose: "av-update", Name: nameAV, IPs: addrs(ipAV), Port: 443},
		{Purpose: "os-update-cdn", Name: nameUpdateCDN, IPs: addrs(ipUpdateCDN), Port: 443},
	}
	for _, c := range n.cdns {
		out.Services = append(out.Services, Service{Purpose: "cdn", Name: c.domain, IPs: addrs(c.edges...), Port: 443})
	}
	return out
}

// byIP returns the internal host with address ip.
func (n *network) byIP(a netip.Addr) (*hostInfo, bool) {
	if !a.Is4() {
		return nil, false
	}
	b := a.As4()
	ip := ip4(b[0], b[1], b[2], b[3])
	for i := range n.hosts {
		if n.hosts[i].ip == ip {
			return &n.hosts[i], true
		}
	}
	return nil, false
}

// byName returns the internal host with the given name.
func (n *network) byName(name string) (*hostInfo, bool) {
	for i := range n.hosts {
		if n.hosts[i].name == name {
			return &n.hosts[i], true
		}
	}
	return nil, false
}
