// Package parse holds what every input parser shares: the error type that
// names why a record was rejected, so rejects can be counted per source and
// reason, and the limits inputs apply.
package parse

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Reasons a record is rejected. They are short, stable codes: they label
// metrics and dead-letter rows.
const (
	ReasonInvalidJSON   = "invalid_json"
	ReasonInvalidUTF8   = "invalid_utf8"
	ReasonOversized     = "oversized"
	ReasonEmpty         = "empty"
	ReasonBadTimestamp  = "bad_timestamp"
	ReasonMissingField  = "missing_field"
	ReasonBadSyslog     = "bad_syslog"
	ReasonBadZeek       = "bad_zeek"
	ReasonBadEVTX       = "bad_evtx"
	ReasonBadGzip       = "bad_gzip"
	ReasonBadBulkAction = "bad_bulk_action"
	ReasonUnknownFormat = "unknown_format"
	// ReasonBadFlow marks a malformed or truncated NetFlow, IPFIX or sFlow
	// datagram (or the part of it that could not be read).
	ReasonBadFlow = "bad_flow"
	// ReasonUnknownTemplate marks a NetFlow v9 or IPFIX data set whose
	// template never arrived.
	ReasonUnknownTemplate = "unknown_template"
)

// MaxRecordBytes is the default largest record an input accepts.
const MaxRecordBytes = 1 << 20

// Error is a rejected record: the reason code and what was wrong.
type Error struct {
	Reason string
	Err    error
}

// Error returns "reason: detail".
func (e *Error) Error() string { return e.Reason + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the reason and a formatted detail.
func Errorf(reason, format string, args ...any) error {
	return &Error{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Reason returns the reject reason of err: the Reason of the *Error it
// wraps, or "invalid" for any other error.
func Reason(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return "invalid"
}

// CheckRecord applies the checks every input makes before parsing a record:
// not empty, not over max bytes, valid UTF-8.
func CheckRecord(b []byte, max int) error {
	switch {
	case len(b) == 0:
		return Errorf(ReasonEmpty, "empty record")
	case max > 0 && len(b) > max:
		return Errorf(ReasonOversized, "record of %d bytes exceeds the limit of %d", len(b), max)
	case !utf8.Valid(b):
		return Errorf(ReasonInvalidUTF8, "record is not valid UTF-8")
	}
	return nil
}
