package statedb

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

// crockford is Crockford's base32 alphabet, as ULIDs use it: no I, L, O or
// U, and it sorts in the same order as the values it encodes.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idLen is the length of an ID: 128 bits in 5-bit characters.
const idLen = 26

// newID returns a ULID-like identifier: 48 bits of t's Unix milliseconds then
// 80 random bits, as 26 Crockford base32 characters. IDs of different
// milliseconds sort by time as strings; IDs within one millisecond are in
// random order.
func newID(t time.Time) string {
	var b [16]byte
	ms := uint64(max(t.UnixMilli(), 0)) & (1<<48 - 1)
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	rand.Read(b[6:]) // never fails (crypto/rand, Go 1.24 and later)
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	var out [idLen]byte
	for i := idLen - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// idTime returns the millisecond time encoded in an ID made by newID, and
// false when id is not one.
func idTime(id string) (time.Time, bool) {
	if len(id) != idLen {
		return time.Time{}, false
	}
	var hi, lo uint64
	for i := 0; i < idLen; i++ {
		v := indexCrockford(id[i])
		if v < 0 || (i == 0 && v > 7) {
			return time.Time{}, false
		}
		hi = hi<<5 | lo>>59
		lo = lo<<5 | uint64(v)
	}
	return time.UnixMilli(int64(hi >> 16)).UTC(), true
}

// indexCrockford returns the value of base32 character c, or -1.
func indexCrockford(c byte) int {
	for i := 0; i < len(crockford); i++ {
		if crockford[i] == c {
			return i
		}
	}
	return -1
}
