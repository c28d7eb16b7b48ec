package feed

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/vigil-soc/vigil/internal/intel"
)

// Source kinds.
const (
	KindList      = "list"
	KindCSV       = "csv"
	KindMISP      = "misp"
	KindMISPEvent = "misp-event"
	KindTAXII     = "taxii"
	KindOpenCTI   = "opencti"
	// KindSTIX is a STIX 2.1 bundle file or URL.
	KindSTIX = "stix"
)

// OpenCTI APIs.
const (
	OpenCTIGraphQL = "graphql"
	OpenCTITAXII   = "taxii"
)

// Duration is a time.Duration written as "90s", "5m", "1h" or "30d".
type Duration struct{ time.Duration }

// ParseDuration reads a Go duration or a whole number of days ("30d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("invalid duration %q: want e.g. 90s, 5m, 1h, 30d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want e.g. 90s, 5m, 1h, 30d", s)
	}
	return d, nil
}

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := ParseDuration(s)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Config configures one intel source; the package documentation lists
// its keys per kind.
type Config struct {
	// Name identifies the source (Indicator.Source); used by the manager.
	Name string `yaml:"name"`
	// Kind is list, csv, misp, misp-event, stix, taxii or opencti.
	Kind string `yaml:"kind"`
	// URL or Path locates the feed; exactly one is set (taxii and opencti
	// take a URL only).
	URL  string `yaml:"url"`
	Path string `yaml:"path"`
	// Interval is how often the manager polls the source (0: its
	// default).
	Interval Duration `yaml:"interval"`
	// Timeout bounds each HTTP request (0: DefaultTimeout).
	Timeout Duration `yaml:"timeout"`
	// MaxBytes bounds each downloaded document (0: DefaultMaxBytes).
	MaxBytes int64             `yaml:"max_bytes"`
	Headers  map[string]string `yaml:"headers"`
	// Username and Password give HTTP basic auth; Token a bearer token.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	Token    string `yaml:"token"`
	// CAFile is a PEM file of extra trusted CA certificates.
	CAFile string `yaml:"ca_file"`
	// Type fixes the indicator type of list and csv feeds.
	Type string `yaml:"type"`
	// Confidence (0..100), Threat and Tags fill in what records leave out.
	Confidence *int     `yaml:"confidence"`
	Threat     string   `yaml:"threat"`
	Tags       []string `yaml:"tags"`
	// CSV is the column mapping of csv feeds.
	CSV CSVConfig `yaml:"csv"`
	// Collection (id or title), APIRoot, Since and Types select what a
	// TAXII source reads.
	Collection string   `yaml:"collection"`
	APIRoot    string   `yaml:"api_root"`
	Since      string   `yaml:"since"`
	Types      []string `yaml:"types"`
	// PageSize is the TAXII limit or OpenCTI page size.
	PageSize int `yaml:"page_size"`
	// API is the OpenCTI API: graphql (default) or taxii.
	API string `yaml:"api"`
	// Workers is how many MISP event files are fetched at once.
	Workers int `yaml:"workers"`
}

// CSVConfig is the csv section of a Config.
type CSVConfig struct {
	// Preset is a known format (Presets); the other keys override it.
	Preset       string   `yaml:"preset"`
	Header       string   `yaml:"header"`
	Comment      string   `yaml:"comment"`
	Delimiter    string   `yaml:"delimiter"`
	Columns      Columns  `yaml:"columns"`
	TagSeparator string   `yaml:"tag_separator"`
	TimeFormat   string   `yaml:"time_format"`
	ValidFor     Duration `yaml:"valid_for"`
}

// ConfigError lists every problem of a Config.
type ConfigError struct {
	// Source is the source's name, if it has one.
	Source   string
	Problems []string
}

// Error joins the problems.
func (e *ConfigError) Error() string {
	prefix := "intel source"
	if e.Source != "" {
		prefix += " " + strconv.Quote(e.Source)
	}
	return prefix + ": " + strings.Join(e.Problems, "; ")
}

