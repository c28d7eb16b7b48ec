package feed

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/vigil-soc/vigil/internal/intel"
)

// flexBool reads a MISP boolean written as true/false, 1/0 or "1"/"0".
type flexBool bool

// UnmarshalJSON accepts the boolean spellings of MISP exports.
func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	switch strings.ToLower(s) {
	case "true", "1":
		*b = true
	case "false", "0", "", "null":
		*b = false
	default:
		return fmt.Errorf("not a boolean: %s", data)
	}
	return nil
}

// flexInt reads a MISP integer written as a number or a string.
type flexInt int64

// UnmarshalJSON accepts 1472541011 and "1472541011".
func (n *flexInt) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %s", data)
	}
	*n = flexInt(v)
	return nil
}

// mispTag is a MISP tag; only its name matters.
type mispTag struct {
	Name string `json:"name"`
}

// mispEvent is the part of a MISP event Vigil reads. Attributes are kept
// raw so one malformed attribute does not lose the others.
type mispEvent struct {
	UUID      string            `json:"uuid"`
	Info      string            `json:"info"`
	Timestamp flexInt           `json:"timestamp"`
	Tag       []mispTag         `json:"Tag"`
	Attribute []json.RawMessage `json:"Attribute"`
	Object    []json.RawMessage `json:"Object"`
}

// mispObject is a MISP object grouping attributes.
type mispObject struct {
	UUID      string            `json:"uuid"`
	Name      string            `json:"name"`
	Deleted   flexBool          `json:"deleted"`
	Attribute []json.RawMessage `json:"Attribute"`
}

// mispAttribute is one MISP attribute.
type mispAttribute struct {
	UUID    string    `json:"uuid"`
	Type    string    `json:"type"`
	Value   string    `json:"value"`
	Comment string    `json:"comment"`
	ToIDs   flexBool  `json:"to_ids"`
	Deleted flexBool  `json:"deleted"`
	Tag     []mispTag `json:"Tag"`
}

// ReadMISPEvent reads a MISP event file as MISP feeds and exports write
// it: {"Event": {...}}, a bare event object, a list of either, or a REST
// search answer {"response": [...]}. Only to_ids attributes that are not
// deleted become indicators (see MISPAttribute for the types); the others
// are skipped silently, and to_ids attributes of unsupported types or
// with bad values become Problems at "where: attribute <uuid>". The error
// is for a document that is not a MISP event at all.
func ReadMISPEvent(data []byte, where string) ([]intel.Indicator, []intel.Problem, error) {
	events, err := splitMISPEvents(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", where, err)
	}
	var (
		out   []intel.Indicator
		probs []intel.Problem
	)
	for i, raw := range events {
		w := where
		if len(events) > 1 {
			w = fmt.Sprintf("%s: event %d", where, i)
		}
		var ev mispEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			probs = append(probs, intel.Problem{Where: w, Reason: "not a MISP event: " + err.Error()})
			continue
		}
		ins, ps := ev.indicators(w)
		out = append(out, ins...)
		probs = append(probs, ps...)
	}
	return out, probs, nil
}

