package feed

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigExampleFile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/sources.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var list []Config
	if err := yaml.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	wantTypes := map[string]string{"rita": "*feed.defaulted", "ja3-list": "*feed.DocumentSource",
		"feodo": "*feed.DocumentSource", "custom-csv": "*feed.defaulted", "circl": "*feed.MISPFeed",
		"misp-export": "*feed.DocumentSource", "taxii": "*feed.TAXII", "opencti": "*feed.OpenCTI",
		"opencti-taxii": "*feed.TAXII"}
	if len(list) != len(wantTypes) {
		t.Fatalf("%d sources, want %d", len(list), len(wantTypes))
	}
	for _, c := range list {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		src, err := New(c, Options{Client: http.DefaultClient, Convert: convertTestObjects, CompilePattern: compileTestPattern})
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if got := typeName(src); got != wantTypes[c.Name] {
			t.Errorf("%s: source %s, want %s", c.Name, got, wantTypes[c.Name])
		}
	}
	feodo := list[2]
	opts, err := feodo.csvOptions()
	if err != nil || opts.ValidFor != 30*24*time.Hour || opts.Columns.Port != "3" || opts.Header != HeaderComment {
		t.Errorf("feodo options %+v, %v", opts, err)
	}
	custom := list[3]
	if opts, err := custom.csvOptions(); err != nil || opts.Delimiter != ';' || opts.Columns.Value != "indicator" {
		t.Errorf("custom options %+v, %v", opts, err)
	}
	if tx, ok := mustNew(t, list[8]).(*TAXII); !ok || tx.Discovery != "https://opencti.example.org/taxii2/" || tx.APIRoot != "root/" {
		t.Errorf("opencti taxii source %+v", tx)
	}
}

