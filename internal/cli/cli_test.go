package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/node"
	"github.com/vigil-soc/vigil/internal/schema"
)

func testEnv(extra map[string]string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""),
		Getenv: func(k string) string { return extra[k] }}, &out, &errb
}

func run(t *testing.T, env *Env, args ...string) int {
	t.Helper()
	return Run(context.Background(), env, args)
}

const authLog = "Nov 19 10:00:00 bastion sshd[99]: Failed password for root from 203.0.113.5 port 4242 ssh2\n" +
	"Nov 19 10:00:05 bastion sshd[99]: Accepted publickey for alice from 10.0.0.7 port 5050 ssh2: ED25519 SHA256:abc\n" +
	"\xff\xfe broken line\n"

func TestImportSearchAlertsSourcesDirect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	logs := filepath.Join(dir, "auth.log")
	if err := os.WriteFile(logs, []byte(authLog), 0o644); err != nil {
		t.Fatal(err)
	}
	env, out, errb := testEnv(nil)
	if code := run(t, env, "import", "--data", data, "--json", logs); code != 0 {
		t.Fatalf("import exit %d: %s", code, errb)
	}
	var sum struct {
		Read, Stored, Rejected int64
		ByReason               map[string]int64 `json:"rejected_by_reason"`
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("import output %q: %v", out, err)
	}
	if sum.Read != 3 || sum.Stored != 2 || sum.Rejected != 1 || sum.ByReason["invalid_utf8"] != 1 {
		t.Fatalf("summary %+v", sum)
	}

	env, out, errb = testEnv(nil)
	if code := run(t, env, "search", "--data", data, "--json", "source.ip:203.0.113.0/24"); code != 0 {
		t.Fatalf("search exit %d: %s", code, errb)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var ev schema.Event
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &ev) != nil || ev.User.Name != "root" || ev.Event.Outcome != "failure" {
		t.Fatalf("search output %q", out)
	}

	env, out, _ = testEnv(nil)
	if code := run(t, env, "sources", "--data", data, "--dead-letters", "5"); code != 0 {
		t.Fatal("sources failed")
	}
	if !strings.Contains(out.String(), "bastion") || !strings.Contains(out.String(), "invalid_utf8") {
		t.Fatalf("sources output %q", out)
	}
	env, out, _ = testEnv(nil)
	if code := run(t, env, "alerts", "--data", data, "--json"); code != 0 || out.Len() != 0 {
		t.Fatalf("alerts: exit %d, output %q (want none: one failure is no burst)", code, out)
	}
}

func TestCommandsGoThroughTheRunningServer(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	cfg := config.Default()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Syslog.UDP, cfg.Syslog.TCP, cfg.Syslog.TLS = "", "", ""
	cfg.Flows = config.FlowsConfig{NetFlow: "127.0.0.1:0"}
	n, err := node.Open(context.Background(), cfg, node.Options{DataDir: data, Listen: true}, newLogger(os.Stderr, "error"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()
	defer func() { cancel(); <-done; n.Close() }()
	for i := 0; ; i++ {
		if _, err := node.ReadServerInfo(data); err == nil {
			break
		}
		if i > 200 {
			t.Fatal("server.json not written")
		}
		time.Sleep(10 * time.Millisecond)
	}
	logs := filepath.Join(t.TempDir(), "auth.log")
	if err := os.WriteFile(logs, []byte(authLog), 0o644); err != nil {
		t.Fatal(err)
	}
	// The data dir is locked by the server: import goes through its API.
	env, out, errb := testEnv(nil)
	if code := run(t, env, "import", "--data", data, "--json", logs); code != 0 {
		t.Fatalf("import through the server: exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), `"stored":2`) {
		t.Fatalf("import output %q", out)
	}
	env, out, errb = testEnv(nil)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "alice") {
		out.Reset()
		if code := run(t, env, "search", "--data", data, "--json", "user.name:alice"); code != 0 {
			t.Fatalf("search through the server: %s", errb)
		}
		if time.Now().After(deadline) {
			t.Fatal("imported event not found through the server")
		}
		time.Sleep(50 * time.Millisecond)
	}
	env, out, _ = testEnv(nil)
	if code := run(t, env, "token", "create", "--data", data, "--name", "fb", "--role", "ingest"); code != 0 ||
		!strings.Contains(out.String(), `"token":"vgl_`) {
		t.Fatalf("token create: %q", out)
	}
}

func TestConfigCheckReportsEveryProblem(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "vigil.yaml")
	if err := os.WriteFile(f, []byte("log_level: loud\nhttp:\n  listen: nowhere\n  nope: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env, _, errb := testEnv(nil)
	if code := run(t, env, "config", "check", f); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{"vigil.yaml:1: log_level", "vigil.yaml:3: http.listen", "vigil.yaml:4", "nope"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("config check output lacks %q:\n%s", want, errb)
		}
	}
	env, out, _ := testEnv(nil)
	if code := run(t, env, "config", "default"); code != 0 || !strings.Contains(out.String(), "listen: 127.0.0.1:8080") {
		t.Fatalf("config default: %q", out)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	env, _, errb := testEnv(nil)
	if code := run(t, env, "frobnicate"); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Fatalf("exit %d %q", code, errb)
	}
	env, _, errb = testEnv(nil)
	if code := run(t, env, "import", "--format", "xml", "x"); code != 2 || !strings.Contains(errb.String(), "unknown format") {
		t.Fatalf("exit %d %q", code, errb)
	}
	env, out, _ := testEnv(nil)
	if code := run(t, env, "version"); code != 0 || !strings.HasPrefix(out.String(), "vigil ") {
		t.Fatalf("version: %q", out)
	}
}