// splitMISPEvents returns the raw event objects of a document. Items of a
// list or search answer that are not events stay in the result and become
// Problems when they are read.
func splitMISPEvents(data []byte) ([]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("not a MISP event list: %w", err)
		}
		for i := range list {
			list[i] = unwrapEvent(list[i])
		}
		return list, nil
	}
	var doc struct {
		Event     json.RawMessage   `json:"Event"`
		Response  []json.RawMessage `json:"response"`
		Attribute json.RawMessage   `json:"Attribute"`
		Info      json.RawMessage   `json:"info"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a MISP event: %w", err)
	}
	switch {
	case len(doc.Event) > 0 && !bytes.Equal(doc.Event, []byte("null")):
		return []json.RawMessage{doc.Event}, nil
	case doc.Response != nil:
		for i := range doc.Response {
			doc.Response[i] = unwrapEvent(doc.Response[i])
		}
		return doc.Response, nil
	case doc.Attribute != nil || doc.Info != nil:
		return []json.RawMessage{data}, nil
	}
	return nil, errors.New("not a MISP event: no Event, Attribute or info key")
}

// unwrapEvent returns the event inside {"Event": {...}}, else item.
func unwrapEvent(item json.RawMessage) json.RawMessage {
	var w struct {
		Event json.RawMessage `json:"Event"`
	}
	if json.Unmarshal(item, &w) == nil && len(w.Event) > 0 && !bytes.Equal(w.Event, []byte("null")) {
		return w.Event
	}
	return item
}

// indicators converts the event's attributes, those of its objects
// included.
func (ev *mispEvent) indicators(where string) ([]intel.Indicator, []intel.Problem) {
	var (
		out   []intel.Indicator
		probs []intel.Problem
	)
	tags := make([]string, 0, len(ev.Tag))
	for _, t := range ev.Tag {
		tags = appendTag(tags, t.Name)
	}
	add := func(raws []json.RawMessage, scope string) {
		for i, raw := range raws {
			var a mispAttribute
			if err := json.Unmarshal(raw, &a); err != nil {
				probs = append(probs, intel.Problem{Where: where + ": " + scope + "attribute " + attributeID(raw, i),
					Reason: "bad attribute: " + err.Error()})
				continue
			}
			if !bool(a.ToIDs) || bool(a.Deleted) {
				continue
			}
			ins, err := MISPAttribute(a.Type, a.Value)
			if err != nil {
				probs = append(probs, intel.Problem{Where: where + ": " + scope + "attribute " + attributeID(raw, i),
					Reason: err.Error()})
				continue
			}
			for _, in := range ins {
				in.ID, in.Threat, in.Description = a.UUID, ev.Info, a.Comment
				in.Tags = append([]string(nil), tags...)
				for _, t := range a.Tag {
					in.Tags = appendTag(in.Tags, t.Name)
				}
				out = append(out, in)
			}
		}
	}
	add(ev.Attribute, "")
	for i, raw := range ev.Object {
		var o mispObject
		if err := json.Unmarshal(raw, &o); err != nil {
			probs = append(probs, intel.Problem{Where: fmt.Sprintf("%s: object %d", where, i),
				Reason: "bad object: " + err.Error()})
			continue
		}
		if !bool(o.Deleted) {
			add(o.Attribute, "object "+o.Name+" ")
		}
	}
	return out, probs
}

// attributeID names an attribute by its uuid, else its index.
func attributeID(raw json.RawMessage, i int) string {
	var a struct {
		UUID string `json:"uuid"`
	}
	if json.Unmarshal(raw, &a) == nil && a.UUID != "" {
		return a.UUID
	}
	return strconv.Itoa(i)
}

func appendTag(tags []string, t string) []string {
	t = strings.TrimSpace(t)
	if t == "" || contains(tags, t) {
		return tags
	}
	return append(tags, t)
}

// MISPAttribute converts one MISP attribute type and value into
// indicators: ip-src, ip-dst (ip); ip-src|port, ip-dst|port (ip with a
// source.port or destination.port condition); domain, hostname (domain);
// domain|ip (a domain and an ip indicator); url; md5, sha1, sha256,
// sha512; filename|md5, filename|sha1, filename|sha256, filename|sha512
// (the hash); email, email-src, email-dst; ja3-fingerprint-md5 (ja3). Any
// other type is an error naming it.
func MISPAttribute(typ, value string) ([]intel.Indicator, error) {
	one := func(t intel.Type, v string) ([]intel.Indicator, error) {
		norm, err := intel.Normalize(t, v)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", typ, value, err)
		}
		return []intel.Indicator{{Type: t, Value: norm, Confidence: -1}}, nil
	}
	switch typ {
	case "ip-src", "ip-dst":
		return one(intel.TypeIP, value)
	case "ip-src|port", "ip-dst|port":
		return mispIPPort(typ, value)
	case "domain", "hostname":
		return one(intel.TypeDomain, value)
	case "url":
		return one(intel.TypeURL, value)
	case "md5", "sha1", "sha256", "sha512":
		t, _ := intel.ParseType(typ)
		return one(t, value)
	case "filename|md5", "filename|sha1", "filename|sha256", "filename|sha512":
		t, _ := intel.ParseType(strings.TrimPrefix(typ, "filename|"))
		_, hash, ok := strings.Cut(value, "|")
		if !ok {
			return nil, fmt.Errorf("%s %q: want filename|hash", typ, value)
		}
		return one(t, hash)
	case "email", "email-src", "email-dst":
		return one(intel.TypeEmail, value)
	case "ja3-fingerprint-md5":
		return one(intel.TypeJA3, value)
	case "domain|ip":
		name, ip, ok := strings.Cut(value, "|")
		if !ok {
			return nil, fmt.Errorf("%s %q: want domain|ip", typ, value)
		}
		d, err := one(intel.TypeDomain, name)
		if err != nil {
			return nil, err
		}
		a, err := one(intel.TypeIP, ip)
		if err != nil {
			return nil, err
		}
		return append(d, a...), nil
	}
	return nil, fmt.Errorf("attribute type %q is not supported", typ)
}

// mispIPPort reads "1.2.3.4|443" (or "1.2.3.4:443", "[2001:db8::1]:443").
func mispIPPort(typ, value string) ([]intel.Indicator, error) {
	field := PortField
	if typ == "ip-src|port" {
		field = "source.port"
	}
	ip, port, ok := strings.Cut(value, "|")
	if !ok {
		ap, err := netip.ParseAddrPort(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("%s %q: want ip|port", typ, value)
		}
		ip, port = ap.Addr().String(), strconv.Itoa(int(ap.Port()))
	}
	port = strings.TrimSpace(port)
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("%s %q: port %q is not a port number", typ, value, port)
	}
	norm, err := intel.Normalize(intel.TypeIP, ip)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", typ, value, err)
	}
	return []intel.Indicator{{Type: intel.TypeIP, Value: norm, Confidence: -1,
		Also: []intel.Condition{{Field: field, Value: port}}}}, nil
}
