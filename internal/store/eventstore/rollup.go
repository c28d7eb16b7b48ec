package eventstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// flowEdgesDDL is the hourly who-talks-to-whom rollup: one row per hour,
// source, destination, transport and destination port, summed from every
// flow event stored. The graph API reads it instead of raw flows.
const flowEdgesDDL = `CREATE TABLE flow_edges (
	hour       TIMESTAMP NOT NULL,
	src        VARCHAR   NOT NULL,
	dst        VARCHAR   NOT NULL,
	proto      UTINYINT  NOT NULL,
	dport      USMALLINT NOT NULL,
	bytes_out  BIGINT    NOT NULL,
	bytes_in   BIGINT    NOT NULL,
	packets    BIGINT    NOT NULL,
	conns      BIGINT    NOT NULL,
	failed     BIGINT    NOT NULL,
	first_seen TIMESTAMP NOT NULL,
	last_seen  TIMESTAMP NOT NULL,
	PRIMARY KEY (hour, src, dst, proto, dport)
);`

type edgeKey struct {
	hour     int64
	src, dst string
	proto    uint8
	dport    uint16
}

type edgeSum struct {
	bytesOut, bytesIn, packets, conns, failed int64
	first, last                               time.Time
}

// rollupFlows sums the flow events among evs (only those at idx) per hour
// and edge.
func rollupFlows(evs []schema.Event, batches []*dayBatch) map[edgeKey]*edgeSum {
	sums := map[edgeKey]*edgeSum{}
	var r flow.Record
	for _, b := range batches {
		for _, i := range b.idx {
			if !flow.FromEvent(&evs[i], &r) || r.Kind != flow.KindFlow {
				continue
			}
			t := r.Start.UTC()
			k := edgeKey{hour: t.Truncate(time.Hour).Unix(), src: r.Src.String(), dst: r.Dst.String(),
				proto: r.Proto, dport: r.DstPort}
			s := sums[k]
			if s == nil {
				s = &edgeSum{first: t, last: t}
				sums[k] = s
			}
			s.bytesOut += r.BytesOut
			s.bytesIn += r.BytesIn
			s.packets += r.Packets()
			s.conns++
			if r.State.Failed() {
				s.failed++
			}
			if t.Before(s.first) {
				s.first = t
			}
			if end := r.End.UTC(); end.After(s.last) {
				s.last = end
			}
		}
	}
	return sums
}

// upsertEdges adds the sums to flow_edges inside the write transaction.
func upsertEdges(ctx context.Context, dc driver.Conn, sums map[edgeKey]*edgeSum) error {
	if len(sums) == 0 {
		return nil
	}
	keys := make([]edgeKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	const chunk = 400
	for len(keys) > 0 {
		n := min(chunk, len(keys))
		var sb strings.Builder
		sb.WriteString(`INSERT INTO flow_edges VALUES `)
		args := make([]any, 0, n*12)
		for i, k := range keys[:n] {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(`(?,?,?,?,?,?,?,?,?,?,?,?)`)
			s := sums[k]
			args = append(args, time.Unix(k.hour, 0).UTC(), k.src, k.dst, k.proto, k.dport, s.bytesOut, s.bytesIn,
				s.packets, s.conns, s.failed, s.first, s.last)
		}
		sb.WriteString(` ON CONFLICT DO UPDATE SET bytes_out = bytes_out + excluded.bytes_out,
bytes_in = bytes_in + excluded.bytes_in, packets = packets + excluded.packets, conns = conns + excluded.conns,
failed = failed + excluded.failed, first_seen = least(first_seen, excluded.first_seen),
last_seen = greatest(last_seen, excluded.last_seen)`)
		if _, err := execDriver(ctx, dc, sb.String(), args...); err != nil {
			return fmt.Errorf("flow rollup: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}

// GraphRequest selects the edges of the who-talks-to-whom graph.
type GraphRequest struct {
	// From and To bound the window; it is widened to whole hours.
	From, To time.Time
	// Subnet keeps edges with either end inside it (optional).
	Subnet netip.Prefix
	// Port keeps edges to this destination port (0: all).
	Port uint16
	// MinBytes drops edges carrying fewer bytes both ways.
	MinBytes int64
	// Limit caps the edges returned, largest first (default 5,000).
	Limit int
}

// Edge is one aggregated source → destination edge of the graph.
type Edge struct {
	Src       string    `json:"src"`
	Dst       string    `json:"dst"`
	BytesOut  int64     `json:"bytes_out"`
	BytesIn   int64     `json:"bytes_in"`
	Packets   int64     `json:"packets"`
	Conns     int64     `json:"connections"`
	Failed    int64     `json:"failed"`
	Ports     []int     `json:"ports"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// maxEdgePorts caps the destination ports listed per edge.
const maxEdgePorts = 20

// Graph returns the edges of the window, summed over its hours, largest
// first.
func (s *Store) Graph(ctx context.Context, req GraphRequest) ([]Edge, error) {
	if req.Limit <= 0 {
		req.Limit = 5000
	}
	from := req.From.UTC().Truncate(time.Hour)
	to := req.To.UTC()
	where := []string{"hour >= ?", "hour < ?"}
	args := []any{from, to}
	if req.Port != 0 {
		where = append(where, "dport = ?")
		args = append(args, req.Port)
	}
	q := `SELECT src, dst, sum(bytes_out)::BIGINT, sum(bytes_in)::BIGINT, sum(packets)::BIGINT, sum(conns)::BIGINT,
sum(failed)::BIGINT, list_sort(list_distinct(list(dport::INTEGER)))[1:` + fmt.Sprint(maxEdgePorts) + `], min(first_seen), max(last_seen)
FROM flow_edges WHERE ` + strings.Join(where, " AND ") + `
GROUP BY src, dst HAVING sum(bytes_out) + sum(bytes_in) >= ? ORDER BY sum(bytes_out) + sum(bytes_in) DESC`
	args = append(args, req.MinBytes)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("eventstore: graph: %w", err)
	}
	defer rows.Close()
	var out []Edge
	for rows.Next() && len(out) < req.Limit {
		var e Edge
		var ports []any
		if err := rows.Scan(&e.Src, &e.Dst, &e.BytesOut, &e.BytesIn, &e.Packets, &e.Conns, &e.Failed, &ports,
			&e.FirstSeen, &e.LastSeen); err != nil {
			return nil, fmt.Errorf("eventstore: graph: %w", err)
		}
		if req.Subnet.IsValid() && !inPrefix(req.Subnet, e.Src) && !inPrefix(req.Subnet, e.Dst) {
			continue
		}
		for _, p := range ports {
			if v, ok := p.(int32); ok {
				e.Ports = append(e.Ports, int(v))
			}
		}
		slices.Sort(e.Ports)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("eventstore: graph: %w", err)
	}
	return out, nil
}

func inPrefix(p netip.Prefix, s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && p.Contains(a.Unmap())
}
