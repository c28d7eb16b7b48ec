package winlog

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Binary XML value types (MS-EVEN6 2.2.18), as they appear in template
// argument descriptors.
const (
	typeNull     = 0x00
	typeString   = 0x01
	typeBinary   = 0x0e
	typeBinXML   = 0x21
	typeArrayBit = 0x80
)

// Limits that keep a corrupt record from making the decoder work without
// bound.
const (
	maxDepth     = 32      // nested template bodies and BinXml arguments
	maxWork      = 1 << 18 // tokens and arguments walked per record
	recordHeader = 24      // magic, size, record id, time
)

// walker checks the binary XML of the records of one chunk before the
// velocidex decoder sees it, and rewrites the type of every typed template
// argument to "binary", so that the decoder hands the raw bytes back (as a
// slice of its chunk buffer, whose offset identifies the argument) instead
// of a lossy rendering: it cannot tell hex numbers from decimal ones, and
// renders signed integers, floats and SYSTEMTIME as raw bytes.
//
// It mirrors the decoder's reading exactly (same token grammar, same
// template cache keyed by template id, shared across the chunk), and rejects
// what the decoder would misread or spend unbounded work on: reads past the
// record, argument counts larger than the record, templates that are
// neither cached nor defined in place, deep nesting.
type walker struct {
	buf   []byte          // the chunk, modified in place
	limit int             // bytes of buf that hold data
	known map[uint32]bool // template ids the decoder has cached
	added []uint32        // ids cached while walking the current record
	types map[int]byte    // value offset -> original type of rewritten args
	end   int             // end of the current record
	work  int
}

func newWalker(buf []byte, limit int) *walker {
	return &walker{buf: buf, limit: limit, known: map[uint32]bool{}, types: map[int]byte{}}
}

var errTruncated = errors.New("binary XML runs past the end of the record")

// record walks the binary XML of the record at [start, end). On error the
// template ids it cached are forgotten, as the caller will blank the record
// so that the decoder never reads it.
func (w *walker) record(start, end int) error {
	w.end, w.work, w.added = end, 0, w.added[:0]
	_, err := w.binXML(start+recordHeader, 0)
	if err != nil {
		for _, id := range w.added {
			delete(w.known, id)
		}
	}
	return err
}

func (w *walker) u8(off int) (byte, error) {
	if off < 0 || off+1 > w.end {
		return 0, errTruncated
	}
	return w.buf[off], nil
}

func (w *walker) u16(off int) (uint16, error) {
	if off < 0 || off+2 > w.end {
		return 0, errTruncated
	}
	return binary.LittleEndian.Uint16(w.buf[off:]), nil
}

func (w *walker) u32(off int) (uint32, error) {
	if off < 0 || off+4 > w.end {
		return 0, errTruncated
	}
	return binary.LittleEndian.Uint32(w.buf[off:]), nil
}

// binXML walks a token stream from off up to and including its end token
// and returns the offset after it.
func (w *walker) binXML(off, depth int) (int, error) {
	if depth > maxDepth {
		return 0, errors.New("binary XML nested too deeply")
	}
	for {
		if w.work++; w.work > maxWork {
			return 0, errors.New("binary XML too complex")
		}
		tag, err := w.u8(off)
		if err != nil {
			return 0, err
		}
		off++
		switch tag {
		case 0x00: // end of stream
			return off, nil
		case 0x01, 0x41: // open start element
			if off, err = w.openElement(off, tag == 0x41); err != nil {
				return 0, err
			}
		case 0x02, 0x03, 0x04, 0x07, 0x47, 0x08, 0x48, 0x09, 0x49, 0x0a, 0x0b:
			// close tokens carry no data; CDATA, references and processing
			// instructions are skipped by the decoder the same way
		case 0x05, 0x45: // value text
			n, err := w.u16(off + 1)
			if err != nil {
				return 0, err
			}
			off += 3 + 2*int(n)
			if off > w.end {
				return 0, errTruncated
			}
		case 0x06, 0x46: // attribute
			if off, err = w.name(off); err != nil {
				return 0, err
			}
		case 0x0c: // template instance
			if off, err = w.template(off, depth); err != nil {
				return 0, err
			}
		case 0x0d, 0x0e: // substitutions
			t, err := w.u8(off + 2)
			if err != nil {
				return 0, err
			}
			off += 3
			if t == 0 {
				off++
			}
		case 0x0f: // fragment header
			off += 3
		default:
			return 0, fmt.Errorf("unknown binary XML token 0x%02x", tag)
		}
	}
}

