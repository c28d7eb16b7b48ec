package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// queuePageSize is how many alerts one queue page shows.
const queuePageSize = 200

// maxQueueScan caps the API pages one queue page reads while filtering by
// priority, which the API does not filter on.
const maxQueueScan = 10

// openStatuses is the queue's default status filter.
const openStatuses = "new,acknowledged,investigating"

// queueView is the alert queue's data.
type queueView struct {
	Alerts []alert
	// Next is the API cursor of the next page.
	Next string
	// Filters as given.
	Status, Priority, Kind, Host, Rule, From, To, Sort string
	// Scanned counts alerts read to fill the page (more than shown when
	// filtering by priority).
	Scanned int
	Users   []string
}

// queueFilter reads the queue's filters from the request.
func queueFilter(q url.Values) queueView {
	v := queueView{Status: q.Get("status"), Priority: q.Get("priority"), Kind: q.Get("kind"),
		Host: q.Get("host"), Rule: q.Get("rule_id"), From: q.Get("from"), To: q.Get("to"), Sort: q.Get("sort")}
	if !q.Has("status") {
		v.Status = openStatuses
	}
	return v
}

// apiQuery is the GET /api/v1/alerts query of the filters.
func (v queueView) apiQuery(cursor string) url.Values {
	q := url.Values{"limit": {strconv.Itoa(queuePageSize)}}
	for k, val := range map[string]string{"status": v.Status, "kind": v.Kind, "host": v.Host,
		"rule_id": v.Rule, "from": v.From, "to": v.To, "cursor": cursor} {
		if val != "" {
			q.Set(k, val)
		}
	}
	return q
}

// priorities parses the priority filter ("1", "1,2", "1-3"); nil means any.
func priorities(s string) map[int]bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	out := map[int]bool{}
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, errA := strconv.Atoi(lo)
		b, errB := a, error(nil)
		if isRange {
			b, errB = strconv.Atoi(hi)
		}
		if errA != nil || errB != nil {
			continue
		}
		for p := max(a, 1); p <= min(b, 5); p++ {
			out[p] = true
		}
	}
	return out
}

// loadQueue reads one page of the queue: API pages until queuePageSize
// alerts pass the priority filter, then sorts the page.
func (c *Console) loadQueue(r *http.Request) (queueView, error) {
	v := queueFilter(r.URL.Query())
	want := priorities(v.Priority)
	cursor := r.URL.Query().Get("cursor")
	for range maxQueueScan {
		var page alertList
		if err := c.get(r, "/api/v1/alerts", v.apiQuery(cursor), &page); err != nil {
			return v, err
		}
		v.Scanned += len(page.Alerts)
		for _, a := range page.Alerts {
			if want == nil || want[a.Priority] {
				v.Alerts = append(v.Alerts, a)
			}
		}
		cursor = page.Next
		if cursor == "" || len(v.Alerts) >= queuePageSize || want == nil {
			break
		}
	}
	v.Next = cursor
	sortAlerts(v.Alerts, v.Sort)
	return v, nil
}

// sortAlerts orders one page: "priority" (most urgent first), "count",
// "host" or, by default, the API's newest-first order.
func sortAlerts(as []alert, by string) {
	switch by {
	case "priority":
		slices.SortStableFunc(as, func(a, b alert) int { return cmp.Compare(a.Priority, b.Priority) })
	case "count":
		slices.SortStableFunc(as, func(a, b alert) int { return cmp.Compare(b.Count, a.Count) })
	case "host":
		slices.SortStableFunc(as, func(a, b alert) int { return strings.Compare(a.Host, b.Host) })
	}
}

