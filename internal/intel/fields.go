package intel

import (
	"strings"
	"unsafe"
)

// fieldKind says what an original field holds for matching.
type fieldKind uint8

const (
	fieldHash fieldKind = iota + 1
	fieldHashList
	fieldJA3
	fieldJA4
	fieldEmail
)

// originalFields are the original-record fields the matcher reads besides
// the ECS ones: Sysmon's Hashes list, Zeek files and smtp, Suricata tls,
// ECS email.*.
var originalFields = map[string]fieldKind{
	"Hashes": fieldHashList, "md5": fieldHash, "sha1": fieldHash, "sha256": fieldHash, "MD5": fieldHash,
	"SHA1": fieldHash, "SHA256": fieldHash,
	"ja3": fieldJA3, "tls.client.ja3": fieldJA3, "tls.ja3.hash": fieldJA3, "ja4": fieldJA4, "tls.client.ja4": fieldJA4,
	"mailfrom": fieldEmail, "rcptto": fieldEmail, "from": fieldEmail, "to": fieldEmail, "cc": fieldEmail,
	"reply_to": fieldEmail, "email.from.address": fieldEmail, "email.to.address": fieldEmail,
	"email.sender.address": fieldEmail,
}

// fields matches the original fields that hold hashes, fingerprints and
// mail addresses.
func (q *query) fields() {
	for i := range q.ev.Fields {
		f := &q.ev.Fields[i]
		switch originalFields[f.Key] {
		case fieldHash:
			q.hash(f.Value, f.Key, "")
		case fieldHashList:
			q.hashList(f.Value, f.Key)
		case fieldJA3:
			q.hash(f.Value, f.Key, "ja3:")
		case fieldJA4:
			q.hash(f.Value, f.Key, "ja4:")
		case fieldEmail:
			q.emails(f.Value, f.Key)
		}
	}
}

// hashList reads Sysmon's "SHA1=…,MD5=…,SHA256=…,IMPHASH=…".
func (q *query) hashList(v, field string) {
	for part := range strings.SplitSeq(v, ",") {
		k, h, ok := strings.Cut(part, "=")
		if !ok || strings.EqualFold(k, "IMPHASH") {
			continue
		}
		q.hash(strings.TrimSpace(h), field, "")
	}
}

// emails reads one or more addresses ("a@x", "Name <a@x>", comma lists).
func (q *query) emails(v, field string) {
	if q.m.emails.len() == 0 {
		return
	}
	for part := range strings.SplitSeq(v, ",") {
		a := strings.TrimSpace(part)
		if lt := strings.LastIndexByte(a, '<'); lt >= 0 {
			if gt := strings.IndexByte(a[lt:], '>'); gt > 0 {
				a = a[lt+1 : lt+gt]
			}
		}
		if !strings.Contains(a, "@") {
			continue
		}
		if i, ok := q.m.lookupStr(q.m.emails, q.lower(a)); ok {
			q.reportKey(i, q.lower(a), TypeEmail, a, field, DirObserved)
		}
	}
}

// unsafeString views b as a string without copying; the caller must not
// keep it past b's next change.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
