package winlog

import (
	"strconv"
	"strings"

	"github.com/vigil-soc/vigil/internal/schema"
)

// val returns a data field, treating Windows' "-" placeholder as absent.
func val(d schema.Fields, key string) string {
	v, _ := d.Get(key)
	if v == "-" {
		return ""
	}
	return v
}

// parseHex reads a 0x-prefixed hexadecimal number.
func parseHex(s string) (uint64, bool) {
	if len(s) < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return 0, false
	}
	n, err := strconv.ParseUint(s[2:], 16, 64)
	return n, err == nil
}

// parsePID reads a process id written in decimal or, as the Security log
// writes it, in 0x-prefixed hexadecimal.
func parsePID(s string) int64 {
	if n, ok := parseHex(s); ok {
		return int64(n)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// baseName returns the last element of a Windows or POSIX path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// cleanIP strips the IPv4-mapped IPv6 prefix the Kerberos events use and
// drops placeholders.
func cleanIP(s string) string {
	s = strings.TrimPrefix(s, "::ffff:")
	if s == "-" {
		return ""
	}
	return s
}

func setUser(ev *schema.Event, d schema.Fields, src userSource) {
	switch src {
	case userTarget:
		if name := val(d, "TargetUserName"); name != "" {
			ev.User.Name, ev.User.Domain = name, val(d, "TargetDomainName")
			if sid := val(d, "TargetUserSid"); sid != "" {
				ev.User.ID = sid
			}
			return
		}
		setUser(ev, d, userSubject)
	case userSubject:
		if name := val(d, "SubjectUserName"); name != "" {
			ev.User.Name, ev.User.Domain = name, val(d, "SubjectDomainName")
			if sid := val(d, "SubjectUserSid"); sid != "" {
				ev.User.ID = sid
			}
		}
	case userSysmon:
		u := val(d, "User")
		if u == "" {
			return
		}
		if dom, name, ok := strings.Cut(u, `\`); ok {
			ev.User.Domain, ev.User.Name = dom, name
		} else {
			ev.User.Name = u
		}
	}
}

// applyLogon maps the network and process fields of logon and Kerberos
// events.
func applyLogon(ev *schema.Event, d schema.Fields) {
	ev.Source.IP = cleanIP(val(d, "IpAddress"))
	if p, err := strconv.Atoi(val(d, "IpPort")); err == nil && ev.Source.IP != "" {
		ev.Source.Port = p
	}
	if ws := val(d, "WorkstationName"); ws != "" {
		ev.Source.Domain = ws
	} else if ws := val(d, "Workstation"); ws != "" {
		ev.Source.Domain = ws
	}
	if exe := val(d, "ProcessName"); exe != "" {
		ev.Process.Executable, ev.Process.Name = exe, baseName(exe)
	}
	if pid := parsePID(val(d, "ProcessId")); pid != 0 {
		ev.Process.PID = pid
	}
}

// applyProcCreate4688 maps a Security process creation.
func applyProcCreate4688(ev *schema.Event, d schema.Fields) {
	if exe := val(d, "NewProcessName"); exe != "" {
		ev.Process.Executable, ev.Process.Name = exe, baseName(exe)
	}
	ev.Process.PID = parsePID(val(d, "NewProcessId"))
	ev.Process.CommandLine = val(d, "CommandLine")
	if exe := val(d, "ParentProcessName"); exe != "" {
		ev.Process.Parent.Executable, ev.Process.Parent.Name = exe, baseName(exe)
	}
	ev.Process.Parent.PID = parsePID(val(d, "ProcessId"))
}

// applyProcess4689 maps a Security process exit.
func applyProcess4689(ev *schema.Event, d schema.Fields) {
	if exe := val(d, "ProcessName"); exe != "" {
		ev.Process.Executable, ev.Process.Name = exe, baseName(exe)
	}
	ev.Process.PID = parsePID(val(d, "ProcessId"))
}

// applySysmonCommon maps what every Sysmon event with a process carries.
func applySysmonCommon(ev *schema.Event, d schema.Fields) {
	if exe := val(d, "Image"); exe != "" {
		ev.Process.Executable, ev.Process.Name = exe, baseName(exe)
	}
	if pid := parsePID(val(d, "ProcessId")); pid != 0 {
		ev.Process.PID = pid
	}
}

// applySysmonProcess maps Sysmon process creation (event 1).
func applySysmonProcess(ev *schema.Event, d schema.Fields) {
	ev.Process.CommandLine = val(d, "CommandLine")
	if exe := val(d, "ParentImage"); exe != "" {
		ev.Process.Parent.Executable, ev.Process.Parent.Name = exe, baseName(exe)
	}
	ev.Process.Parent.PID = parsePID(val(d, "ParentProcessId"))
	ev.Process.Parent.CommandLine = val(d, "ParentCommandLine")
	applyHashes(ev, val(d, "Hashes"))
}

// applySysmonNetwork maps a Sysmon network connection (event 3).
func applySysmonNetwork(ev *schema.Event, d schema.Fields) {
	ev.Source.IP = val(d, "SourceIp")
	ev.Source.Port, _ = strconv.Atoi(val(d, "SourcePort"))
	ev.Source.Domain = val(d, "SourceHostname")
	ev.Destination.IP = val(d, "DestinationIp")
	ev.Destination.Port, _ = strconv.Atoi(val(d, "DestinationPort"))
	ev.Destination.Domain = val(d, "DestinationHostname")
	ev.Network.Transport = strings.ToLower(val(d, "Protocol"))
	switch strings.ToLower(val(d, "Initiated")) {
	case "true":
		ev.Network.Direction = "egress"
	case "false":
		ev.Network.Direction = "ingress"
	}
}

// applySysmonImageLoad maps a Sysmon image load (event 7).
func applySysmonImageLoad(ev *schema.Event, d schema.Fields) {
	if p := val(d, "ImageLoaded"); p != "" {
		ev.File.Path, ev.File.Name = p, baseName(p)
	}
	applyHashes(ev, val(d, "Hashes"))
}

// applySysmonFile maps Sysmon file events (11, 15, 23, 26).
func applySysmonFile(ev *schema.Event, d schema.Fields) {
	if p := val(d, "TargetFilename"); p != "" {
		ev.File.Path, ev.File.Name = p, baseName(p)
	}
	h := val(d, "Hashes")
	if h == "" {
		h = val(d, "Hash")
	}
	applyHashes(ev, h)
}

// applyHashes reads Sysmon's "SHA1=...,MD5=...,SHA256=...,IMPHASH=..."
// into file.hash.*, lower-cased.
func applyHashes(ev *schema.Event, hashes string) {
	for _, part := range strings.Split(hashes, ",") {
		alg, sum, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		sum = strings.ToLower(strings.TrimSpace(sum))
		switch strings.ToUpper(strings.TrimSpace(alg)) {
		case "MD5":
			ev.File.Hash.MD5 = sum
		case "SHA1":
			ev.File.Hash.SHA1 = sum
		case "SHA256":
			ev.File.Hash.SHA256 = sum
		}
	}
}

// dnsStatus names the Windows DNS status codes Sysmon reports.
func dnsStatus(code string) string {
	switch code {
	case "":
		return ""
	case "0":
		return "NOERROR"
	case "9002":
		return "SERVFAIL"
	case "9003":
		return "NXDOMAIN"
	case "9005":
		return "REFUSED"
	}
	return code
}

// applySysmonDNS maps a Sysmon DNS query (event 22). QueryResults reads
// like "type:  5 edge.example.com;::ffff:192.0.2.1;".
func applySysmonDNS(ev *schema.Event, d schema.Fields) {
	ev.DNS.Question.Name = val(d, "QueryName")
	ev.DNS.ResponseCode = dnsStatus(val(d, "QueryStatus"))
	ev.Network.Protocol = "dns"
	for _, a := range strings.Split(val(d, "QueryResults"), ";") {
		a = strings.TrimSpace(a)
		if strings.HasPrefix(a, "type:") {
			f := strings.Fields(a)
			a = f[len(f)-1]
			if len(f) < 3 {
				continue
			}
		}
		if a = cleanIP(a); a != "" {
			ev.DNS.Answers = append(ev.DNS.Answers, a)
		}
	}
}
