package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrLocked means another process (normally a running server) holds the
// data directory.
var ErrLocked = errors.New("data directory is in use by another Vigil process")

type dirLock struct{ f *os.File }

// lockDir takes an exclusive advisory lock on DIR/lock. The lock dies with
// the process, so a crashed server never leaves a stale lock.
func lockDir(dir string) (*dirLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock: %w", err)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) release() {
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}

// ServerInfo is what a running server advertises in DIR/server.json so that
// CLI commands on the same data directory go through its API.
type ServerInfo struct {
	URL     string    `json:"url"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// ReadServerInfo reads DIR/server.json.
func ReadServerInfo(dir string) (ServerInfo, error) {
	var si ServerInfo
	b, err := os.ReadFile(filepath.Join(dir, "server.json"))
	if err != nil {
		return si, err
	}
	err = json.Unmarshal(b, &si)
	return si, err
}

// advertise writes DIR/server.json while the API serves, and removes it on
// the way out.
func (n *Node) advertise(ctx context.Context) error {
	path := filepath.Join(n.Opts.DataDir, "server.json")
	b, _ := json.Marshal(ServerInfo{URL: "http://" + n.HTTPAddr(), PID: os.Getpid(), Started: time.Now().UTC()})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	<-ctx.Done()
	_ = os.Remove(path)
	return nil
}

// WaitDrained waits until the storage and detection stages have finished
// everything this process submitted.
func (n *Node) WaitDrained(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		last := n.Ingest.LastSeq()
		if n.Store.Done() >= last && n.Detect.Done() >= last {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