// Validate checks every setting and returns all problems in one
// *ConfigError, each naming its yaml key.
func (c *Config) Validate() error {
	var p []string
	bad := func(key, format string, args ...any) { p = append(p, key+": "+fmt.Sprintf(format, args...)) }
	switch c.Kind {
	case KindList, KindCSV, KindMISP, KindMISPEvent, KindSTIX, KindTAXII, KindOpenCTI:
	case "":
		bad("kind", "missing: want list, csv, misp, misp-event, stix, taxii or opencti")
	default:
		bad("kind", "%q: want list, csv, misp, misp-event, stix, taxii or opencti", c.Kind)
	}
	c.validateLocation(bad)
	c.validateAuth(bad)
	if c.Type != "" {
		if c.Kind != KindList && c.Kind != KindCSV {
			bad("type", "applies to list and csv sources only")
		} else if _, err := intel.ParseType(c.Type); err != nil {
			bad("type", "%v", err)
		}
	}
	if c.Confidence != nil && (*c.Confidence < 0 || *c.Confidence > 100) {
		bad("confidence", "%d: want 0..100", *c.Confidence)
	}
	for key, v := range map[string]int64{"interval": int64(c.Interval.Duration), "timeout": int64(c.Timeout.Duration),
		"max_bytes": c.MaxBytes, "page_size": int64(c.PageSize), "workers": int64(c.Workers)} {
		if v < 0 {
			bad(key, "must not be negative")
		}
	}
	c.validateKind(bad)
	if len(p) == 0 {
		return nil
	}
	slices.Sort(p)
	return &ConfigError{Source: c.Name, Problems: p}
}

// validateLocation checks url and path.
func (c *Config) validateLocation(bad func(key, format string, args ...any)) {
	remote := c.Kind == KindTAXII || c.Kind == KindOpenCTI
	switch {
	case c.URL != "" && c.Path != "":
		bad("url", "url and path exclude each other")
	case c.URL == "" && c.Path == "" && remote:
		bad("url", "missing")
	case c.URL == "" && c.Path == "":
		bad("url", "one of url or path is needed")
	case c.Path != "" && remote:
		bad("path", "a %s source needs a url", c.Kind)
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("url", "%q: want an http:// or https:// URL", c.URL)
		}
	}
}

// validateAuth checks the credentials and headers.
func (c *Config) validateAuth(bad func(key, format string, args ...any)) {
	if c.Token != "" && c.Username != "" {
		bad("token", "token and username exclude each other")
	}
	if c.Password != "" && c.Username == "" {
		bad("password", "a password needs a username")
	}
	if (c.Token != "" || c.Username != "" || len(c.Headers) > 0) && c.URL == "" && c.Path != "" {
		bad("path", "credentials and headers apply to url sources only")
	}
	for k := range c.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			bad("headers", "%q is not a header name", k)
		}
	}
	if c.Kind == KindOpenCTI && c.Token == "" {
		bad("token", "an opencti source needs an API token")
	}
}

// validateKind checks the keys that belong to one kind.
func (c *Config) validateKind(bad func(key, format string, args ...any)) {
	taxii := c.Kind == KindTAXII || (c.Kind == KindOpenCTI && c.API == OpenCTITAXII)
	if c.Kind == KindCSV {
		c.validateCSV(bad)
	} else if c.CSV != (CSVConfig{}) {
		bad("csv", "applies to csv sources only")
	}
	if taxii && c.Collection == "" {
		bad("collection", "missing: the collection id or title")
	}
	if !taxii {
		for key, set := range map[string]bool{"collection": c.Collection != "", "api_root": c.APIRoot != "",
			"since": c.Since != "", "types": len(c.Types) > 0} {
			if set {
				bad(key, "applies to taxii sources only")
			}
		}
	}
	if c.Since != "" {
		if _, err := time.Parse(time.RFC3339Nano, c.Since); err != nil {
			bad("since", "%q: want an RFC 3339 time", c.Since)
		}
	}
	if c.API != "" && c.Kind != KindOpenCTI {
		bad("api", "applies to opencti sources only")
	} else if c.API != "" && c.API != OpenCTIGraphQL && c.API != OpenCTITAXII {
		bad("api", "%q: want graphql or taxii", c.API)
	}
	if c.PageSize != 0 && !taxii && c.Kind != KindOpenCTI {
		bad("page_size", "applies to taxii and opencti sources only")
	}
	if c.Workers != 0 && c.Kind != KindMISP {
		bad("workers", "applies to misp sources only")
	}
}

