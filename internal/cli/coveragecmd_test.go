package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-soc/vigil/internal/api"
	"github.com/vigil-soc/vigil/internal/coverage"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// runCoverageCode runs `vigil NAME args...` (coverage or report) and
// returns its exit status, through Run once commands() registers it.
func runCoverageCode(t *testing.T, env *Env, name string, args ...string) int {
	t.Helper()
	if _, ok := commands()[name]; ok {
		return run(t, env, append([]string{name}, args...)...)
	}
	f := runCoverage
	if name == "report" {
		f = runReport
	}
	err := f(context.Background(), env, args)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "vigil %s: %v\n", name, ue.err)
		return 2
	}
	fmt.Fprintf(env.Stderr, "vigil %s: %v\n", name, err)
	return 1
}

// coverageCSV expects a domain controller's Security log, syslog from
// bastion (which the auth log sends) and from a web server that never
// sends anything.
const coverageCSV = "hostname,criticality,role,expected_sources\n" +
	"dc01,critical,domain controller,winlogbeat:Security\n" +
	"bastion,high,jump host,syslog\n" +
	"web01,medium,web server,syslog\n"

func gapsOf(r coverage.Report) []string {
	var out []string
	for _, g := range r.Gaps {
		out = append(out, g.Kind+"/"+g.Asset+"/"+g.Expected)
	}
	return out
}

// TestCoverageCommandDirect works on a data directory: an imported auth
// log and inventory, the coverage as JSON and as tables, and the report in
// every format.
func TestCoverageCommandDirect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env, _, errb := testEnv(nil)
	if code := run(t, env, "import", "--data", data, "--json", writeFile(t, dir, "auth.log", authLog)); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errb)
	}
	env, _, errb = testEnv(nil)
	if code := run(t, env, "assets", "import", "--data", data, writeFile(t, dir, "assets.csv", coverageCSV)); code != 0 {
		t.Fatalf("assets import: exit %d: %s", code, errb)
	}
	env, out, errb := testEnv(nil)
	if code := runCoverageCode(t, env, "coverage", "--data", data, "--json"); code != 0 {
		t.Fatalf("coverage: exit %d: %s", code, errb)
	}
	var rep coverage.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	want := []string{"never_onboarded/dc01/", "never_onboarded/web01/"}
	if got := gapsOf(rep); !slices.Equal(got, want) || rep.Overall.Covered != 1 {
		t.Fatalf("gaps %q (want %q), overall %+v", got, want, rep.Overall)
	}
	env, out, _ = testEnv(nil)
	if code := runCoverageCode(t, env, "coverage", "--data", data, "--json=false"); code != 0 ||
		!strings.HasPrefix(out.String(), "critical assets: 0% covered (0 of 1), 1 domain controller (dc01) never sent any logs") ||
		strings.Index(out.String(), "never onboarded") > strings.Index(out.String(), "\nASSET ") {
		t.Fatalf("coverage table %q", out)
	}
	for _, tt := range []struct{ format, want string }{
		{"md", "## Coverage of critical assets"}, {"html", "<h2>Silent sources</h2>"}, {"json", `"critical_gaps"`},
	} {
		file := filepath.Join(dir, "report."+tt.format)
		env, _, errb = testEnv(nil)
		if code := runCoverageCode(t, env, "report", "blindspots", "--data", data, "--format", tt.format, "--out", file); code != 0 {
			t.Fatalf("report %s: exit %d: %s", tt.format, code, errb)
		}
		b, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(b), tt.want) || !strings.Contains(string(b), "dc01") {
			t.Errorf("report %s: %v %s", tt.format, err, b)
		}
	}
}

func TestCoverageCommandUsage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"coverage", []string{"extra"}}, {"coverage", []string{"--silent-after", "-1h"}}, {"coverage", []string{"--nope"}},
		{"report", nil}, {"report", []string{"weekly"}}, {"report", []string{"blindspots", "--format", "pdf"}},
		{"report", []string{"blindspots", "--days", "0"}}, {"report", []string{"blindspots", "x"}},
	} {
		env, _, errb := testEnv(nil)
		if code := runCoverageCode(t, env, tt.name, tt.args...); code != 2 || errb.Len() == 0 {
			t.Errorf("%s %q: exit %d, want 2 with a message (%q)", tt.name, tt.args, code, errb)
		}
	}
}

// TestCoverageCommandRemote runs both commands against an API server.
func TestCoverageCommandRemote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := statedb.Open(ctx, filepath.Join(t.TempDir(), "state.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, _, err := st.CreateToken(ctx, "viewer", statedb.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAsset(ctx, statedb.Asset{Hostname: "db-01", Criticality: "critical", ExpectedSources: []string{"syslog"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.ApplySourceDeltas(ctx, []statedb.SourceDelta{{Host: "db-01", Input: "syslog", Events: 1,
		LastReceived: time.Now().Add(-3 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{}, api.Deps{State: st, Registry: prometheus.NewRegistry(), Log: quiet}).Handler())
	defer srv.Close()
	remote := []string{"--server", srv.URL, "--token", tok}
	env, out, errb := testEnv(nil)
	if code := runCoverageCode(t, env, "coverage", append([]string{"--json", "--silent-after", "1h"}, remote...)...); code != 0 {
		t.Fatalf("coverage: exit %d: %s", code, errb)
	}
	var rep coverage.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || !slices.Equal(gapsOf(rep), []string{"silent/db-01/syslog"}) ||
		rep.SilentAfter != "60m" {
		t.Fatalf("coverage %q: %v", out, err)
	}
	env, out, errb = testEnv(nil)
	if code := runCoverageCode(t, env, "report", append([]string{"blindspots", "--format", "html", "--days", "3"}, remote...)...); code != 0 ||
		!strings.Contains(out.String(), "(3 days)") || !strings.HasPrefix(out.String(), "<!doctype html>") {
		t.Fatalf("report: exit %d %q %q", code, out, errb)
	}
	env, _, errb = testEnv(nil)
	if code := runCoverageCode(t, env, "coverage", "--server", srv.URL, "--token", "wrong"); code != 1 ||
		!strings.Contains(errb.String(), "401") {
		t.Fatalf("bad token: exit %d %q", code, errb)
	}
}
