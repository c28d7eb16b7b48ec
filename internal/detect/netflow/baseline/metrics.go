package baseline

import (
	"math"
	"math/bits"
)

// Metric indices. The first numAlert metrics are checked for deviations;
// bytes_out_unexplained only feeds the exfiltration check and the console.
const (
	mBytesOut = iota
	mBytesIn
	mPackets
	mConns
	mDstIPs
	mDstPorts
	mExtDsts
	mUnexplained
	numMetrics
)

// numAlert is how many metrics raise deviation signals.
const numAlert = mUnexplained

// Metric names, as they appear in signals, the read API and configuration.
const (
	MetricBytesOut    = "bytes_out"
	MetricBytesIn     = "bytes_in"
	MetricPackets     = "packets"
	MetricConnections = "connections"
	MetricDstIPs      = "dst_ips"
	MetricDstPorts    = "dst_ports"
	MetricExtDsts     = "ext_dsts"
	MetricUnexplained = "bytes_out_unexplained"
)

// metricName returns the name of metric index i.
func metricName(i int) string {
	switch i {
	case mBytesOut:
		return MetricBytesOut
	case mBytesIn:
		return MetricBytesIn
	case mPackets:
		return MetricPackets
	case mConns:
		return MetricConnections
	case mDstIPs:
		return MetricDstIPs
	case mDstPorts:
		return MetricDstPorts
	case mExtDsts:
		return MetricExtDsts
	case mUnexplained:
		return MetricUnexplained
	}
	return ""
}

// isBytes reports whether metric i counts bytes.
func isBytes(i int) bool { return i == mBytesOut || i == mBytesIn || i == mUnexplained }

// metricWeight scales a deviation's score: outbound volume and the spread
// of external destinations matter most, inbound volume and packets least.
func metricWeight(i int) float64 {
	switch i {
	case mBytesIn, mPackets:
		return 0.6
	case mConns:
		return 0.75
	case mDstIPs, mDstPorts:
		return 0.85
	}
	return 1
}

// Metrics returns the names of the metrics the analyzer keeps per host and
// subnet, in display order.
func Metrics() []string {
	out := make([]string, numMetrics)
	for i := range out {
		out[i] = metricName(i)
	}
	return out
}

func metricIndex(name string) int {
	for i := range numMetrics {
		if metricName(i) == name {
			return i
		}
	}
	return -1
}

// Hourly values are stored as 16-bit codes: integers below 2048 exactly,
// larger values as an 11-bit mantissa and a binary exponent, rounded to
// nearest (relative error at most 2^-11, about 0.05%), saturating at 2^64.
const (
	exactCodes = 2048
	maxCode    = exactCodes + 52*1024 + 1023 // exponent 53, largest mantissa
)

// encode returns the 16-bit code of v.
func encode(v uint64) uint16 {
	if v < exactCodes {
		return uint16(v)
	}
	e := bits.Len64(v) - 11 // v>>e is in [1024, 2047]
	m := (v >> e) + (v>>(e-1))&1
	if m == 2048 {
		m = 1024
		e++
	}
	if e > 53 {
		return maxCode + 1
	}
	return uint16(exactCodes + (e-1)*1024 + int(m-1024))
}

// decode returns the value of a 16-bit code.
func decode(c uint16) float64 {
	if c < exactCodes {
		return float64(c)
	}
	if c > maxCode {
		return float64(uint64(math.MaxUint64)) // saturated
	}
	x := int(c) - exactCodes
	e := x/1024 + 1
	m := uint64(x%1024 + 1024)
	return float64(m << e)
}