// validateCSV checks the csv section.
func (c *Config) validateCSV(bad func(key, format string, args ...any)) {
	opts, err := c.csvOptions()
	if err != nil {
		bad("csv.preset", "%v", err)
		return
	}
	switch opts.Header {
	case "", HeaderNone, HeaderRow, HeaderComment:
	default:
		bad("csv.header", "%q: want none, row or comment", opts.Header)
	}
	if d := c.CSV.Delimiter; d != "" && (utf8.RuneCountInString(d) != 1 || d == "\"" || d == "\n" || d == "\r") {
		bad("csv.delimiter", "%q: want one character other than a quote or newline", d)
	}
	if opts.Columns.Value == "" {
		bad("csv.columns.value", "missing: the column of the indicator value")
	}
	named := opts.Header == "" || opts.Header == HeaderNone
	for _, kv := range opts.Columns.columnList() {
		if kv[1] == "" {
			continue
		}
		if n, err := strconv.Atoi(kv[1]); err == nil && n < 1 {
			bad("csv.columns."+kv[0], "%d: columns count from 1", n)
		} else if err != nil && named {
			bad("csv.columns."+kv[0], "%q is a column name but csv.header is none", kv[1])
		}
	}
	if c.CSV.ValidFor.Duration < 0 {
		bad("csv.valid_for", "must not be negative")
	}
}

// csvOptions merges the preset and the csv keys.
func (c *Config) csvOptions() (CSVOptions, error) {
	var o CSVOptions
	if c.CSV.Preset != "" {
		var err error
		if o, err = Preset(c.CSV.Preset); err != nil {
			return o, err
		}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&o.Header, c.CSV.Header)
	set(&o.Comment, c.CSV.Comment)
	set(&o.TagSeparator, c.CSV.TagSeparator)
	set(&o.TimeFormat, c.CSV.TimeFormat)
	if r, _ := utf8.DecodeRuneInString(c.CSV.Delimiter); c.CSV.Delimiter != "" {
		o.Delimiter = r
	}
	if c.CSV.ValidFor.Duration != 0 {
		o.ValidFor = c.CSV.ValidFor.Duration
	}
	mine, theirs := c.CSV.Columns.columnPtrs(), o.Columns.columnPtrs()
	for i := range mine {
		if *mine[i] != "" {
			*theirs[i] = *mine[i]
		}
	}
	if c.Type != "" {
		t, err := intel.ParseType(c.Type)
		if err != nil {
			return o, err
		}
		o.Type = t
	}
	return o, nil
}

// Options are what New needs beyond the Config.
type Options struct {
	// Logger receives the sources' logs; nil discards them.
	Logger *slog.Logger
	// Client does the HTTP requests; nil builds one (trusting ca_file).
	Client *http.Client
	// Convert turns STIX objects into indicators (taxii and opencti taxii
	// sources).
	Convert ConvertFunc
	// CompilePattern turns a STIX pattern into indicators (opencti
	// graphql sources).
	CompilePattern CompileFunc
	// Bundle reads a STIX 2.1 bundle document (stix sources).
	Bundle ReadFunc
}