func mustNew(t *testing.T, c Config) any {
	t.Helper()
	src, err := New(c, Options{Client: http.DefaultClient, Convert: convertTestObjects, CompilePattern: compileTestPattern})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func typeName(v any) string {
	switch v.(type) {
	case *defaulted:
		return "*feed.defaulted"
	case *DocumentSource:
		return "*feed.DocumentSource"
	case *MISPFeed:
		return "*feed.MISPFeed"
	case *TAXII:
		return "*feed.TAXII"
	case *OpenCTI:
		return "*feed.OpenCTI"
	}
	return "?"
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	neg := -5
	tests := []struct {
		name string
		cfg  Config
		want []string // one substring per expected problem, in order
	}{
		{name: "empty", cfg: Config{}, want: []string{"kind: missing", "url: one of url or path"}},
		{name: "unknown kind", cfg: Config{Kind: "yara", Path: "x"}, want: []string{`kind: "yara"`}},
		{name: "url and path", cfg: Config{Kind: KindList, URL: "https://x.example/", Path: "x"},
			want: []string{"url: url and path exclude"}},
		{name: "bad url", cfg: Config{Kind: KindList, URL: "ftp://x.example/l.txt"}, want: []string{"url: \"ftp://"}},
		{name: "taxii needs url and collection", cfg: Config{Kind: KindTAXII, Path: "x"},
			want: []string{"collection: missing", "path: a taxii source needs a url"}},
		{name: "opencti needs token", cfg: Config{Kind: KindOpenCTI, URL: "https://o.example"},
			want: []string{"token: an opencti source needs"}},
		{name: "auth", cfg: Config{Kind: KindList, URL: "https://x.example/", Token: "t", Username: "u",
			Headers: map[string]string{"Bad Name": "v"}},
			want: []string{`headers: "Bad Name"`, "token: token and username"}},
		{name: "password alone and creds on a path", cfg: Config{Kind: KindList, Path: "x", Password: "p", Token: "t"},
			want: []string{"password: a password needs", "path: credentials and headers"}},
		{name: "numbers", cfg: Config{Kind: KindMISP, Path: "d", Confidence: &neg, Timeout: Duration{-time.Second},
			MaxBytes: -1, Workers: -1},
			want: []string{"confidence: -5", "max_bytes: must not", "timeout: must not", "workers: must not"}},
		{name: "keys of other kinds", cfg: Config{Kind: KindList, Path: "x", Collection: "c", API: "graphql", Workers: 2,
			PageSize: 5, CSV: CSVConfig{Preset: "feodo"}, Type: "banana"},
			want: []string{"api: applies", "collection: applies", "csv: applies", "page_size: applies",
				"type: unknown indicator type", "workers: applies"}},
		{name: "csv", cfg: Config{Kind: KindCSV, Path: "x", CSV: CSVConfig{Header: "first", Delimiter: ";;",
			Columns: Columns{Type: "kind", Tags: "0"}, ValidFor: Duration{-time.Hour}}},
			want: []string{"csv.columns.tags: 0", "csv.columns.value: missing",
				"csv.delimiter", "csv.header: \"first\"", "csv.valid_for"}},
		{name: "named column without header", cfg: Config{Kind: KindCSV, Path: "x", CSV: CSVConfig{
			Columns: Columns{Value: "1", Type: "kind"}}},
			want: []string{"csv.columns.type: \"kind\" is a column name but csv.header is none"}},
		{name: "csv preset", cfg: Config{Kind: KindCSV, Path: "x", CSV: CSVConfig{Preset: "nope"}},
			want: []string{"csv.preset: unknown csv preset"}},
		{name: "taxii since and api", cfg: Config{Kind: KindOpenCTI, URL: "https://o.example", Token: "t", API: "rest",
			Since: "yesterday"}, want: []string{`api: "rest"`, `since: "yesterday"`, "since: applies"}},
		{name: "valid preset override", cfg: Config{Kind: KindCSV, URL: "https://x.example/f.csv",
			CSV: CSVConfig{Preset: PresetURLhaus, Columns: Columns{Description: "reporter"}, Header: HeaderComment}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err %v, want a *ConfigError", err)
			}
			if len(ce.Problems) != len(tc.want) {
				t.Fatalf("problems %q, want %q", ce.Problems, tc.want)
			}
			for i, p := range ce.Problems {
				if !strings.Contains(p, tc.want[i]) {
					t.Errorf("problem %d %q, want %q", i, p, tc.want[i])
				}
			}
		})
	}
}

func TestNewNeedsConverters(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{
		{Name: "t", Kind: KindTAXII, URL: "https://t.example/taxii2/", Collection: "c"},
		{Name: "o", Kind: KindOpenCTI, URL: "https://o.example", Token: "x"},
		{Name: "ot", Kind: KindOpenCTI, API: OpenCTITAXII, URL: "https://o.example", Token: "x", Collection: "c"},
	} {
		if _, err := New(c, Options{}); err == nil || !strings.Contains(err.Error(), "needs a STIX") {
			t.Errorf("%s: %v, want a missing converter error", c.Name, err)
		}
	}
	err := (&Config{Name: "bad", Kind: "x", Path: "p"}).Validate()
	if err == nil || !strings.HasPrefix(err.Error(), `intel source "bad": kind:`) {
		t.Errorf("error text %v", err)
	}
}

func TestDurationYAML(t *testing.T) {
	t.Parallel()
	tests := map[string]time.Duration{"90s": 90 * time.Second, "1h30m": 90 * time.Minute, "7d": 7 * 24 * time.Hour}
	for in, want := range tests {
		var d Duration
		if err := yaml.Unmarshal([]byte(in), &d); err != nil || d.Duration != want {
			t.Errorf("%q: %v, %v; want %v", in, d, err, want)
		}
	}
	for _, bad := range []string{"soon", "-d", "1.5d", "[1]"} {
		var d Duration
		if err := yaml.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%q accepted as %v", bad, d)
		}
	}
	out, err := yaml.Marshal(Duration{time.Hour})
	if err != nil || strings.TrimSpace(string(out)) != "1h0m0s" {
		t.Errorf("marshal: %q, %v", out, err)
	}
}
