package flowcollect

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/parse"
)

// Header lengths of NetFlow v9 and IPFIX packets.
const (
	v9HeaderLen    = 20
	ipfixHeaderLen = 16
)

// maxSamplers bounds the sampler ids remembered per session.
const maxSamplers = 256

// sessionKey scopes templates: RFC 7011 ties them to the transport
// session (exporter address and port) and the observation domain, RFC
// 3954 to the exporter and source id.
type sessionKey struct {
	port    uint16
	version uint16
	domain  uint32
}

// session is the template state of one sessionKey of one exporter.
type session struct {
	templates map[uint16]*template
	sampling  uint32            // latest sampling interval from options data
	samplers  map[uint64]uint32 // sampler or selector id to interval
	sysInit   int64             // IPFIX systemInitTimeMilliseconds, Unix ns
	pending   []pendingSet      // data sets waiting for their template
	lastSeen  time.Time
}

// pendingSet is a data set that arrived before its template.
type pendingSet struct {
	id   uint16
	data []byte
	hdr  recHeader
	recv time.Time
}

// nfPacket is the context of one NetFlow v9 or IPFIX packet.
type nfPacket struct {
	exp     *exporter
	sess    *session
	hdr     recHeader
	version uint16
	domain  uint32 // NetFlow v9 source id or IPFIX observation domain
	dataset string
	recv    time.Time
}

// decodeNF decodes a NetFlow v9 or IPFIX packet set by set. A bad set is
// skipped (when its length can be trusted) and reported; the flows of the
// other sets are kept.
func (d *Decoder) decodeNF(exp *exporter, port uint16, pkt []byte, recv time.Time) error {
	p, body, err := nfHeader(pkt)
	if p == nil {
		return err
	}
	p.exp, p.recv = exp, recv
	p.sess = d.session(exp, sessionKey{port: port, version: p.version, domain: p.domain}, recv)
	p.hdr.sysInit = p.sess.sysInit
	for len(body) > 0 {
		if len(body) < 4 {
			if !allZero(body) && err == nil {
				err = parse.Errorf(ReasonBadFlow, "%d stray bytes after the last set", len(body))
			}
			break
		}
		id, l := binary.BigEndian.Uint16(body), int(binary.BigEndian.Uint16(body[2:]))
		if l < 4 || l > len(body) {
			err = firstErr(err, parse.Errorf(ReasonBadFlow, "set %d claims %d bytes, %d left", id, l, len(body)))
			break
		}
		err = firstErr(err, d.decodeSet(p, id, body[4:l]))
		body = body[l:]
	}
	d.flush(exp, p.dataset, recv)
	return err
}

// nfHeader reads the packet header. It returns a nil packet when the
// header itself is unusable.
func nfHeader(pkt []byte) (*nfPacket, []byte, error) {
	be := binary.BigEndian
	p := &nfPacket{version: be.Uint16(pkt)}
	if p.version == 9 {
		if len(pkt) < v9HeaderLen {
			return nil, nil, parse.Errorf(ReasonBadFlow, "NetFlow v9 header truncated: %d of %d bytes", len(pkt), v9HeaderLen)
		}
		p.dataset = flow.DatasetNetFlowV9
		p.hdr = recHeader{v9: true, uptime: be.Uint32(pkt[4:]), export: int64(be.Uint32(pkt[8:])) * 1e9}
		p.domain = be.Uint32(pkt[16:])
		return p, pkt[v9HeaderLen:], nil
	}
	if len(pkt) < ipfixHeaderLen {
		return nil, nil, parse.Errorf(ReasonBadFlow, "IPFIX header truncated: %d of %d bytes", len(pkt), ipfixHeaderLen)
	}
	p.dataset = flow.DatasetIPFIX
	p.hdr = recHeader{export: int64(be.Uint32(pkt[4:])) * 1e9}
	p.domain = be.Uint32(pkt[12:])
	length := int(be.Uint16(pkt[2:]))
	switch {
	case length < ipfixHeaderLen:
		return nil, nil, parse.Errorf(ReasonBadFlow, "IPFIX message length %d is shorter than its header", length)
	case length > len(pkt):
		return p, pkt[ipfixHeaderLen:], parse.Errorf(ReasonBadFlow,
			"IPFIX message truncated: %d of %d bytes", len(pkt), length)
	}
	return p, pkt[ipfixHeaderLen:length], nil
}

