package query

import (
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Kind is how a column is stored and so how terms on it are matched.
type Kind int

// Column kinds.
const (
	// Keyword is a VARCHAR matched exactly (case-sensitive); wildcards
	// match case-insensitively.
	Keyword Kind = iota + 1
	// Text is a VARCHAR of free text: terms match case-insensitively
	// anywhere inside it.
	Text
	// List is a VARCHAR[]: a term matches when any element matches as a
	// Keyword would.
	List
	// Number is an integer column.
	Number
	// Time is a TIMESTAMP column holding UTC.
	Time
	// IP is a VARCHAR address with two BIGINT columns (Hi, Lo) holding its
	// IPv6 (or IPv4-mapped) form as given by IPKey, which make CIDR and
	// address range queries range scans.
	IP
)

// Column is the SQL column (or columns) behind a field name.
type Column struct {
	Name string
	Kind Kind
	// Hi and Lo name the numeric columns of an IP column.
	Hi, Lo string
}

// Mapping tells the translator which columns hold which fields.
type Mapping struct {
	// Columns maps field names (ECS names) to columns.
	Columns map[string]Column
	// FieldsColumn is the VARCHAR column holding the original record's
	// fields as a JSON object of strings. Names not in Columns are looked up
	// there; when it is empty they are an error.
	FieldsColumn string
	// TextColumns are searched, case-insensitively, by bare words and
	// phrases.
	TextColumns []string
}

// ECSMapping returns the mapping of the ECS field names of schema.Event to
// the columns the event store uses: the name with dots turned into
// underscores ("source.ip" → source_ip), "@timestamp" → ts,
// "event.ingested" → received and "event.original" → original. Original
// fields live in the JSON column "fields"; bare words search "message" and
// "original".
func ECSMapping() Mapping {
	m := Mapping{
		Columns:      make(map[string]Column, 80),
		FieldsColumn: "fields",
		TextColumns:  []string{"message", "original"},
	}
	names := append(schema.ECSFieldNames(), "event.duration", "event.ingested", "event.original", "id")
	for _, name := range names {
		c := Column{Name: ColumnName(name), Kind: ecsKind(name)}
		if c.Kind == IP {
			c.Hi, c.Lo = c.Name+"_hi", c.Name+"_lo"
		}
		m.Columns[name] = c
	}
	return m
}

// ColumnName returns the event store's column for an ECS field name.
func ColumnName(ecsName string) string {
	switch ecsName {
	case "@timestamp":
		return "ts"
	case "event.ingested":
		return "received"
	case "event.original":
		return "original"
	}
	return strings.ReplaceAll(ecsName, ".", "_")
}

func ecsKind(name string) Kind {
	switch name {
	case "@timestamp", "event.ingested":
		return Time
	case "event.category", "event.type", "dns.answers":
		return List
	case "host.ip", "source.ip", "destination.ip", "observer.ip":
		return IP
	case "message", "event.original":
		return Text
	case "event.severity", "event.duration", "source.port", "source.bytes", "source.packets",
		"destination.port", "destination.bytes", "destination.packets",
		"network.bytes", "network.packets", "process.pid", "process.parent.pid",
		"log.syslog.facility.code", "log.syslog.severity.code", "source.as.number", "destination.as.number", "id":
		return Number
	}
	return Keyword
}

// IPKey returns the two BIGINT keys of an IP address: the high and low 64
// bits of its 16-byte form (IPv4 as IPv4-mapped IPv6), each with its top
// bit flipped so that signed order is address order. ok is false when s is
// not an IP address.
func IPKey(s string) (hi, lo int64, ok bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return 0, 0, false
	}
	hi, lo = addrKey(a)
	return hi, lo, true
}

const signBit = 1 << 63

func addrKey(a netip.Addr) (hi, lo int64) {
	b := a.As16()
	return int64(binary.BigEndian.Uint64(b[:8]) ^ signBit), int64(binary.BigEndian.Uint64(b[8:]) ^ signBit)
}

// prefixBits returns the prefix as IPv6 (IPv4 prefixes mapped) with its
// length in IPv6 bits.
func prefixBits(p netip.Prefix) (netip.Addr, int) {
	a, bits := p.Masked().Addr(), p.Bits()
	if a.Is4() {
		return netip.AddrFrom16(a.As16()), bits + 96
	}
	return a, bits
}

// prefixEnd returns the last address of the masked prefix a/bits.
func prefixEnd(a netip.Addr, bits int) netip.Addr {
	b := a.As16()
	for i := range b {
		switch {
		case (i+1)*8 <= bits:
		case i*8 >= bits:
			b[i] = 0xff
		default:
			b[i] |= 0xff >> (bits - i*8)
		}
	}
	return netip.AddrFrom16(b)
}
