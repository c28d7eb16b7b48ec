package web

import (
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// statusAnswer is GET /api/v1/status.
type statusAnswer struct {
	Version string `json:"version"`
	Events  struct {
		Events     int64
		Partitions int
		Oldest     time.Time
		Newest     time.Time
		Bytes      int64
	} `json:"events"`
}

// overviewView is the overview page's data.
type overviewView struct {
	overview
	Status statusAnswer
	// OverviewMissing is set when GET /api/v1/overview failed; the page
	// then shows what the other endpoints know.
	OverviewMissing string
	OpenTotal       int
	Statuses        []kv
	Inputs          []inputHealth
}

func (c *Console) overviewData(r *http.Request, _ *session) (any, error) {
	var v overviewView
	if err := c.get(r, "/api/v1/status", nil, &v.Status); err != nil {
		return nil, err
	}
	if err := c.get(r, "/api/v1/overview", nil, &v.overview); err != nil {
		if statusOf(err) == http.StatusUnauthorized {
			return nil, err
		}
		v.OverviewMissing = c.userError(r, err)
		c.overviewFallback(r, &v)
	}
	v.normalize()
	v.Inputs = inputsOf(v.Sources)
	for _, st := range []string{"new", "acknowledged", "investigating"} {
		v.OpenTotal += v.OpenByStatus[st]
		v.Statuses = append(v.Statuses, kv{st, strconv.Itoa(v.OpenByStatus[st])})
	}
	return v, nil
}

// overviewFallback fills the overview from the endpoints that exist when
// GET /api/v1/overview does not.
func (c *Console) overviewFallback(r *http.Request, v *overviewView) {
	var hosts struct {
		Hosts []hostRisk `json:"hosts"`
	}
	if c.get(r, "/api/v1/hosts", url.Values{"limit": {"10"}}, &hosts) == nil {
		v.TopHosts = hosts.Hosts
	}
	var in struct {
		Sources []intelSource `json:"sources"`
	}
	if c.get(r, "/api/v1/intel/sources", nil, &in) == nil {
		v.Intel = in.Sources
	}
	var src struct {
		Sources []source `json:"sources"`
	}
	if c.get(r, "/api/v1/sources", nil, &src) == nil {
		v.Sources, v.SourcesSeen = src.Sources, len(src.Sources)
	}
}

// hostView is the host page's data.
type hostView struct {
	ID string
	// Detail is nil when the API knows no risk for the host.
	Detail    *hostDetail
	Missing   string
	Baselines []baselineSeries
	Events    []flatEvent
	EventsQ   string
}

// baselineSeries is one metric's current and baseline figures from the
// host's baseline alerts, oldest first.
type baselineSeries struct {
	Metric   string    `json:"metric"`
	Times    []int64   `json:"times"`
	Baseline []float64 `json:"baseline"`
	Current  []float64 `json:"current"`
}

// baselinesOf collects the phase1 figures of baseline alerts per metric.
func baselinesOf(as []alert) []baselineSeries {
	by := map[string]*baselineSeries{}
	for _, a := range as {
		d := a.Details
		m := d["phase1.metric"]
		b, errB := strconv.ParseFloat(d["phase1.baseline"], 64)
		cur, errC := strconv.ParseFloat(d["phase1.current"], 64)
		if m == "" || errB != nil || errC != nil {
			continue
		}
		t := a.FirstSeen
		if start, _, ok := strings.Cut(d["phase1.window"], " – "); ok {
			if ws, err := time.Parse(time.RFC3339, start); err == nil {
				t = ws
			}
		}
		s := by[m]
		if s == nil {
			s = &baselineSeries{Metric: m}
			by[m] = s
		}
		s.Times = append(s.Times, t.Unix())
		s.Baseline = append(s.Baseline, b)
		s.Current = append(s.Current, cur)
	}
	out := make([]baselineSeries, 0, len(by))
	for _, m := range slices.Sorted(maps.Keys(by)) {
		out = append(out, sortSeries(*by[m]))
	}
	return out
}

// sortSeries orders a series by time.
func sortSeries(s baselineSeries) baselineSeries {
	idx := make([]int, len(s.Times))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return int(s.Times[a] - s.Times[b]) })
	out := baselineSeries{Metric: s.Metric}
	for _, i := range idx {
		out.Times = append(out.Times, s.Times[i])
		out.Baseline = append(out.Baseline, s.Baseline[i])
		out.Current = append(out.Current, s.Current[i])
	}
	return out
}