// decodeSet decodes one set.
func (d *Decoder) decodeSet(p *nfPacket, id uint16, set []byte) error {
	v9 := p.version == 9
	switch {
	case id >= 256:
		t := p.sess.templates[id]
		if t == nil {
			d.park(p, id, set)
			return nil
		}
		return d.decodeRecords(p, t, id, set)
	case v9 && id == 0 || !v9 && id == 2:
		return d.addTemplates(p, set, false)
	case v9 && id == 1 || !v9 && id == 3:
		return d.addTemplates(p, set, true)
	}
	return parse.Errorf(ReasonBadFlow, "reserved set id %d", id)
}

// decodeRecords decodes the records of a data set with template t. Bytes
// after the last whole record are padding.
func (d *Decoder) decodeRecords(p *nfPacket, t *template, id uint16, set []byte) error {
	for len(set) >= t.minLen {
		var x extra
		var n int
		if t.options {
			var scratch rec
			if n = t.decode(set, &p.hdr, &scratch, &x); n >= 0 {
				d.applyOptions(p, &x)
			}
		} else {
			r := d.newRec()
			if n = t.decode(set, &p.hdr, r, &x); n < 0 {
				d.recs = d.recs[:len(d.recs)-1]
			} else {
				finishRec(p, r, &x)
			}
		}
		if n < 0 {
			return parse.Errorf(ReasonBadFlow, "data set %d: record truncated (%d bytes left)", id, len(set))
		}
		set = set[n:]
	}
	return nil
}

// finishRec fills the record's start time and sampling rate.
func finishRec(p *nfPacket, r *rec, x *extra) {
	if r.start == 0 {
		r.start = p.hdr.export
		if r.end != 0 && r.end < r.start {
			r.start = r.end
		}
	}
	rate := x.rate()
	if rate == 0 && x.hasSampler {
		rate = p.sess.samplers[x.samplerID]
	}
	if rate == 0 {
		rate = p.sess.sampling
	}
	r.sampling = rate
}

// applyOptions keeps what an options record says about the exporter: its
// boot time and sampling interval.
func (d *Decoder) applyOptions(p *nfPacket, x *extra) {
	if x.sysInit != 0 {
		p.sess.sysInit, p.hdr.sysInit = x.sysInit, x.sysInit
	}
	rate := x.rate()
	if rate == 0 {
		return
	}
	p.sess.sampling = rate
	if x.hasSampler {
		if _, ok := p.sess.samplers[x.samplerID]; !ok && len(p.sess.samplers) >= maxSamplers {
			clear(p.sess.samplers)
		}
		p.sess.samplers[x.samplerID] = rate
	}
}

// addTemplates decodes a template or options template set with goflow2
// and stores the templates. The set is first checked record by record, so
// that goflow2 only sees whole records: it sizes its field slices from the
// counts on the wire before checking that the bytes are there.
func (d *Decoder) addTemplates(p *nfPacket, set []byte, options bool) error {
	n, err := templatePrefix(set, p.version, options)
	if n == 0 {
		return err
	}
	buf := bytes.NewBuffer(set[:n])
	var gerr error
	switch {
	case !options:
		var recs []netflow.TemplateRecord
		recs, gerr = netflow.DecodeTemplateSet(p.version, buf)
		for _, tr := range recs {
			err = firstErr(err, d.putTemplate(p, tr.TemplateId, tr.Fields, compile(nil, tr.Fields, false, false)))
		}
	case p.version == 9:
		var recs []netflow.NFv9OptionsTemplateRecord
		recs, gerr = netflow.DecodeNFv9OptionsTemplateSet(buf)
		for _, tr := range recs {
			err = firstErr(err, d.putTemplate(p, tr.TemplateId, tr.Options, compile(tr.Scopes, tr.Options, true, true)))
		}
	default:
		var recs []netflow.IPFIXOptionsTemplateRecord
		recs, gerr = netflow.DecodeIPFIXOptionsTemplateSet(buf)
		for _, tr := range recs {
			err = firstErr(err, d.putTemplate(p, tr.TemplateId, tr.Options, compile(tr.Scopes, tr.Options, true, false)))
		}
	}
	if gerr != nil {
		err = firstErr(err, parse.Errorf(ReasonBadFlow, "template set: %w", gerr))
	}
	return err
}

