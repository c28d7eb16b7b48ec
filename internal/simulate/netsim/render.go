package netsim

import (
	"strconv"
)

// render appends r as one line of Zeek 6's JSON writer: fields in the
// log's column order, unset fields left out, times as epoch seconds,
// intervals as seconds (doubles in their shortest form), booleans as JSON
// booleans.
func (g *Generator) render(b []byte, r *rec) []byte {
	b = append(b, '{')
	if g.o.WritePath {
		b = append(b, `"_path":"`...)
		b = append(b, logName(r.log)...)
		b = append(b, `",`...)
	}
	b = append(b, `"ts":`...)
	b = appendMicros(b, r.at)
	b = append(b, `,"uid":"`...)
	b = appendUID(b, r.uidA, r.uidB)
	b = append(b, `","id.orig_h":"`...)
	b = appendIP(b, r.src)
	b = append(b, `","id.orig_p":`...)
	b = strconv.AppendUint(b, uint64(r.sport), 10)
	b = append(b, `,"id.resp_h":"`...)
	b = appendIP(b, r.dst)
	b = append(b, `","id.resp_p":`...)
	b = strconv.AppendUint(b, uint64(r.dport), 10)
	switch r.log {
	case logDNS:
		b = renderDNS(b, r)
	case logSSL:
		b = renderSSL(b, r)
	default:
		b = renderConn(b, r)
	}
	return append(b, '}')
}

func protoName(p uint8) string {
	switch p {
	case protoUDP:
		return "udp"
	case protoICMP:
		return "icmp"
	}
	return "tcp"
}

// stateHistory returns Zeek's conn_state and history of a connection.
func stateHistory(r *rec) (string, string) {
	switch r.state {
	case stS0:
		if r.proto == protoUDP {
			return "S0", "D"
		}
		return "S0", "S"
	case stREJ:
		return "REJ", "Sr"
	case stRSTO:
		return "RSTO", "ShR"
	case stOTH:
		return "OTH", ""
	}
	if r.proto == protoUDP {
		return "SF", "Dd"
	}
	return "SF", "ShADadFf"
}

func renderConn(b []byte, r *rec) []byte {
	b = append(b, `,"proto":"`...)
	b = append(b, protoName(r.proto)...)
	b = append(b, '"')
	if r.svc != "" {
		b = append(b, `,"service":"`...)
		b = append(b, r.svc...)
		b = append(b, '"')
	}
	// Zeek leaves duration and sizes unset for one-packet connections.
	if r.op+r.rp > 1 {
		b = append(b, `,"duration":`...)
		// Zeek subtracts the doubles of the last and first packet times.
		b = appendDouble(b, float64(r.end)/1e6-float64(r.at)/1e6)
		b = append(b, `,"orig_bytes":`...)
		b = strconv.AppendInt(b, r.ob, 10)
		b = append(b, `,"resp_bytes":`...)
		b = strconv.AppendInt(b, r.rb, 10)
	}
	state, hist := stateHistory(r)
	b = append(b, `,"conn_state":"`...)
	b = append(b, state...)
	b = append(b, `","local_orig":`...)
	b = strconv.AppendBool(b, internal(r.src))
	b = append(b, `,"local_resp":`...)
	b = strconv.AppendBool(b, internal(r.dst))
	b = append(b, `,"missed_bytes":0`...)
	if hist != "" {
		b = append(b, `,"history":"`...)
		b = append(b, hist...)
		b = append(b, '"')
	}
	hdr := int64(52)
	if r.proto != protoTCP {
		hdr = 28
	}
	b = append(b, `,"orig_pkts":`...)
	b = strconv.AppendInt(b, r.op, 10)
	b = append(b, `,"orig_ip_bytes":`...)
	b = strconv.AppendInt(b, r.ob+r.op*hdr, 10)
	b = append(b, `,"resp_pkts":`...)
	b = strconv.AppendInt(b, r.rp, 10)
	b = append(b, `,"resp_ip_bytes":`...)
	b = strconv.AppendInt(b, r.rb+r.rp*hdr, 10)
	return b
}

func qtypeName(t uint16) string {
	switch t {
	case qtA:
		return "A"
	case qtTXT:
		return "TXT"
	case qtSRV:
		return "SRV"
	}
	return "TYPE" + strconv.Itoa(int(t))
}

func rcodeName(c uint8) string {
	switch c {
	case rcNoErr:
		return "NOERROR"
	case rcNX:
		return "NXDOMAIN"
	}
	return "RCODE" + strconv.Itoa(int(c))
}

