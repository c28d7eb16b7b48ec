package ingest

import (
	"context"
	"errors"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// ErrBackpressure is returned by Submit when consumers lag further behind
// than the configured bound. HTTP inputs answer 429; stream inputs wait and
// retry, which slows their reads.
var ErrBackpressure = errors.New("ingest: consumers are behind; retry later")

// Sink accepts normalised events. Submit returns nil only once every event
// in evs is durable in the ingest log; only then may an input acknowledge
// them to their sender. Submit may keep evs' backing memory no longer than
// the call.
type Sink interface {
	Submit(ctx context.Context, evs []schema.Event) error
}

// Reject is one record an input could not accept.
type Reject struct {
	Time   time.Time
	Input  string // schema.Input* or listener name, e.g. "syslog"
	Source string // host or peer address the record came from
	Reason string // parse.Reason code
	Detail string // the error text
	Raw    []byte // the record, possibly truncated by the recorder
}

// RejectRecorder counts and keeps rejected records (dead letters). Record
// must not block for long and must be safe for concurrent use.
type RejectRecorder interface {
	Record(r Reject)
}