// putTemplate stores (or, with no fields, withdraws) a template and
// decodes the data sets that waited for it.
func (d *Decoder) putTemplate(p *nfPacket, id uint16, fields []netflow.Field, t *template) error {
	s := p.sess
	old := s.templates[id]
	if len(fields) == 0 {
		if id < 256 {
			for tid := range s.templates {
				d.dropTemplate(s, tid)
			}
		}
		d.dropTemplate(s, id)
		return nil
	}
	switch {
	case t.minLen == 0:
		return parse.Errorf(ReasonBadFlow, "template %d describes empty records", id)
	case old == nil && len(s.templates) >= d.cfg.MaxTemplates:
		return parse.Errorf(ReasonBadFlow, "template %d ignored: the exporter already has %d templates", id, len(s.templates))
	case d.fields-oldFields(old)+len(t.fields) > d.cfg.TemplateFields:
		return parse.Errorf(ReasonBadFlow, "template %d ignored: the templates held reach the limit of %d fields",
			id, d.cfg.TemplateFields)
	}
	d.dropTemplate(s, id)
	s.templates[id] = t
	d.fields += len(t.fields)
	if len(s.pending) > 0 {
		d.replay(p, id, t)
	}
	return nil
}

// oldFields is the field count of a template that may be nil.
func oldFields(t *template) int {
	if t == nil {
		return 0
	}
	return len(t.fields)
}

// dropTemplate forgets a template.
func (d *Decoder) dropTemplate(s *session, id uint16) {
	if t := s.templates[id]; t != nil {
		d.fields -= len(t.fields)
		delete(s.templates, id)
	}
}

// templatePrefix checks a template or options template set and returns
// the length of its whole, valid records. Trailing zero bytes are padding.
func templatePrefix(set []byte, version uint16, options bool) (int, error) {
	be := binary.BigEndian
	off := 0
	for len(set)-off >= 4 {
		rest := set[off:]
		if allZero(rest) {
			return off, nil
		}
		id := be.Uint16(rest)
		if id < 256 {
			if version == 10 && !options && id == 2 && be.Uint16(rest[2:]) == 0 {
				off += 4 // RFC 7011 section 8.1: withdraw all templates
				continue
			}
			return off, parse.Errorf(ReasonBadFlow, "template id %d is below 256", id)
		}
		n, err := templateLen(rest, version, options)
		if err != nil {
			return off, err
		}
		off += n
	}
	if !allZero(set[off:]) {
		return off, parse.Errorf(ReasonBadFlow, "%d stray bytes after the last template", len(set)-off)
	}
	return off, nil
}

// templateLen returns the length of the template record at the start of
// b.
func templateLen(b []byte, version uint16, options bool) (int, error) {
	be := binary.BigEndian
	truncated := parse.Errorf(ReasonBadFlow, "template %d truncated", be.Uint16(b))
	switch {
	case options && version == 9:
		if len(b) < 6 {
			return 0, truncated
		}
		scope, opts := int(be.Uint16(b[2:])), int(be.Uint16(b[4:]))
		if scope%4 != 0 || opts%4 != 0 {
			return 0, parse.Errorf(ReasonBadFlow, "options template %d: lengths %d and %d are not multiples of 4",
				be.Uint16(b), scope, opts)
		}
		if 6+scope+opts > len(b) {
			return 0, truncated
		}
		return 6 + scope + opts, nil
	case options:
		if len(b) < 6 {
			return 0, truncated
		}
		count, scopes := int(be.Uint16(b[2:])), int(be.Uint16(b[4:]))
		if scopes == 0 || scopes > count {
			return 0, parse.Errorf(ReasonBadFlow, "options template %d: %d scope fields of %d", be.Uint16(b), scopes, count)
		}
		return fieldsLen(b, 6, count, true, truncated)
	}
	return fieldsLen(b, 4, int(be.Uint16(b[2:])), version == 10, truncated)
}

// fieldsLen walks count field specifiers from off: 4 bytes each, plus 4
// for an IPFIX enterprise number.
func fieldsLen(b []byte, off, count int, ipfix bool, truncated error) (int, error) {
	for range count {
		if off+4 > len(b) {
			return 0, truncated
		}
		if ipfix && b[off]&0x80 != 0 {
			off += 4
		}
		off += 4
	}
	if off > len(b) {
		return 0, truncated
	}
	return off, nil
}

