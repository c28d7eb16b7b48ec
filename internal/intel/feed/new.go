package feed

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/vigil-soc/vigil/internal/intel"
)

// New builds the Source a Config describes, after validating it. The
// source applies the config's confidence, threat and tags to what its
// records leave out. taxii sources and opencti taxii sources need
// opts.Convert; opencti graphql sources need opts.CompilePattern.
func New(c Config, opts Options) (intel.Source, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	client := opts.Client
	if client == nil {
		var err error
		if client, err = NewHTTPClient(c.CAFile); err != nil {
			return nil, fmt.Errorf("intel source %q: %w", c.Name, err)
		}
	}
	h := &HTTP{Client: client, Headers: c.Headers, Username: c.Username, Password: c.Password, Token: c.Token,
		Timeout: c.Timeout.Duration, MaxBytes: c.MaxBytes, Logger: opts.Logger}
	if opts.Logger != nil {
		h.Logger = opts.Logger.With("intel_source", c.Name)
	}
	src, err := build(c, opts, h)
	if err != nil {
		return nil, fmt.Errorf("intel source %q: %w", c.Name, err)
	}
	d := Defaults{Confidence: -1, Threat: c.Threat, Tags: c.Tags}
	if c.Confidence != nil {
		d.Confidence = *c.Confidence
	}
	return WithDefaults(src, d), nil
}

// build makes the source of c's kind.
func build(c Config, opts Options, h *HTTP) (intel.Source, error) {
	doc := &Document{Path: c.Path, URL: c.URL, HTTP: h}
	switch c.Kind {
	case KindList:
		t, err := optType(c.Type)
		if err != nil {
			return nil, err
		}
		return &DocumentSource{Doc: doc, Read: ListReader(t)}, nil
	case KindCSV:
		o, err := c.csvOptions()
		if err != nil {
			return nil, err
		}
		return &DocumentSource{Doc: doc, Read: CSVReader(o)}, nil
	case KindMISPEvent:
		return &DocumentSource{Doc: doc, Read: MISPEventReader}, nil
	case KindSTIX:
		if opts.Bundle == nil {
			return nil, errors.New("a stix source needs a bundle reader")
		}
		return &DocumentSource{Doc: doc, Read: opts.Bundle}, nil
	case KindMISP:
		return &MISPFeed{Dir: c.Path, URL: c.URL, HTTP: h, Workers: c.Workers, Logger: h.Logger}, nil
	case KindTAXII:
		if opts.Convert == nil {
			return nil, errors.New("a taxii source needs a STIX converter")
		}
		return &TAXII{Discovery: c.URL, APIRoot: c.APIRoot, Collection: c.Collection, PageSize: c.PageSize,
			Types: c.Types, Since: c.Since, HTTP: h, Convert: opts.Convert, Logger: h.Logger}, nil
	case KindOpenCTI:
		return openCTISource(c, opts, h)
	}
	return nil, fmt.Errorf("unknown kind %q", c.Kind)
}

// openCTISource builds an OpenCTI source: GraphQL, or TAXII with
// OpenCTI's layout (API root <url>/taxii2/root/).
func openCTISource(c Config, opts Options, h *HTTP) (intel.Source, error) {
	if c.API == OpenCTITAXII {
		if opts.Convert == nil {
			return nil, errors.New("an opencti taxii source needs a STIX converter")
		}
		disc, err := url.JoinPath(c.URL, "taxii2/")
		if err != nil {
			return nil, fmt.Errorf("url %q: %w", c.URL, err)
		}
		root := c.APIRoot
		if root == "" {
			root = "root/"
		}
		return &TAXII{Discovery: disc, APIRoot: root, Collection: c.Collection, PageSize: c.PageSize,
			Types: c.Types, Since: c.Since, HTTP: h, Convert: opts.Convert, Logger: h.Logger}, nil
	}
	if opts.CompilePattern == nil {
		return nil, errors.New("an opencti graphql source needs a STIX pattern compiler")
	}
	return &OpenCTI{URL: strings.TrimSuffix(c.URL, "/"), PageSize: c.PageSize, HTTP: h,
		Compile: opts.CompilePattern, Logger: h.Logger}, nil
}

// optType parses a configured type; "" stays "" (detect).
func optType(s string) (intel.Type, error) {
	if s == "" {
		return "", nil
	}
	return intel.ParseType(s)
}
