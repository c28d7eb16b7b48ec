package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/risk"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// IntelService is what the API needs of threat intelligence.
type IntelService interface {
	// Status returns every source's fetch status.
	Status(ctx context.Context) ([]intel.SourceStatus, error)
	// Import loads a one-off file (STIX bundle, MISP event, list or CSV)
	// as source name and retro-hunts what is new.
	Import(ctx context.Context, name, format string, data []byte) (IntelImport, error)
}

// IntelImport is the outcome of an intel import.
type IntelImport struct {
	Source     string          `json:"source"`
	Format     string          `json:"format"`
	Indicators int             `json:"indicators"`
	New        int             `json:"new"`
	Problems   []intel.Problem `json:"problems"`
	// RetroAlerts counts the alerts the retro-hunt raised or grew.
	RetroAlerts int `json:"retro_alerts"`
}

// HostDetail is GET /api/v1/hosts/{id}: a host's risk and why, its open
// alerts, its inventory entry and its top peers.
type HostDetail struct {
	risk.HostRisk
	Asset  *schema.Asset     `json:"asset,omitempty"`
	Open   []schema.Alert    `json:"open_alerts"`
	Peers  []eventstore.Edge `json:"top_peers"`
	Window string            `json:"peers_window"`
}

func (s *Server) hostRoutes(read, write []string) {
	m := s.mux
	m.Handle("GET /api/v1/hosts", s.auth(s.handleHosts, read...))
	m.Handle("GET /api/v1/hosts/{id}", s.auth(s.handleHost, read...))
	m.Handle("GET /api/v1/intel/sources", s.auth(s.handleIntelSources, read...))
	m.Handle("POST /api/v1/intel/import", s.auth(s.handleIntelImport, write...))
}

func (s *Server) handleHosts(w http.ResponseWriter, r *http.Request) {
	if s.Risk == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("host risk is not available"))
		return
	}
	hosts, err := s.Risk.Hosts(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if err := risk.SortHosts(hosts, r.URL.Query().Get("sort")); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, errors.New("limit: want a positive number"))
			return
		}
		hosts = hosts[:min(n, len(hosts))]
	}
	if hosts == nil {
		hosts = []risk.HostRisk{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"hosts": hosts})
}

func (s *Server) handleHost(w http.ResponseWriter, r *http.Request) {
	d, ok, err := HostDetailOf(r.Context(), s.Deps, r.PathValue("id"))
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	case !ok:
		writeError(w, http.StatusNotFound, fmt.Errorf("no host %q with open alerts", r.PathValue("id")))
	default:
		writeJSON(w, http.StatusOK, d)
	}
}

// HostDetailOf assembles GET /api/v1/hosts/{id} from d's risk service,
// state and event store; ok is false when no host with open alerts has
// that name, alias or asset id.
func HostDetailOf(ctx context.Context, d Deps, id string) (HostDetail, bool, error) {
	if d.Risk == nil {
		return HostDetail{}, false, errors.New("host risk is not available")
	}
	h, ok, err := d.Risk.Host(ctx, id)
	if err != nil || !ok {
		return HostDetail{}, ok, err
	}
	out := HostDetail{HostRisk: h, Open: []schema.Alert{}, Window: "24h"}
	for _, id := range h.AlertIDs[:min(100, len(h.AlertIDs))] {
		a, err := d.State.Alert(ctx, id)
		if err != nil && !errors.Is(err, statedb.ErrNotFound) {
			return out, false, err
		}
		if err == nil {
			out.Open = append(out.Open, a)
		}
	}
	if d.Risk.Assets != nil {
		if as := d.Risk.Assets(); as != nil {
			for _, alias := range append([]string{h.Host}, h.Aliases...) {
				if a, ok := as.AssetFor(alias); ok {
					out.Asset = &a
					break
				}
			}
		}
	}
	out.Peers, err = topPeers(ctx, d.Events, h.Aliases, 24*time.Hour, 10)
	return out, true, err
}

// topPeers returns the largest flow edges of the host's addresses over the
// last window.
func topPeers(ctx context.Context, events *eventstore.Store, aliases []string, window time.Duration, n int) ([]eventstore.Edge, error) {
	out := []eventstore.Edge{}
	if events == nil {
		return out, nil
	}
	to := time.Now().UTC()
	for _, a := range aliases {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			continue
		}
		edges, err := events.Graph(ctx, eventstore.GraphRequest{From: to.Add(-window), To: to,
			Subnet: netip.PrefixFrom(ip, ip.BitLen()), Limit: n})
		if err != nil {
			return nil, err
		}
		out = append(out, edges...)
	}
	slices.SortFunc(out, func(a, b eventstore.Edge) int { return cmp.Compare(b.BytesOut+b.BytesIn, a.BytesOut+a.BytesIn) })
	return out[:min(n, len(out))], nil
}

func (s *Server) handleIntelSources(w http.ResponseWriter, r *http.Request) {
	if s.Intel == nil {
		writeJSON(w, http.StatusOK, map[string]any{"sources": []intel.SourceStatus{}})
		return
	}
	st, err := s.Intel.Status(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if st == nil {
		st = []intel.SourceStatus{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": st})
}

// handleIntelImport takes a file body; ?format= (stix, misp, list, csv;
// default: recognised from the content) and ?name= (the source name;
// default "import").
func (s *Server) handleIntelImport(w http.ResponseWriter, r *http.Request) {
	if s.Intel == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("threat intel is not available"))
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, err)
		return
	}
	name := cmp.Or(r.URL.Query().Get("name"), "import")
	res, err := s.Intel.Import(r.Context(), name, r.URL.Query().Get("format"), data)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	s.audit(r, "intel.import", "intel_source", name, nil, map[string]any{"format": res.Format,
		"indicators": res.Indicators, "new": res.New})
	writeJSON(w, http.StatusOK, res)
}