// hostEventsQuery finds a host's events by name and addresses.
func hostEventsQuery(id string, aliases []string) string {
	terms := []string{}
	seen := map[string]bool{}
	for _, a := range append([]string{id}, aliases...) {
		if a == "" || seen[a] {
			continue
		}
		seen[a] = true
		if _, err := netip.ParseAddr(a); err == nil {
			terms = append(terms, "source.ip:"+a, "destination.ip:"+a)
		} else {
			terms = append(terms, "host.name:"+quoteValue(a))
		}
	}
	return strings.Join(terms, " OR ")
}

func (c *Console) hostData(r *http.Request, _ *session) (any, error) {
	v := hostView{ID: r.PathValue("id")}
	var d hostDetail
	err := c.get(r, "/api/v1/hosts/"+url.PathEscape(v.ID), nil, &d)
	switch {
	case err == nil:
		v.Detail = &d
		v.Baselines = baselinesOf(d.Open)
	case statusOf(err) == http.StatusNotFound:
		v.Missing = "No open alerts make this host risky: " + errMessage(err)
	default:
		return nil, err
	}
	v.EventsQ = hostEventsQuery(v.ID, d.Aliases)
	var ev eventList
	if err := c.get(r, "/api/v1/events", url.Values{"q": {v.EventsQ}, "from": {"now-7d"}, "limit": {"25"}}, &ev); err != nil {
		return v, err
	}
	v.Events = flattenEvents(ev.Events)
	return v, nil
}

func (c *Console) sourcesData(r *http.Request, _ *session) (any, error) {
	var out struct {
		Sources []source `json:"sources"`
	}
	err := c.get(r, "/api/v1/sources", nil, &out)
	return out.Sources, err
}

// rulesView is the rules page's data.
type rulesView struct {
	Rules  []rule      `json:"rules"`
	Errors []ruleError `json:"errors"`
}

func (c *Console) rulesData(r *http.Request, _ *session) (any, error) {
	var v rulesView
	err := c.get(r, "/api/v1/rules", nil, &v)
	return v, err
}

// handleRuleToggle enables or disables a rule through PATCH
// /api/v1/rules/{id}.
func (c *Console) handleRuleToggle(w http.ResponseWriter, r *http.Request) {
	s, ok := c.postedSession(w, r)
	if !ok {
		return
	}
	enabled := r.PostForm.Get("enabled") == "true"
	err := c.send(r, s, http.MethodPatch, "/api/v1/rules/"+url.PathEscape(r.PathValue("id")),
		map[string]bool{"enabled": enabled}, nil)
	if err != nil {
		redirectFlash(w, r, "/rules", "Rule not changed: "+errMessage(err))
		return
	}
	state := "disabled"
	if enabled {
		state = "enabled"
	}
	redirectFlash(w, r, "/rules", "Rule "+r.PathValue("id")+" "+state+".")
}

// auditView is the audit page's data.
type auditView struct {
	Entries                     []auditEntry `json:"entries"`
	Next                        string       `json:"next"`
	Actor, Action, Since, Until string
}

func (c *Console) auditData(r *http.Request, _ *session) (any, error) {
	q := r.URL.Query()
	v := auditView{Actor: q.Get("actor"), Action: q.Get("action"), Since: q.Get("since"), Until: q.Get("until")}
	aq := url.Values{}
	for _, k := range []string{"actor", "action", "since", "until", "cursor"} {
		if q.Get(k) != "" {
			aq.Set(k, q.Get(k))
		}
	}
	err := c.get(r, "/api/v1/audit", aq, &v)
	return v, err
}
