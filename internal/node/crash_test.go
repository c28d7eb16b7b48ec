package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/schema"
)

// TestMain lets the crash test re-run this test binary as a Vigil server
// that it can kill with SIGKILL.
func TestMain(m *testing.M) {
	if dir := os.Getenv("VIGIL_CRASH_CHILD"); dir != "" {
		os.Exit(runChild(dir))
	}
	os.Exit(m.Run())
}

func runChild(dir string) int {
	cfg := config.Default()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Syslog.UDP, cfg.Syslog.TCP, cfg.Syslog.TLS = "", "", ""
	cfg.Flows = config.FlowsConfig{NetFlow: "127.0.0.1:0"}
	cfg.Storage.MemoryLimit = "1GB"
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n, err := Open(context.Background(), cfg, Options{DataDir: dir, Listen: true}, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := n.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type child struct {
	cmd *exec.Cmd
	url string
}

func startChild(t *testing.T, dir string) *child {
	t.Helper()
	_ = os.Remove(filepath.Join(dir, "server.json"))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "VIGIL_CRASH_CHILD="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if si, err := ReadServerInfo(dir); err == nil && si.PID == cmd.Process.Pid {
			return &child{cmd: cmd, url: si.URL}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("child server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCrashLosesNothingAcknowledged ingests over HTTP at load, kills the
// server with SIGKILL mid-stream, restarts it, and checks that every
// acknowledged event is stored exactly once and no event is duplicated.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	c := startChild(t, dir)
	token := readToken(t, dir)
	var mu sync.Mutex
	acked := map[int]bool{}
	sent := 0
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for b := 0; ; b++ {
				select {
				case <-stop:
					return
				default:
				}
				base := (w*100000 + b) * 200
				var body bytes.Buffer
				for i := 0; i < 200; i++ {
					fmt.Fprintf(&body, `{"@timestamp":"2026-11-19T10:00:00Z","host":{"name":"load-%d"},"n":%d,"message":"crash test event %d"}`+"\n", w, base+i, base+i)
				}
				ok := post(c.url, token, body.Bytes())
				mu.Lock()
				sent += 200
				if ok {
					for i := 0; i < 200; i++ {
						acked[base+i] = true
					}
				}
				mu.Unlock()
				if !ok {
					return // the server is gone
				}
			}
		}(w)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
	close(stop)
	wg.Wait()
	mu.Lock()
	nAcked := len(acked)
	mu.Unlock()
	if nAcked == 0 {
		t.Fatal("no batch was acknowledged before the kill; the load was too slow")
	}
	t.Logf("sent %d events, %d acknowledged before SIGKILL", sent, nAcked)

	c = startChild(t, dir)
	defer func() { _ = c.cmd.Process.Signal(syscall.SIGTERM); _ = c.cmd.Wait() }()
	seen := waitStored(t, c.url, token, nAcked)
	for n := range acked {
		if seen[n] != 1 {
			t.Fatalf("acknowledged event n=%d stored %d times, want exactly once", n, seen[n])
		}
	}
	for n, k := range seen {
		if k != 1 {
			t.Fatalf("event n=%d stored %d times", n, k)
		}
	}
	t.Logf("after restart: %d distinct events stored, all %d acknowledged ones exactly once", len(seen), nAcked)
}

func readToken(t *testing.T, dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSpace(b))
}

func post(url, token string, body []byte) bool {
	req, _ := http.NewRequest("POST", url+"/api/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == 200
}

// waitStored pages through every stored event until the count is stable
// and at least want, and returns how often each n was seen.
func waitStored(t *testing.T, url, token string, want int) map[int]int {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	last := -1
	for {
		seen := map[int]int{}
		total := 0
		cursor := ""
		for {
			req, _ := http.NewRequest("GET", url+"/api/v1/events?limit=10000&order=asc&cursor="+cursor, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var page struct {
				Events []schema.Event `json:"events"`
				Next   string         `json:"next"`
			}
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range page.Events {
				v, _ := ev.Fields.Get("n")
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatalf("event without n: %+v", ev)
				}
				seen[n]++
				total++
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		if total >= want && total == last {
			return seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d events stored after restart, want at least %d", total, want)
		}
		last = total
		time.Sleep(500 * time.Millisecond)
	}
}
