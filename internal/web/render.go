package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// pageNames are the pages; each is templates/<name>.html parsed with
// layout.html.
func pageNames() []string {
	return []string{"login", "overview", "alerts", "alert", "host", "graph", "search", "rules", "sources", "audit", "vulns"}
}

// view is what every page template gets.
type view struct {
	Title    string
	Page     string
	User     string
	Role     string
	CSRF     string
	CanWrite bool
	Version  string
	// URL is the request's path and query.
	URL   string
	Query url.Values
	Error string
	Flash string
	Data  any
}

func (c *Console) newView(r *http.Request, s *session, name string) *view {
	v := &view{Page: name, Title: strings.ToUpper(name[:1]) + name[1:], Version: c.version,
		URL: r.URL.RequestURI(), Query: r.URL.Query(), Flash: r.URL.Query().Get("flash")}
	if s != nil {
		v.User, v.Role, v.CSRF, v.CanWrite = s.User.Name, s.User.Role, s.CSRF, s.canWrite()
	}
	return v
}

// parsePages parses layout.html with each page's template.
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	tfs, err := fs.Sub(embedded, "templates")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames() {
		t, err := template.New(name).Funcs(funcs).ParseFS(tfs, "layout.html", "partials.html", name+".html")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// render executes template tmpl ("layout" for a whole page) of page name
// into a buffer first, so a failing template answers 500 and not half a
// page.
func (c *Console) renderTemplate(w http.ResponseWriter, r *http.Request, name, tmpl string, status int, data any) {
	t, ok := c.pages[name]
	if !ok {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, data); err != nil {
		c.log.Error("console template failed", "page", name, "template", tmpl, "path", r.URL.Path, "err", err)
		http.Error(w, "page rendering failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// render renders a whole page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, name string, status int, v *view) {
	c.renderTemplate(w, r, name, "layout", status, v)
}

func (c *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"static":  c.static.url,
		"ts":      formatTime,
		"ago":     ago,
		"bytes":   formatBytes,
		"num":     numAny,
		"rate":    formatRate,
		"pct":     func(a, b float64) float64 { return math.Round(100 * a / math.Max(b, 1)) },
		"qurl":    withParam,
		"list":    func(s ...string) []string { return s },
		"addTerm": addTerm,
		"sorted":  sortedKeys,
		"join":    strings.Join,
		"short":   shorten,
		"attack":  attackTag,
		"add":     func(a, b int) int { return a + b },
	}
}

// formatTime formats t as UTC to the second; the zero time is "—".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// ago says how long before now t was, coarsely.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "in " + (-d).Round(time.Second).String()
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s ago"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h ago"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d ago"
}

// formatBytes renders a byte count with binary-free SI units (kB, MB, ...).
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("kMGTPE"[exp]) + "B"
}

// formatNum renders an integer with thin thousands separators.
func formatNum(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune(',')
		}
		b.WriteRune(ch)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// numAny formats any integer (or float, rounded) with numAny's separators.
func numAny(v any) string {
	switch x := v.(type) {
	case int:
		return formatNum(int64(x))
	case int64:
		return formatNum(x)
	case float64:
		return formatNum(int64(math.Round(x)))
	}
	return fmt.Sprint(v)
}

// formatRate renders a per-second rate with precision that suits its size.
func formatRate(f float64) string {
	switch {
	case f == 0:
		return "0"
	case f < 10:
		return strconv.FormatFloat(f, 'f', 2, 64)
	case f < 1000:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return formatNum(int64(math.Round(f)))
}

// withParam returns the path with query q, param key set to val (removed
// when val is empty); changing any other parameter drops the cursor, so a
// new filter restarts paging.
func withParam(path string, q url.Values, key, val string) string {
	n := url.Values{}
	for k, v := range q {
		if (k != "cursor" || key == "cursor") && k != "flash" {
			n[k] = v
		}
	}
	if val == "" {
		n.Del(key)
	} else {
		n.Set(key, val)
	}
	if len(n) == 0 {
		return path
	}
	return path + "?" + n.Encode()
}

// addTerm appends field:value to a query, quoting the value when it has
// characters the query language would read otherwise.
func addTerm(q, field, value string) string {
	term := field + ":" + quoteValue(value)
	q = strings.TrimSpace(q)
	if q == "" || q == "*" {
		return term
	}
	return q + " " + term
}

// quoteValue quotes a query value unless it is a plain word.
func quoteValue(v string) string {
	if v == "" {
		return `""`
	}
	for _, r := range v {
		if !(r == '.' || r == '-' || r == '_' || r == '/' || r == '@' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return strconv.Quote(v)
		}
	}
	if v == "AND" || v == "OR" || v == "NOT" {
		return strconv.Quote(v)
	}
	return v
}

// sortedKeys returns a map's keys in order.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// shorten cuts s to n runes with an ellipsis.
func shorten(n int, s string) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// attackTag returns the MITRE ATT&CK technique URL of a tag such as
// attack.t1059.001, or "" when the tag is not a technique.
func attackTag(tag string) string {
	t, ok := strings.CutPrefix(strings.ToLower(tag), "attack.t")
	if !ok || t == "" || t[0] < '0' || t[0] > '9' {
		return ""
	}
	return "https://attack.mitre.org/techniques/T" + strings.ReplaceAll(strings.ToUpper(t), ".", "/") + "/"
}