// handleAlerts serves the queue; htmx requests for the rows (live
// refresh, filters) get only the table body.
func (c *Console) handleAlerts(w http.ResponseWriter, r *http.Request) {
	s, ok := c.requireSession(w, r)
	if !ok {
		return
	}
	data, err := c.loadQueue(r)
	if c.authFailed(w, r, err) {
		return
	}
	v := c.newView(r, s, "alerts")
	v.Title = "Alert queue"
	data.Users = c.userNames(r)
	v.Data = data
	if err != nil {
		v.Error = c.userError(r, err)
	}
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "queue-body" {
		c.renderTemplate(w, r, "alerts", "queue-body", http.StatusOK, v)
		return
	}
	c.render(w, r, "alerts", http.StatusOK, v)
}

// userNames lists the users to assign to; empty when the API does not
// list users to this role.
func (c *Console) userNames(r *http.Request) []string {
	var out struct {
		Users []struct {
			Name     string `json:"name"`
			Disabled bool   `json:"disabled"`
		} `json:"users"`
	}
	if err := c.get(r, "/api/v1/users", nil, &out); err != nil {
		return nil
	}
	names := make([]string, 0, len(out.Users))
	for _, u := range out.Users {
		if !u.Disabled {
			names = append(names, u.Name)
		}
	}
	slices.Sort(names)
	return names
}

// triageForm is the body of PATCH /api/v1/alerts/{id} and of the bulk
// call, read from a console form.
type triageForm struct {
	IDs         []string `json:"ids,omitempty"`
	Status      string   `json:"status,omitempty"`
	Disposition string   `json:"disposition,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Assignee    *string  `json:"assignee,omitempty"`
}

// readTriage reads status, disposition, reason and assignee from a form;
// assignee "-" means unassign, absent means leave it.
func readTriage(r *http.Request) triageForm {
	f := triageForm{Status: r.PostForm.Get("status"), Disposition: r.PostForm.Get("disposition"),
		Reason: strings.TrimSpace(r.PostForm.Get("reason"))}
	// The last value wins: an "assign to me" button follows the select.
	if as := r.PostForm["assignee"]; len(as) > 0 && as[len(as)-1] != "" {
		a := as[len(as)-1]
		if a == "-" {
			a = ""
		}
		f.Assignee = &a
	}
	if f.Status != "resolved" {
		f.Disposition = ""
	}
	return f
}

// postedSession parses the form and loads the session of a POST.
func (c *Console) postedSession(w http.ResponseWriter, r *http.Request) (*session, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return nil, false
	}
	s, ok := c.requireSession(w, r)
	if !ok {
		return nil, false
	}
	// The API checks the token the form carries, not the session's.
	s.CSRF = r.PostForm.Get("csrf_token")
	return s, true
}

// handleBulk applies one change to the selected alerts through POST
// /api/v1/alerts/bulk and returns to the queue with a summary.
func (c *Console) handleBulk(w http.ResponseWriter, r *http.Request) {
	s, ok := c.postedSession(w, r)
	if !ok {
		return
	}
	f := readTriage(r)
	f.IDs = r.PostForm["id"]
	back := localPath(r.PostForm.Get("back"))
	if len(f.IDs) == 0 {
		redirectFlash(w, r, back, "Select alerts first.")
		return
	}
	var out struct {
		Updated int `json:"updated"`
		Errors  []struct {
			ID    string `json:"id"`
			Error string `json:"error"`
		} `json:"errors"`
	}
	if err := c.send(r, s, http.MethodPost, "/api/v1/alerts/bulk", f, &out); err != nil {
		redirectFlash(w, r, back, "Bulk change failed: "+err.Error())
		return
	}
	msg := strconv.Itoa(out.Updated) + " alerts updated."
	if len(out.Errors) > 0 {
		msg += " " + strconv.Itoa(len(out.Errors)) + " failed, first: " + out.Errors[0].ID + ": " + out.Errors[0].Error
	}
	redirectFlash(w, r, back, msg)
}

// redirectFlash redirects to path with a message shown on the page.
func redirectFlash(w http.ResponseWriter, r *http.Request, path, msg string) {
	u, err := url.Parse(path)
	if err != nil {
		u = &url.URL{Path: "/"}
	}
	q := u.Query()
	q.Set("flash", msg)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}
