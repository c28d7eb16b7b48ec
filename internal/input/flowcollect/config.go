package flowcollect

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Defaults for the zero fields of Config.
const (
	DefaultBatchSize       = 1000
	DefaultFlushInterval   = 200 * time.Millisecond
	DefaultQueue           = 8192
	DefaultShutdownTimeout = 10 * time.Second
	DefaultRejectRate      = 10
	DefaultRejectBurst     = 100
)

// maxWorkers caps the default number of decoding workers.
const maxWorkers = 4

// Config configures the collector. An empty address disables its
// listener; zero limits take the defaults above.
type Config struct {
	// NetFlowAddr, IPFIXAddr and SFlowAddr are UDP listen addresses such
	// as ":2055", ":4739" and ":6343" (the config package applies those
	// defaults); "" disables the listener and port 0 picks a free port
	// (see Collector.Addrs). Every listener accepts every format: the
	// version field of each datagram decides how it is decoded.
	NetFlowAddr, IPFIXAddr, SFlowAddr string
	// BatchSize is the most events per Sink.Submit (default 1000).
	BatchSize int
	// FlushInterval is how long a partial batch waits for more events
	// (default 200ms).
	FlushInterval time.Duration
	// Queue is how many datagrams wait for decoding, over all workers,
	// before further ones are dropped and counted (default 8192).
	Queue int
	// Workers is how many goroutines decode and submit (default
	// GOMAXPROCS, at most 4). Datagrams of one exporter address always go
	// to the same worker, so its templates precede its data.
	Workers int
	// ShutdownTimeout bounds how long Run keeps retrying the last batches
	// after its context is done (default 10s); events still refused then
	// are counted as lost.
	ShutdownTimeout time.Duration
	// RejectRate and RejectBurst limit how many malformed packets and
	// dropped data sets per second go to the RejectRecorder (defaults 10
	// and 100), so that a flood does not fill the dead-letter table. All
	// are counted in the statistics.
	RejectRate, RejectBurst int
	// Decoder bounds the template and exporter state; its Reject field is
	// set by the collector.
	Decoder DecoderConfig
}

// withDefaults returns c with zero fields set to their defaults, or an
// error for a negative or unusable value.
func (c Config) withDefaults() (Config, error) {
	if c.NetFlowAddr == "" && c.IPFIXAddr == "" && c.SFlowAddr == "" {
		return c, errors.New("flowcollect: no listener configured (NetFlowAddr, IPFIXAddr and SFlowAddr are all empty)")
	}
	if c.BatchSize < 0 || c.FlushInterval < 0 || c.Queue < 0 || c.Workers < 0 || c.ShutdownTimeout < 0 ||
		c.RejectRate < 0 || c.RejectBurst < 0 {
		return c, errors.New("flowcollect: limits must not be negative")
	}
	if c.BatchSize > schema.MaxBatchEvents {
		return c, fmt.Errorf("flowcollect: BatchSize %d exceeds the ingest batch limit of %d",
			c.BatchSize, schema.MaxBatchEvents)
	}
	setDefault(&c.BatchSize, DefaultBatchSize)
	setDefault(&c.FlushInterval, DefaultFlushInterval)
	setDefault(&c.Queue, DefaultQueue)
	setDefault(&c.Workers, min(runtime.GOMAXPROCS(0), maxWorkers))
	setDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	setDefault(&c.RejectRate, DefaultRejectRate)
	setDefault(&c.RejectBurst, DefaultRejectBurst)
	c.Decoder = c.Decoder.withDefaults()
	return c, nil
}