func renderDNS(b []byte, r *rec) []byte {
	b = append(b, `,"proto":"udp","trans_id":`...)
	b = strconv.AppendUint(b, uint64(r.trans), 10)
	b = append(b, `,"rtt":`...)
	b = appendMicros(b, int64(r.rtt))
	b = append(b, `,"query":`...)
	b = appendString(b, r.name)
	b = append(b, `,"qclass":1,"qclass_name":"C_INTERNET","qtype":`...)
	b = strconv.AppendUint(b, uint64(r.qtype), 10)
	b = append(b, `,"qtype_name":"`...)
	b = append(b, qtypeName(r.qtype)...)
	b = append(b, `","rcode":`...)
	b = strconv.AppendUint(b, uint64(r.rcode), 10)
	b = append(b, `,"rcode_name":"`...)
	b = append(b, rcodeName(r.rcode)...)
	b = append(b, `","AA":false,"TC":false,"RD":true,"RA":true,"Z":0`...)
	if r.ansKind != ansNone {
		b = append(b, `,"answers":[`...)
		if r.ansKind == ansIP {
			b = append(b, '"')
			b = appendIP(b, r.ansIP)
			b = append(b, '"')
		} else {
			b = appendString(b, r.ans)
		}
		b = append(b, `],"TTLs":[`...)
		b = strconv.AppendInt(b, int64(r.ttl), 10)
		b = append(b, ".0]"...)
	}
	return append(b, `,"rejected":false`...)
}

func renderSSL(b []byte, r *rec) []byte {
	if r.tls12 {
		b = append(b, `,"version":"TLSv12","cipher":"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256","curve":"secp256r1"`...)
	} else {
		b = append(b, `,"version":"TLSv13","cipher":"TLS_AES_128_GCM_SHA256","curve":"x25519"`...)
	}
	if r.name != "" {
		b = append(b, `,"server_name":`...)
		b = appendString(b, r.name)
	}
	b = append(b, `,"resumed":false,"established":true`...)
	if !r.tls12 {
		return append(b, `,"ssl_history":"CsiI"`...)
	}
	// TLS 1.2 shows the server's certificate: a fingerprint per name.
	b = append(b, `,"ssl_history":"CsxknGIi","cert_chain_fps":["`...)
	h := hashName(r.name) ^ uint64(r.dst)
	for i := range 4 {
		b = appendHex64(b, mix64(h+uint64(i)))
	}
	b = append(b, `"],"client_cert_chain_fps":[]`...)
	if r.name != "" {
		b = append(b, `,"sni_matches_cert":true`...)
	}
	return b
}

// appendMicros appends us microseconds as seconds with up to six decimals,
// the shortest form of the double Zeek writes for a microsecond time.
func appendMicros(b []byte, us int64) []byte {
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	b = strconv.AppendInt(b, us/1e6, 10)
	b = append(b, '.')
	frac := us % 1e6
	if frac == 0 {
		return append(b, '0')
	}
	var d [6]byte
	for i := 5; i >= 0; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 6
	for d[n-1] == '0' {
		n--
	}
	return append(b, d[:n]...)
}

// appendDouble appends v as rapidjson (Zeek's JSON writer) does: the
// shortest form, with ".0" for whole numbers.
func appendDouble(b []byte, v float64) []byte {
	n := len(b)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	for _, c := range b[n:] {
		if c == '.' {
			return b
		}
	}
	return append(b, ".0"...)
}

func appendIP(b []byte, ip uint32) []byte {
	b = appendOctet(b, byte(ip>>24))
	b = append(b, '.')
	b = appendOctet(b, byte(ip>>16))
	b = append(b, '.')
	b = appendOctet(b, byte(ip>>8))
	b = append(b, '.')
	return appendOctet(b, byte(ip))
}

func appendOctet(b []byte, v byte) []byte {
	switch {
	case v >= 100:
		return append(b, '0'+v/100, '0'+v/10%10, '0'+v%10)
	case v >= 10:
		return append(b, '0'+v/10, '0'+v%10)
	}
	return append(b, '0'+v)
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// appendUID appends a Zeek connection uid: "C" and 17 base-62 digits.
func appendUID(b []byte, a, c uint64) []byte {
	b = append(b, 'C')
	for range 11 {
		b = append(b, base62[a%62])
		a /= 62
	}
	for range 6 {
		b = append(b, base62[c%62])
		c /= 62
	}
	return b
}

func appendHex64(b []byte, v uint64) []byte {
	const hex = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		b = append(b, hex[v>>uint(i)&0xf])
	}
	return b
}

// appendString appends s as a JSON string. Generated names are plain
// ASCII; quotes, backslashes and control characters are escaped anyway.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
