package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/vigil-soc/vigil/internal/asset"
	"github.com/vigil-soc/vigil/internal/store/eventstore"
	"github.com/vigil-soc/vigil/internal/store/statedb"
	"github.com/vigil-soc/vigil/internal/timeexpr"
)

// maxAssetBody bounds a JSON asset body.
const maxAssetBody = 1 << 20

// defaultUnknownWindow is how far back GET /api/v1/assets/unknown looks
// unless since= says otherwise.
const defaultUnknownWindow = 7 * 24 * time.Hour

// maxUnknownEdges caps the traffic edges discovery reads from the flow
// rollup (the largest first).
const maxUnknownEdges = 50_000

// assetRoutes registers the asset inventory endpoints: reads for admin,
// analyst and viewer tokens, writes for admin and analyst tokens.
func (s *Server) assetRoutes() {
	m := s.mux
	read := []string{statedb.RoleAdmin, statedb.RoleAnalyst, statedb.RoleViewer}
	write := []string{statedb.RoleAdmin, statedb.RoleAnalyst}
	m.Handle("GET /api/v1/assets", s.auth(s.handleAssets, read...))
	m.Handle("POST /api/v1/assets", s.auth(s.handleCreateAsset, write...))
	m.Handle("GET /api/v1/assets/unknown", s.auth(s.handleUnknownAssets, read...))
	m.Handle("POST /api/v1/assets/import", s.auth(s.handleImportAssets, write...))
	m.Handle("GET /api/v1/assets/{id}", s.auth(s.handleAsset, read...))
	m.Handle("PATCH /api/v1/assets/{id}", s.auth(s.handleUpdateAsset, write...))
	m.Handle("DELETE /api/v1/assets/{id}", s.auth(s.handleDeleteAsset, write...))
}

// assetsChanged tells the listener, if any, that the inventory changed.
func (s *Server) assetsChanged() {
	if s.AssetsChanged != nil {
		s.AssetsChanged()
	}
}

// writeAssetError answers a statedb error with the matching status.
func writeAssetError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, statedb.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, statedb.ErrInvalidAsset):
		status = http.StatusBadRequest
	case errors.Is(err, statedb.ErrAssetConflict):
		status = http.StatusConflict
	}
	writeError(w, status, err)
}

// decodeAssetJSON reads a JSON body into v, refusing unknown fields and
// trailing data.
func decodeAssetJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAssetBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return errors.New("body: more than one JSON value")
	}
	return nil
}

// handleAssets serves GET /api/v1/assets with filters q, role,
// criticality, tag and limit.
func (s *Server) handleAssets(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	q := r.URL.Query()
	list, err := s.State.Assets(r.Context(), statedb.AssetFilter{Query: q.Get("q"), Role: q.Get("role"),
		Criticality: q.Get("criticality"), Tag: q.Get("tag"), Limit: limit})
	if err != nil {
		writeAssetError(w, err)
		return
	}
	v, err := s.State.AssetsVersion(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"assets": list, "count": len(list), "version": v})
}

