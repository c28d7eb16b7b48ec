package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/api"
	"github.com/vigil-soc/vigil/internal/detect/netflow"
	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/intel/feed"
	"github.com/vigil-soc/vigil/internal/intel/stix"
	"github.com/vigil-soc/vigil/internal/risk"
)

// buildIntel builds the threat-intel manager from the intel section and
// loads the stored indicators into its matcher.
func (n *Node) buildIntel(ctx context.Context) error {
	c := n.Cfg.Intel
	n.IntelMetrics = intel.NewMetrics(n.Reg)
	var srcs []intel.SourceConfig
	for _, s := range c.Sources {
		src, err := feed.New(s.Config, feed.Options{Logger: n.Log, Convert: stix.Objects, CompilePattern: stix.Pattern,
			Bundle: stixBundle})
		if err != nil {
			return err
		}
		iv := s.Interval.Duration
		if iv <= 0 {
			iv = c.DefaultInterval.Duration
		}
		srcs = append(srcs, intel.SourceConfig{Name: s.Name, Kind: s.Kind, Interval: iv, Decay: s.Decay.Duration, Source: src})
	}
	var hunter intel.Hunter
	if c.RetroHuntDays > 0 {
		hunter = &intel.RetroHunt{Store: n.State, Events: n.Events, Alerts: n.State, Days: c.RetroHuntDays,
			Window: n.Cfg.Alerts.GroupWindow.Duration, Metrics: n.IntelMetrics, Prioritize: n.prio.Apply}
	}
	n.Intel = intel.NewManager(n.State, srcs, hunter, n.IntelMetrics, n.Log)
	return n.Intel.Load(ctx)
}

// stixBundle is the feed reader of stix sources.
func stixBundle(r io.Reader, name string) ([]intel.Indicator, []intel.Problem, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	res, err := stix.Load(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return res.Indicators, res.Problems, nil
}

// intelService serves threat intel to the API and the command line.
type intelService struct{ n *Node }

// IntelService returns the node's threat-intel service (status, imports).
func IntelService(n *Node) api.IntelService { return intelService{n} }

var _ api.IntelService = intelService{}

// Status returns every source's status.
func (s intelService) Status(ctx context.Context) ([]intel.SourceStatus, error) {
	return s.n.Intel.Status(ctx)
}

// Import loads a one-off file as source name (replacing what an earlier
// import under that name delivered), rebuilds the matcher and retro-hunts.
func (s intelService) Import(ctx context.Context, name, format string, data []byte) (api.IntelImport, error) {
	if format == "" {
		format = DetectIntelFormat(data)
	}
	var res api.IntelImport
	res.Source, res.Format = name, format
	var ins []intel.Indicator
	var probs []intel.Problem
	var err error
	switch format {
	case feed.KindSTIX:
		ins, probs, err = stixBundle(bytes.NewReader(data), name)
	case feed.KindMISPEvent, feed.KindMISP:
		ins, probs, err = feed.ReadMISPEvent(data, name)
	case feed.KindList:
		ins, probs, err = feed.ReadList(bytes.NewReader(data), feed.ListOptions{Name: name})
	case feed.KindCSV:
		ins, probs, err = feed.ReadCSV(bytes.NewReader(data), feed.CSVOptions{Name: name, Header: feed.HeaderRow,
			Columns: feed.Columns{Value: "value", Type: "type"}})
	default:
		return res, fmt.Errorf("intel import: unknown format %q (want stix, misp-event, list or csv)", format)
	}
	if err != nil {
		return res, fmt.Errorf("intel import: %w", err)
	}
	if len(ins) == 0 {
		return res, errors.New("intel import: the file holds no usable indicator")
	}
	res.Indicators, res.Problems = len(ins), probs
	if res.Problems == nil {
		res.Problems = []intel.Problem{}
	}
	res.New, res.RetroAlerts, err = s.n.Intel.Import(ctx, name, "import:"+format,
		intel.Batch{Indicators: ins, Problems: probs, Full: true})
	return res, err
}

// DetectIntelFormat recognises a threat-intel file: a STIX bundle or
// object list, a MISP event, a CSV with a header, or a plain list.
func DetectIntelFormat(data []byte) string {
	t := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(t, []byte("{")) && bytes.Contains(t[:min(len(t), 4096)], []byte(`"Event"`)):
		return feed.KindMISPEvent
	case bytes.HasPrefix(t, []byte("{")) || bytes.HasPrefix(t, []byte("[")):
		return feed.KindSTIX
	}
	first, _, _ := strings.Cut(string(t[:min(len(t), 4096)]), "\n")
	if strings.Count(first, ",") >= 1 && !strings.HasPrefix(first, "#") {
		return feed.KindCSV
	}
	return feed.KindList
}

// networkIntel adapts the intel matcher to the network engine's context.
type networkIntel struct{ m *intel.Manager }

var _ netflow.Intel = networkIntel{}

// Lookup implements netflow.Intel at the signal's event time.
func (ni networkIntel) Lookup(addr netip.Addr, name string, at time.Time) (netflow.IntelHit, bool) {
	h, ok := ni.m.Matcher().Lookup(addr, name, at)
	if !ok {
		return netflow.IntelHit{}, false
	}
	return netflow.IntelHit{Indicator: h.Value, Source: h.Source, Confidence: h.Confidence, C2: h.C2}, true
}

// riskService builds host risk over the state database and the asset
// inventory.
func (n *Node) riskService() *risk.Service {
	return &risk.Service{Alerts: n.State, Assets: n.assetLookup,
		Window:  time.Duration(n.Cfg.Risk.WindowDays) * 24 * time.Hour,
		Options: risk.Options{HalfLife: n.Cfg.Risk.HalfLife.Duration, Vulns: n.Vulns}}
}
