package asset

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

func openState(t testing.TB) *statedb.DB {
	t.Helper()
	db, err := statedb.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestParseCSVGolden parses a file with every kind of problem beside good
// rows and compares rows and problems with the golden file.
func TestParseCSVGolden(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "assets.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ParseCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"rows": c.Rows, "errors": c.Errors}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "assets.golden.json"), b.Bytes())
	if len(c.Rows) != 4 {
		t.Fatalf("%d good rows, want 4 (dc01, web01, lab, laptop1)", len(c.Rows))
	}
}

func TestParseCSVRefusesUnusableFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, err string }{
		{"empty", "", "empty"},
		{"no key column", "owner,role\nx,y\n", "neither a hostname nor an ip column"},
		{"broken header", "\"host\n", "read the header: parse error on line 1"},
	} {
		_, err := ParseCSV(strings.NewReader(tc.in))
		if !errors.Is(err, ErrBadCSV) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestSplitList(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a;b":         "a|b",
		"a, b ,c":     "a|b|c",
		"a b\tc":      "a|b|c",
		" ; ,":        "",
		"":            "",
		"single":      "single",
		"x;;y,\n z;;": "x|y|z",
	} {
		if got := strings.Join(splitList(in), "|"); got != want {
			t.Errorf("splitList(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestImportCSV imports into a real state database and maps the
// database's own refusals back to lines and columns.
func TestImportCSV(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openState(t)
	if _, err := db.CreateAsset(ctx, statedb.Asset{Hostname: "web01", Owner: "old", Notes: "keep"}); err != nil {
		t.Fatal(err)
	}
	in := "host,ips,owner,criticality\n" +
		"web01,10.0.1.1,web-team,high\n" + // line 2 updates, keeps notes
		"new01,10.0.7.7,,\n" + // line 3 creates
		",10.0.8.8,,\n" + // line 4: no host name, creates by address
		"bad,10.0.9.9,,severe\n" + // line 5: bad criticality
		",,it,\n" // line 6: neither host name nor address
	rep, err := ImportCSV(ctx, db, strings.NewReader(in), statedb.ImportByHostname)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 2 || rep.Updated != 1 || rep.Unchanged != 0 || rep.Skipped != 2 || len(rep.Errors) != 2 {
		t.Fatalf("report %+v", rep)
	}
	want := []string{"line 5, column 4 (criticality): criticality \"severe\"", "line 6, column 1 (host): empty"}
	for i, w := range want {
		if !strings.HasPrefix(rep.Errors[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, rep.Errors[i].Error(), w)
		}
	}
	got, err := db.Assets(ctx, statedb.AssetFilter{Query: "web01"})
	if err != nil || len(got) != 1 || got[0].Owner != "web-team" || got[0].Notes != "keep" || got[0].Criticality != "high" {
		t.Fatalf("web01 after import: %+v %v", got, err)
	}
	rep, err = ImportCSV(ctx, db, strings.NewReader(in), statedb.ImportByHostname)
	if err != nil || rep.Unchanged != 3 || rep.Created+rep.Updated != 0 {
		t.Fatalf("second import %+v %v", rep, err)
	}
	rep, err = ImportCSV(ctx, db, strings.NewReader("ip,hostname\n10.0.7.7,web01\n"), statedb.ImportByAddress)
	if err != nil || len(rep.Errors) != 1 || rep.Errors[0].Name != "hostname" ||
		!strings.Contains(rep.Errors[0].Reason, "belongs to asset") {
		t.Fatalf("taken host name: %+v %v", rep, err)
	}
}

func FuzzParseCSV(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "assets.csv"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add("ip\n10.0.0.1\n\"10.0.0.2;10.0.0.3\"\n")
	f.Add("hostname,criticality\nx,\"high\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCSV(strings.NewReader(in))
		if err != nil {
			return
		}
		if len(c.Errors) > MaxCSVErrors+1 {
			t.Fatalf("%d errors, cap is %d", len(c.Errors), MaxCSVErrors)
		}
		for _, e := range c.Errors {
			if e.Line < 1 || e.Reason == "" {
				t.Fatalf("problem without line or reason: %+v", e)
			}
		}
		for _, r := range c.Rows {
			if r.Line < 2 {
				t.Fatalf("row at line %d", r.Line)
			}
			if r.Patch.Criticality != nil && statedb.CriticalityRank(*r.Patch.Criticality) == 0 {
				t.Fatalf("row %d kept criticality %q", r.Line, *r.Patch.Criticality)
			}
			if r.Patch.Addresses != nil {
				for _, a := range *r.Patch.Addresses {
					if n, err := statedb.NormalizeAddress(a); err != nil || n != a {
						t.Fatalf("row %d kept address %q", r.Line, a)
					}
				}
			}
		}
	})
}
