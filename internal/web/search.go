package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// eventList is GET /api/v1/events.
type eventList struct {
	Events []map[string]any `json:"events"`
	Next   string           `json:"next"`
	Count  int              `json:"count"`
	TookMS int64            `json:"took_ms"`
}

// flatEvent is an event flattened to dotted field names for display.
type flatEvent struct {
	ID      string
	Time    string
	Host    string
	Dataset string
	Summary string
	Fields  []kv
}

// flattenEvents flattens the API's events.
func flattenEvents(evs []map[string]any) []flatEvent {
	out := make([]flatEvent, 0, len(evs))
	for _, e := range evs {
		m := map[string]string{}
		flatten("", e, m)
		fe := flatEvent{ID: m["id"], Time: m["@timestamp"], Host: m["host.name"],
			Dataset: cmpOr(m["event.dataset"], m["input"])}
		fe.Summary = cmpOr(m["message"], m["process.command_line"], summaryOf(m))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if k == "original" || k == "received" {
				continue
			}
			fe.Fields = append(fe.Fields, kv{queryField(k), m[k]})
		}
		out = append(out, fe)
	}
	return out
}

// summaryOf describes an event without a message by its endpoints.
func summaryOf(m map[string]string) string {
	if m["source.ip"] == "" && m["destination.ip"] == "" {
		return m["event.action"]
	}
	s := m["source.ip"] + " → " + m["destination.ip"]
	if p := m["destination.port"]; p != "" {
		s += ":" + p
	}
	if a := m["event.action"]; a != "" {
		s = a + " " + s
	}
	return s
}

// queryField maps a flattened key to the field name the query language
// uses: original fields are searched by their own names.
func queryField(k string) string {
	if f, ok := strings.CutPrefix(k, "fields."); ok {
		return f
	}
	return k
}

// flatten writes v's leaves into out under dotted names; lists of scalars
// are joined with ", ".
func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			flatten(name, vv, out)
		}
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if _, isMap := e.(map[string]any); isMap {
				b, _ := json.Marshal(e)
				parts = append(parts, string(b))
				continue
			}
			parts = append(parts, scalar(e))
		}
		if len(parts) > 0 {
			out[prefix] = strings.Join(parts, ", ")
		}
	case nil:
	default:
		if s := scalar(x); s != "" {
			out[prefix] = s
		}
	}
}

// scalar formats a JSON scalar; numbers print without exponent.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// searchView is the search page's data.
type searchView struct {
	Q, From, To string
	Events      []flatEvent
	Next        string
	TookMS      int64
	// Fields are the fields present in the results, most common first.
	Fields []string
	// ExportCSV and ExportNDJSON are the download links.
	ExportCSV, ExportNDJSON string
	Ranges                  []string
}

// searchParams reads q, from and to with the page's defaults.
func searchParams(q url.Values) (string, string, string) {
	from := q.Get("from")
	if !q.Has("from") {
		from = "now-24h"
	}
	return q.Get("q"), from, q.Get("to")
}

func (c *Console) searchData(r *http.Request, _ *session) (any, error) {
	q, from, to := searchParams(r.URL.Query())
	v := searchView{Q: q, From: from, To: to, Ranges: []string{"now-15m", "now-1h", "now-24h", "now-7d", "now-30d"}}
	aq := url.Values{"q": {q}, "from": {from}, "limit": {"100"}}
	ex := url.Values{"q": {q}, "from": {from}}
	if to != "" {
		aq.Set("to", to)
		ex.Set("to", to)
	}
	if cur := r.URL.Query().Get("cursor"); cur != "" {
		aq.Set("cursor", cur)
	}
	ex.Set("format", "csv")
	v.ExportCSV = "/api/v1/events/export?" + ex.Encode()
	ex.Set("format", "ndjson")
	v.ExportNDJSON = "/api/v1/events/export?" + ex.Encode()
	var res eventList
	if err := c.get(r, "/api/v1/events", aq, &res); err != nil {
		return v, err
	}
	v.Events, v.Next, v.TookMS = flattenEvents(res.Events), res.Next, res.TookMS
	v.Fields = commonFields(v.Events, 25)
	return v, nil
}

// commonFields returns up to n field names in evs, most frequent first.
func commonFields(evs []flatEvent, n int) []string {
	count := map[string]int{}
	for _, e := range evs {
		for _, f := range e.Fields {
			if f.Key != "id" && f.Key != "@timestamp" && f.Key != "message" {
				count[f.Key]++
			}
		}
	}
	out := slices.Collect(maps.Keys(count))
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(count[b], count[a]), strings.Compare(a, b)) })
	return out[:min(n, len(out))]
}

// topView is the field sidebar's list of top values.
type topView struct {
	Field, Q, From, To string
	Values             []topValue
	Error              string
}

// handleTop renders the top values of one field (an htmx fragment of the
// search sidebar) from GET /api/v1/events/top.
func (c *Console) handleTop(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.requireSession(w, r); !ok {
		return
	}
	q, from, to := searchParams(r.URL.Query())
	v := topView{Field: r.URL.Query().Get("field"), Q: q, From: from, To: to}
	aq := url.Values{"field": {v.Field}, "q": {q}, "from": {from}, "limit": {"8"}}
	if to != "" {
		aq.Set("to", to)
	}
	var res struct {
		Values []topValue `json:"values"`
	}
	if err := c.get(r, "/api/v1/events/top", aq, &res); err != nil {
		v.Error = c.userError(r, err)
	}
	v.Values = res.Values
	c.renderTemplate(w, r, "search", "top-values", http.StatusOK, v)
}

// searchURL is the search page URL of q in the window.
func searchURL(q, from, to string) string {
	v := url.Values{"q": {q}, "from": {from}}
	if to != "" {
		v.Set("to", to)
	}
	return "/search?" + v.Encode()
}