// park keeps a data set whose template is unknown until the template
// comes, within the configured bounds.
func (d *Decoder) park(p *nfPacket, id uint16, set []byte) {
	p.exp.stats.MissingTemplate++
	s := p.sess
	if len(set) > d.cfg.PendingBytes-d.pendingBytes {
		d.templateDrop(p.exp, id, set, "the buffer for data sets waiting for templates is full")
		return
	}
	if len(s.pending) >= d.cfg.MaxPending {
		old := s.pending[0]
		s.pending = append(s.pending[:0], s.pending[1:]...)
		d.pendingBytes -= len(old.data)
		d.templateDrop(p.exp, old.id, old.data, "too many data sets waiting for templates")
	}
	s.pending = append(s.pending, pendingSet{id: id, data: bytes.Clone(set), hdr: p.hdr, recv: p.recv})
	d.pendingBytes += len(set)
}

// replay decodes the waiting data sets of template id, each with its own
// packet's header and receive time.
func (d *Decoder) replay(p *nfPacket, id uint16, t *template) {
	d.flush(p.exp, p.dataset, p.recv)
	s := p.sess
	var ready []pendingSet
	kept := s.pending[:0]
	for _, ps := range s.pending {
		if ps.id == id {
			ready = append(ready, ps)
		} else {
			kept = append(kept, ps)
		}
	}
	clear(s.pending[len(kept):])
	s.pending = kept
	for _, ps := range ready {
		d.pendingBytes -= len(ps.data)
		if ps.hdr.sysInit == 0 {
			ps.hdr.sysInit = s.sysInit
		}
		q := *p
		q.hdr, q.recv = ps.hdr, ps.recv
		err := d.decodeRecords(&q, t, id, ps.data)
		p.exp.stats.Recovered++
		d.flush(p.exp, p.dataset, ps.recv)
		if err != nil {
			p.exp.stats.Malformed++
			d.reject(p.exp, err, ps.data)
		}
	}
}

// templateDrop counts and reports a data set dropped for want of its
// template.
func (d *Decoder) templateDrop(exp *exporter, id uint16, data []byte, why string) {
	exp.stats.TemplateDrops++
	d.reject(exp, parse.Errorf(ReasonUnknownTemplate, "data set of template %d dropped: %s", id, why), data)
}

// expirePending drops the session's data sets that waited too long.
func (d *Decoder) expirePending(e *exporter, s *session, now time.Time) {
	limit := now.Add(-d.cfg.PendingTimeout)
	kept := s.pending[:0]
	for _, ps := range s.pending {
		if ps.recv.Before(limit) {
			d.pendingBytes -= len(ps.data)
			d.templateDrop(e, ps.id, ps.data, fmt.Sprintf("its template did not arrive within %v", d.cfg.PendingTimeout))
			continue
		}
		kept = append(kept, ps)
	}
	clear(s.pending[len(kept):])
	s.pending = kept
}

// session returns the template session k of exp, making it (and room for
// it) when new.
func (d *Decoder) session(exp *exporter, k sessionKey, now time.Time) *session {
	s := exp.sessions[k]
	if s == nil {
		if len(exp.sessions) >= d.cfg.MaxSessions {
			var oldK sessionKey
			var old *session
			for k2, s2 := range exp.sessions {
				if old == nil || s2.lastSeen.Before(old.lastSeen) {
					oldK, old = k2, s2
				}
			}
			d.dropSession(exp, oldK, old)
		}
		s = &session{templates: make(map[uint16]*template), samplers: make(map[uint64]uint32)}
		exp.sessions[k] = s
	}
	s.lastSeen = now
	return s
}

// dropSession forgets a session, dropping its waiting data sets.
func (d *Decoder) dropSession(e *exporter, k sessionKey, s *session) {
	for _, ps := range s.pending {
		d.pendingBytes -= len(ps.data)
		d.templateDrop(e, ps.id, ps.data, "the exporter's template session was forgotten")
	}
	for _, t := range s.templates {
		d.fields -= len(t.fields)
	}
	delete(e.sessions, k)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