// openElement walks an element start (dependency id, size, name, optional
// attribute list size).
func (w *walker) openElement(off int, hasAttrs bool) (int, error) {
	off, err := w.name(off + 6)
	if err != nil {
		return 0, err
	}
	if hasAttrs {
		off += 4
	}
	if off > w.end {
		return 0, errTruncated
	}
	return off, nil
}

// name walks a name reference: a chunk offset, with the name written in
// place when the offset points right after it.
func (w *walker) name(off int) (int, error) {
	ref, err := w.u32(off)
	if err != nil {
		return 0, err
	}
	off += 4
	if int(ref) != off {
		// The name is elsewhere in the chunk.
		at := int(ref)
		if at+8 > w.limit {
			return 0, fmt.Errorf("name offset 0x%x outside the chunk", ref)
		}
		n := int(binary.LittleEndian.Uint16(w.buf[at+6:]))
		if at+8+2*(n+1) > w.limit {
			return 0, fmt.Errorf("name at 0x%x runs past the chunk", ref)
		}
		return off, nil
	}
	n, err := w.u16(off + 6)
	if err != nil {
		return 0, err
	}
	off += 8 + 2*(int(n)+1)
	if off > w.end {
		return 0, errTruncated
	}
	return off, nil
}

// template walks a template instance: the template (defined in place the
// first time its id is used in the chunk) and its arguments.
func (w *walker) template(off, depth int) (int, error) {
	if b, err := w.u8(off); err != nil || b != 0x01 {
		return 0, errors.New("bad template instance")
	}
	id, err := w.u32(off + 1)
	if err != nil || id == 0 {
		return 0, errors.New("bad template id")
	}
	defOff, err := w.u32(off + 5)
	if err != nil {
		return 0, err
	}
	off += 9
	if !w.known[id] {
		if int(defOff) != off {
			return 0, fmt.Errorf("template 0x%x is defined in a record that could not be decoded", id)
		}
		size, err := w.u32(off + 20)
		if err != nil {
			return 0, err
		}
		body := off + 24
		w.known[id] = true
		w.added = append(w.added, id)
		if _, err := w.binXML(body, depth+1); err != nil {
			return 0, err
		}
		off = body + int(size)
		if off > w.end {
			return 0, errTruncated
		}
	}
	return w.args(off, depth)
}

// args walks a template's argument descriptors and values, rewriting typed
// arguments to binary and noting their original types.
func (w *walker) args(off, depth int) (int, error) {
	n, err := w.u32(off)
	if err != nil {
		return 0, err
	}
	off += 4
	if int(n) > (w.end-off)/4 {
		return 0, fmt.Errorf("%d template arguments do not fit in the record", n)
	}
	desc := off
	val := off + 4*int(n)
	for i := 0; i < int(n); i++ {
		if w.work++; w.work > maxWork {
			return 0, errors.New("binary XML too complex")
		}
		size := int(binary.LittleEndian.Uint16(w.buf[desc+4*i:]))
		typ := binary.LittleEndian.Uint16(w.buf[desc+4*i+2:])
		if val+size > w.end {
			return 0, errTruncated
		}
		switch typ {
		case typeNull, typeString:
		case typeBinXML:
			if _, err := w.binXML(val, depth+1); err != nil {
				return 0, err
			}
		default:
			if typ > 0xff {
				return 0, fmt.Errorf("unknown argument type 0x%x", typ)
			}
			if _, seen := w.types[val]; !seen {
				w.types[val] = byte(typ)
			}
			binary.LittleEndian.PutUint16(w.buf[desc+4*i+2:], typeBinary)
		}
		val += size
	}
	return val, nil
}
