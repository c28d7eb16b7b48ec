package web

import (
	"html/template"
	"io/fs"
	"net/http"
	"net/url"

	"github.com/vigil-soc/vigil/internal/coverage"
)

// coverageView is the coverage page's data: the API's map with its gaps
// split by kind, most urgent first.
type coverageView struct {
	coverage.Report
	NeverOnboarded []coverage.Gap
	Silent         []coverage.Gap
	NeverSeen      []coverage.Gap
	// SilentAfter is the page's silent_after parameter, passed on to the
	// API.
	SilentAfter string
}

// coverageData loads GET /api/v1/coverage.
func (c *Console) coverageData(r *http.Request, _ *session) (any, error) {
	v := coverageView{SilentAfter: r.URL.Query().Get("silent_after")}
	q := url.Values{}
	if v.SilentAfter != "" {
		q.Set("silent_after", v.SilentAfter)
	}
	if err := c.get(r, "/api/v1/coverage", q, &v.Report); err != nil {
		return v, err
	}
	for _, g := range v.Gaps {
		switch g.Kind {
		case coverage.GapNeverOnboarded:
			v.NeverOnboarded = append(v.NeverOnboarded, g)
		case coverage.GapSilent:
			v.Silent = append(v.Silent, g)
		default:
			v.NeverSeen = append(v.NeverSeen, g)
		}
	}
	return v, nil
}

// coveragePage parses the coverage page's template into c.pages and
// returns its handler. A template that does not parse is logged and the
// page answers 500; the console's tests render it, so that is a build bug.
func (c *Console) coveragePage() http.HandlerFunc {
	const name = "coverage"
	t, err := parsePage(name, c.funcs())
	if err != nil {
		c.log.Error("console: coverage page template", "err", err)
		return func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "the coverage page is broken: "+err.Error(), http.StatusInternalServerError)
		}
	}
	c.pages[name] = t
	return c.page(name, c.coverageData)
}

// parsePage parses layout.html and partials.html with one page's template.
func parsePage(name string, funcs template.FuncMap) (*template.Template, error) {
	tfs, err := fs.Sub(embedded, "templates")
	if err != nil {
		return nil, err
	}
	return template.New(name).Funcs(funcs).ParseFS(tfs, "layout.html", "partials.html", name+".html")
}