// handleAsset serves GET /api/v1/assets/{id}.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) {
	a, err := s.State.Asset(r.Context(), r.PathValue("id"))
	if err != nil {
		writeAssetError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// assetInput is the body of POST /api/v1/assets: an asset's editable
// fields.
type assetInput struct {
	Hostname        string   `json:"hostname"`
	Addresses       []string `json:"addresses"`
	MAC             string   `json:"mac"`
	Owner           string   `json:"owner"`
	Role            string   `json:"role"`
	Criticality     string   `json:"criticality"`
	Tags            []string `json:"tags"`
	ExpectedSources []string `json:"expected_sources"`
	Notes           string   `json:"notes"`
}

// handleCreateAsset serves POST /api/v1/assets.
func (s *Server) handleCreateAsset(w http.ResponseWriter, r *http.Request) {
	var in assetInput
	if err := decodeAssetJSON(w, r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	a, err := s.State.CreateAsset(r.Context(), statedb.Asset{Hostname: in.Hostname, Addresses: in.Addresses,
		MAC: in.MAC, Owner: in.Owner, Role: in.Role, Criticality: in.Criticality, Tags: in.Tags,
		ExpectedSources: in.ExpectedSources, Notes: in.Notes})
	if err != nil {
		writeAssetError(w, err)
		return
	}
	s.log.Info("asset created", "id", a.ID, "hostname", a.Hostname, "by", actor(r.Context()))
	s.audit(r, "asset.create", "asset", a.ID, nil, a)
	s.assetsChanged()
	writeJSON(w, http.StatusCreated, a)
}

// handleUpdateAsset serves PATCH /api/v1/assets/{id}: the body's fields
// replace the asset's, absent ones are kept. It answers the asset before
// and after.
func (s *Server) handleUpdateAsset(w http.ResponseWriter, r *http.Request) {
	var p statedb.AssetPatch
	if err := decodeAssetJSON(w, r, &p); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	before, after, err := s.State.UpdateAsset(r.Context(), r.PathValue("id"), p)
	if err != nil {
		writeAssetError(w, err)
		return
	}
	changed := !after.Updated.Equal(before.Updated)
	if changed {
		s.log.Info("asset updated", "id", after.ID, "hostname", after.Hostname, "by", actor(r.Context()))
		s.audit(r, "asset.update", "asset", after.ID, before, after)
		s.assetsChanged()
	}
	writeJSON(w, http.StatusOK, map[string]any{"asset": after, "before": before, "changed": changed})
}

// handleDeleteAsset serves DELETE /api/v1/assets/{id}; it answers the
// deleted asset.
func (s *Server) handleDeleteAsset(w http.ResponseWriter, r *http.Request) {
	a, err := s.State.DeleteAsset(r.Context(), r.PathValue("id"))
	if err != nil {
		writeAssetError(w, err)
		return
	}
	s.log.Info("asset deleted", "id", a.ID, "hostname", a.Hostname, "by", actor(r.Context()))
	s.audit(r, "asset.delete", "asset", a.ID, a, nil)
	s.assetsChanged()
	writeJSON(w, http.StatusOK, map[string]any{"deleted": a})
}

// handleImportAssets serves POST /api/v1/assets/import: a CSV body (see
// package asset), matched to existing assets by key=hostname (default) or
// key=address. It answers the counts and every problem by line.
func (s *Server) handleImportAssets(w http.ResponseWriter, r *http.Request) {
	key := statedb.ImportKey(r.URL.Query().Get("key"))
	if key == "" {
		key = statedb.ImportByHostname
	}
	if key != statedb.ImportByHostname && key != statedb.ImportByAddress {
		writeError(w, http.StatusBadRequest, fmt.Errorf("key %q must be hostname or address", key))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		status := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(w, status, fmt.Errorf("body: %w", err))
		return
	}
	rep, err := asset.ImportCSV(r.Context(), s.State, bytes.NewReader(body), key)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, asset.ErrBadCSV) {
			status = http.StatusBadRequest
		}
		writeError(w, status, err)
		return
	}
	if rep.Created+rep.Updated > 0 {
		s.log.Info("assets imported", "created", rep.Created, "updated", rep.Updated, "skipped", rep.Skipped,
			"by", actor(r.Context()))
		s.audit(r, "asset.import", "assets", string(key), nil, rep)
		s.assetsChanged()
	}
	writeJSON(w, http.StatusOK, rep)
}

// handleUnknownAssets serves GET /api/v1/assets/unknown?since=: hosts and
// internal addresses seen in logs or traffic since then (default the last
// seven days) that the inventory does not hold.
func (s *Server) handleUnknownAssets(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UTC()
	since, err := timeexpr.Parse(r.URL.Query().Get("since"), now)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("since: %w", err))
		return
	}
	if since.IsZero() {
		since = now.Add(-defaultUnknownWindow)
	}
	idx, err := asset.Load(r.Context(), s.State, s.staticAssets())
	if idx == nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if err != nil {
		s.log.Warn("configured network assets skipped", "err", err)
	}
	sources, err := s.State.Sources(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	var peers asset.PeersFunc
	if s.Events != nil {
		peers = s.trafficPeers
	}
	list, err := asset.Unknown(r.Context(), idx, sources, peers, since)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"unknown": list, "count": len(list), "since": since})
}

// staticAssets returns the configured assets the graph knows as static
// index entries.
func (s *Server) staticAssets() []asset.Static {
	out := make([]asset.Static, 0, len(s.Graph.Assets))
	for a, g := range s.Graph.Assets {
		out = append(out, asset.Static{Address: a.String(), Name: g.Name, Role: g.Role, Criticality: g.Criticality})
	}
	return out
}

// trafficPeers is the asset.PeersFunc over the event store's flow rollup:
// the internal addresses of the largest edges since the time given.
func (s *Server) trafficPeers(ctx context.Context, since time.Time) ([]asset.Peer, error) {
	edges, err := s.Events.Graph(ctx, eventstore.GraphRequest{From: since, To: time.Now().UTC().Add(time.Hour),
		Limit: maxUnknownEdges})
	if err != nil {
		return nil, err
	}
	pc := asset.NewPeerCollector(s.Graph.Internal)
	for _, e := range edges {
		pc.Add(e.Src, e.Dst, e.FirstSeen, e.LastSeen, e.Conns)
	}
	return pc.Peers(), nil
}
