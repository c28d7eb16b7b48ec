package syslognet

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// Defaults for the zero fields of Config.
const (
	DefaultMaxMessage      = 64 << 10
	DefaultBatchSize       = 512
	DefaultFlushInterval   = 100 * time.Millisecond
	DefaultUDPQueue        = 8192
	DefaultMaxConns        = 1024
	DefaultShutdownTimeout = 10 * time.Second
)

// maxUDPWorkers caps the default number of UDP parse workers.
const maxUDPWorkers = 4

// Config configures the listeners. An empty address disables its listener;
// zero limits take the defaults above.
type Config struct {
	// UDP, TCP and TLS are listen addresses such as "127.0.0.1:5514" or
	// ":6514"; "" disables the listener. Port 0 picks a free port (see
	// Server.Addrs).
	UDP, TCP, TLS string
	// CertFile and KeyFile are the TLS listener's PEM certificate and key.
	// When both are empty, New makes or reuses a self-signed pair in DataDir
	// with EnsureSelfSigned.
	CertFile, KeyFile string
	// DataDir holds the self-signed pair when CertFile and KeyFile are empty.
	DataDir string
	// MaxMessage is the largest message accepted, in bytes (default 64 KiB).
	// Longer messages are rejected with parse.ReasonOversized; on TCP the
	// frame is skipped and the connection kept.
	MaxMessage int
	// BatchSize is the most events per Sink.Submit (default 512).
	BatchSize int
	// FlushInterval is how long a partial batch waits for more events
	// before it is submitted (default 100ms).
	FlushInterval time.Duration
	// UDPQueue is how many datagrams wait for parsing before further ones
	// are dropped and counted in Stats.UDPDropped (default 8192).
	UDPQueue int
	// UDPWorkers is how many goroutines parse and submit datagrams (default
	// GOMAXPROCS, at most 4).
	UDPWorkers int
	// MaxConns is the most TCP and TLS connections open at once (default
	// 1024); further connections are closed on arrival and counted in
	// Stats.Refused.
	MaxConns int
	// ShutdownTimeout bounds how long Run keeps retrying the last batches
	// after its context is done (default 10s). Events still refused by the
	// sink then are counted in Stats.Lost.
	ShutdownTimeout time.Duration
}

// withDefaults returns c with zero fields set to their defaults, or an
// error for a negative or unusable value.
func (c Config) withDefaults() (Config, error) {
	if c.UDP == "" && c.TCP == "" && c.TLS == "" {
		return c, errors.New("syslognet: no listener configured (UDP, TCP and TLS are all empty)")
	}
	if c.MaxMessage < 0 || c.BatchSize < 0 || c.FlushInterval < 0 || c.UDPQueue < 0 ||
		c.UDPWorkers < 0 || c.MaxConns < 0 || c.ShutdownTimeout < 0 {
		return c, errors.New("syslognet: limits must not be negative")
	}
	if c.BatchSize > schema.MaxBatchEvents {
		return c, fmt.Errorf("syslognet: BatchSize %d exceeds the ingest batch limit of %d",
			c.BatchSize, schema.MaxBatchEvents)
	}
	setDefault(&c.MaxMessage, DefaultMaxMessage)
	setDefault(&c.BatchSize, DefaultBatchSize)
	setDefault(&c.FlushInterval, DefaultFlushInterval)
	setDefault(&c.UDPQueue, DefaultUDPQueue)
	setDefault(&c.UDPWorkers, min(runtime.GOMAXPROCS(0), maxUDPWorkers))
	setDefault(&c.MaxConns, DefaultMaxConns)
	setDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	if (c.CertFile == "") != (c.KeyFile == "") {
		return c, errors.New("syslognet: set both CertFile and KeyFile, or neither")
	}
	if c.TLS != "" && c.CertFile == "" && c.DataDir == "" {
		return c, errors.New("syslognet: the TLS listener needs CertFile and KeyFile, or DataDir for a self-signed pair")
	}
	return c, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// Stats are the listeners' counters since New. Every message received ends
// up accepted, rejected, dropped or lost, or is still being processed.
type Stats struct {
	// Received counts messages: frames read from TCP and TLS connections
	// plus datagrams read from UDP.
	Received uint64
	// Accepted counts events the sink accepted.
	Accepted uint64
	// Rejected counts messages rejected for framing or parsing; each went to
	// the RejectRecorder.
	Rejected uint64
	// UDPDropped counts datagrams dropped because the UDP queue was full.
	UDPDropped uint64
	// Lost counts parsed events abandoned because the sink still refused
	// them when the shutdown timeout expired.
	Lost uint64
	// Connections is the number of TCP and TLS connections open now.
	Connections int64
	// Refused counts connections closed on arrival because MaxConns were
	// open.
	Refused uint64
}

// counters are the atomics behind Stats.
type counters struct {
	received, accepted, rejected, udpDropped, lost, refused atomic.Uint64
	connections                                             atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Received:    c.received.Load(),
		Accepted:    c.accepted.Load(),
		Rejected:    c.rejected.Load(),
		UDPDropped:  c.udpDropped.Load(),
		Lost:        c.lost.Load(),
		Connections: c.connections.Load(),
		Refused:     c.refused.Load(),
	}
}
