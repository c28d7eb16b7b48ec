package newtalker

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// sigKind is what was seen for the first time.
type sigKind uint8

const (
	sigPairServer sigKind = iota + 1 // an internal client used the asset's service
	sigPairClient                    // the asset used an internal server's service
	sigService                       // the asset answered on a new port
	sigExposure                      // the asset answered an external client on a port
	sigOutbound                      // the asset connected out to an external port
)

func (k sigKind) String() string {
	switch k {
	case sigPairServer, sigPairClient:
		return "pair"
	case sigService:
		return "service"
	case sigExposure:
		return "exposure"
	case sigOutbound:
		return "outbound"
	}
	return "unknown"
}

// signal builds the signal of kind k about asset as for talk tk.
func (a *Analyzer) signal(as *asset, tk *talk, k sigKind) flow.Signal {
	peer := tk.client
	if k == sigPairClient || k == sigOutbound {
		peer = tk.server
	}
	svc := serviceLabel(tk)
	admin := tk.port != 0 && a.admin[tk.port/64]&(1<<(tk.port%64)) != 0
	ext := k == sigExposure || k == sigOutbound
	sev := schema.SeverityLow
	if admin {
		sev++
	}
	if ext {
		sev++
	}
	r := tk.r
	sig := flow.Signal{
		Kind: flow.SignalNewTalker, Detector: Name, Host: as.addr, Peer: peer, Port: tk.port,
		Start: r.Start, End: r.End, Severity: sev, Score: 0.3 * float64(sev-schema.SeverityInformational),
		Title: title(k, a.label(as), peer, svc),
		Key:   key(k, tk),
		Tags:  tagsFor(k, admin),
	}
	if r.EventID != 0 {
		sig.Evidence = []uint64{r.EventID}
	}
	info := a.cfg.Sensitive[as.cfg]
	sig.Facts = []flow.Fact{
		{Key: "finding", Value: "first-seen " + k.String()},
		{Key: "asset", Value: as.addr.String()},
		{Key: "asset name", Value: info.Name},
		{Key: "asset role", Value: info.Role},
		{Key: "asset is", Value: pick(k == sigPairClient || k == sigOutbound, "client", "server")},
		{Key: "peer", Value: peer.String()},
		{Key: "peer is", Value: pick(ext, "external", "internal")},
		{Key: "service", Value: svc},
		{Key: "admin port", Value: strconv.FormatBool(admin)},
		{Key: "first seen", Value: r.Start.UTC().Format(time.RFC3339Nano)},
		{Key: "learning ended", Value: time.Unix(0, as.first+a.learningNs).UTC().Format(time.RFC3339)},
		{Key: "internal peers known", Value: strconv.Itoa(len(as.pairs))},
		{Key: "known services", Value: strconv.Itoa(len(as.services))},
		{Key: "bytes out", Value: strconv.FormatInt(r.BytesOut, 10)},
		{Key: "bytes in", Value: strconv.FormatInt(r.BytesIn, 10)},
	}
	return sig
}

func pick(c bool, yes, no string) string {
	if c {
		return yes
	}
	return no
}

// label names an asset: "dc01 (10.0.0.10)", or its address.
func (a *Analyzer) label(as *asset) string {
	if n := a.cfg.Sensitive[as.cfg].Name; n != "" {
		return n + " (" + as.addr.String() + ")"
	}
	return as.addr.String()
}

// serviceLabel writes "tcp/3389 (rdp)", "tcp/dynamic".
func serviceLabel(tk *talk) string {
	p := "dynamic"
	if tk.port != 0 {
		p = strconv.Itoa(int(tk.port))
	}
	s := flow.ProtoName(tk.r.Proto) + "/" + p
	if tk.r.Service != "" {
		s += " (" + tk.r.Service + ")"
	}
	return s
}

func portLabel(tk *talk) string {
	if tk.port == 0 {
		return flow.ProtoName(tk.r.Proto) + "/dynamic"
	}
	return flow.ProtoName(tk.r.Proto) + "/" + strconv.Itoa(int(tk.port))
}

func title(k sigKind, asset string, peer netip.Addr, svc string) string {
	switch k {
	case sigPairServer:
		return fmt.Sprintf("first %s connection from %s to %s", svc, peer, asset)
	case sigPairClient:
		return fmt.Sprintf("%s connected to %s on %s for the first time", asset, peer, svc)
	case sigService:
		return fmt.Sprintf("%s answered on %s for the first time (client %s)", asset, svc, peer)
	case sigExposure:
		return fmt.Sprintf("%s answered an external client on %s for the first time (%s)", asset, svc, peer)
	}
	return fmt.Sprintf("%s connected out to %s for the first time (%s)", asset, svc, peer)
}

// key groups repeats of one finding: a pair by client, server and
// service; a service by asset, role and service.
func key(k sigKind, tk *talk) string {
	switch k {
	case sigPairServer, sigPairClient:
		return fmt.Sprintf("new_talker|pair|%s|%s|%s", tk.client, tk.server, portLabel(tk))
	case sigService:
		return fmt.Sprintf("new_talker|service|%s|serve|%s", tk.server, portLabel(tk))
	case sigExposure:
		return fmt.Sprintf("new_talker|service|%s|serve_external|%s", tk.server, portLabel(tk))
	}
	return fmt.Sprintf("new_talker|service|%s|out|%s", tk.client, portLabel(tk))
}

func tagsFor(k sigKind, admin bool) []string {
	switch {
	case k == sigExposure:
		return []string{"attack.initial_access", "attack.t1133"}
	case admin:
		return []string{"attack.lateral_movement", "attack.t1021"}
	case k == sigPairServer || k == sigPairClient:
		return []string{"attack.lateral_movement", "attack.t1210"}
	}
	return []string{"attack.command_and_control", "attack.t1571"}
}
