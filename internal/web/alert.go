package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxEvidence caps the evidence events an alert page loads.
const maxEvidence = 50

// alertView is the alert detail page's data.
type alertView struct {
	Alert alert
	// Baseline holds the baseline figures of a network alert.
	Baseline *baselineFigures
	// Matched are the other details (matched fields, context rules).
	Matched  []kv
	Evidence []flatEvent
	// EvidenceQuery is the search that lists the evidence.
	EvidenceQuery string
	Host          *hostRisk
	Intel         []kv
	Timeline      []timelineEvent
	Users         []string
	// Unavailable lists the sections whose API call failed.
	Unavailable []string
}

// kv is a key and a value for display.
type kv struct{ Key, Value string }

// baselineFigures are the phase1 numbers of a baseline alert.
type baselineFigures struct {
	Metric, Baseline, Current, Factor, Window string
}

// splitDetails separates an alert's details into the baseline figures, the
// intel facts and the rest.
func splitDetails(d map[string]string) (*baselineFigures, []kv, []kv) {
	var bf *baselineFigures
	if d["phase1.metric"] != "" || d["phase1.baseline"] != "" {
		bf = &baselineFigures{Metric: d["phase1.metric"], Baseline: d["phase1.baseline"],
			Current: d["phase1.current"], Factor: d["phase1.factor"], Window: d["phase1.window"]}
	}
	var rest, intel []kv
	for _, k := range sortedKeys(d) {
		switch {
		case bf != nil && (k == "phase1.metric" || k == "phase1.baseline" || k == "phase1.current" ||
			k == "phase1.factor" || k == "phase1.window"):
		case strings.HasPrefix(k, "intel.") || strings.HasPrefix(k, "indicator") || k == "retrospective":
			intel = append(intel, kv{k, d[k]})
		default:
			rest = append(rest, kv{k, d[k]})
		}
	}
	return bf, rest, intel
}

// evidenceQuery is the event search for evidence ids.
func evidenceQuery(ids []uint64) string {
	ids = ids[:min(len(ids), maxEvidence)]
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatUint(id, 10)
	}
	if len(parts) == 1 {
		return "id:" + parts[0]
	}
	return "id:(" + strings.Join(parts, " OR ") + ")"
}

// alertData loads an alert, its evidence, host, timeline and assignees.
func (c *Console) alertData(r *http.Request, _ *session) (any, error) {
	id := r.PathValue("id")
	var v alertView
	if err := c.get(r, "/api/v1/alerts/"+url.PathEscape(id), nil, &v.Alert); err != nil {
		return nil, err
	}
	v.Baseline, v.Matched, v.Intel = splitDetails(v.Alert.Details)
	if len(v.Alert.EvidenceIDs) > 0 {
		v.EvidenceQuery = evidenceQuery(v.Alert.EvidenceIDs)
		var ev eventList
		q := url.Values{"q": {v.EvidenceQuery}, "limit": {strconv.Itoa(maxEvidence)}}
		if err := c.get(r, "/api/v1/events", q, &ev); err != nil {
			v.Unavailable = append(v.Unavailable, "evidence: "+err.Error())
		}
		v.Evidence = flattenEvents(ev.Events)
	}
	if h := cmpOr(v.Alert.Host, v.Alert.SourceIP); h != "" {
		var hd hostDetail
		if err := c.get(r, "/api/v1/hosts/"+url.PathEscape(h), nil, &hd); err == nil {
			v.Host = &hd.hostRisk
		}
	}
	var tl struct {
		Events []timelineEvent `json:"events"`
	}
	if err := c.get(r, "/api/v1/alerts/"+url.PathEscape(id)+"/timeline", nil, &tl); err != nil {
		v.Unavailable = append(v.Unavailable, "timeline: "+err.Error())
	}
	v.Timeline = tl.Events
	v.Users = c.userNames(r)
	return v, nil
}

// cmpOr returns the first non-empty string.
func cmpOr(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// handleAlertUpdate changes status, assignee or disposition through PATCH
// /api/v1/alerts/{id} and returns to the alert.
func (c *Console) handleAlertUpdate(w http.ResponseWriter, r *http.Request) {
	s, ok := c.postedSession(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	back := "/alerts/" + url.PathEscape(id)
	f := readTriage(r)
	if f.Status == "" && f.Assignee == nil {
		redirectFlash(w, r, back, "Nothing to change.")
		return
	}
	if err := c.send(r, s, http.MethodPatch, "/api/v1/alerts/"+url.PathEscape(id), f, nil); err != nil {
		redirectFlash(w, r, back, "Not changed: "+errMessage(err))
		return
	}
	redirectFlash(w, r, back, "Alert updated.")
}

// handleComment adds a comment through POST /api/v1/alerts/{id}/comments.
func (c *Console) handleComment(w http.ResponseWriter, r *http.Request) {
	s, ok := c.postedSession(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	back := "/alerts/" + url.PathEscape(id)
	text := strings.TrimSpace(r.PostForm.Get("text"))
	if text == "" {
		redirectFlash(w, r, back, "Write a comment first.")
		return
	}
	err := c.send(r, s, http.MethodPost, "/api/v1/alerts/"+url.PathEscape(id)+"/comments",
		map[string]string{"text": text}, nil)
	if err != nil {
		redirectFlash(w, r, back, "Comment not saved: "+errMessage(err))
		return
	}
	redirectFlash(w, r, back, "Comment added.")
}

// errMessage is the API's message of err, else err's text.
func errMessage(err error) string {
	if ae, ok := err.(*APIError); ok && ae.Message != "" {
		return ae.Message + " (" + strconv.Itoa(ae.Status) + ")"
	}
	return err.Error()
}
