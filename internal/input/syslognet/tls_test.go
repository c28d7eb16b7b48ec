package syslognet

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnsureSelfSigned(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) // files present before the call
		hosts   []string
		wantNew bool // a new pair is made (not the prepared one)
		wantErr string
	}{
		{name: "fresh", hosts: []string{"logs.example.org", "192.0.2.7"}, wantNew: true},
		{name: "default hosts", wantNew: true},
		{name: "reuses a valid pair", prepare: writePair(time.Now()), hosts: []string{"other.example"}},
		{name: "replaces an expired pair", prepare: writePair(time.Now().Add(-6 * 365 * 24 * time.Hour)), wantNew: true},
		{name: "corrupt certificate", prepare: writeFiles("garbage", "garbage"), wantErr: "unusable"},
		{name: "certificate without key", prepare: func(t *testing.T, dir string) {
			writePair(time.Now())(t, dir)
			os.Remove(filepath.Join(dir, SelfSignedKeyName))
		}, wantErr: "key is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "data")
			var before []byte
			if tc.prepare != nil {
				tc.prepare(t, dir)
				before, _ = os.ReadFile(filepath.Join(dir, SelfSignedCertName))
			}
			certFile, keyFile, err := EnsureSelfSigned(dir, tc.hosts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			after, err := os.ReadFile(certFile)
			if err != nil {
				t.Fatal(err)
			}
			if gotNew := !bytes.Equal(before, after); gotNew != tc.wantNew {
				t.Errorf("new pair made: %v, want %v", gotNew, tc.wantNew)
			}
			checkPair(t, certFile, keyFile, tc.hosts, tc.wantNew)
			// A second call reuses what the first left.
			if _, _, err := EnsureSelfSigned(dir, nil); err != nil {
				t.Fatal(err)
			}
			if again, _ := os.ReadFile(certFile); !bytes.Equal(again, after) {
				t.Error("second call replaced a valid pair")
			}
		})
	}
}

// checkPair checks the key pair's files, key type and, for a new pair,
// the certificate's names.
func checkPair(t *testing.T, certFile, keyFile string, hosts []string, isNew bool) {
	t.Helper()
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		t.Errorf("key is %T, want ECDSA P-256", pair.PrivateKey)
	}
	if !isNew {
		return
	}
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	var names []string
	names = append(names, pair.Leaf.DNSNames...)
	for _, ip := range pair.Leaf.IPAddresses {
		names = append(names, ip.String())
	}
	slices.Sort(names)
	want := slices.Sorted(slices.Values(hosts))
	if !slices.Equal(names, want) {
		t.Errorf("certificate names %v, want %v", names, want)
	}
	if pair.Leaf.NotAfter.Before(time.Now().Add(4 * 365 * 24 * time.Hour)) {
		t.Errorf("certificate expires %v", pair.Leaf.NotAfter)
	}
}

// writePair writes a self-signed pair made at now into dir.
func writePair(now time.Time) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		certPEM, keyPEM, err := makeSelfSigned([]string{"localhost"}, now)
		if err != nil {
			t.Fatal(err)
		}
		writeFiles(string(certPEM), string(keyPEM))(t, dir)
	}
}

func writeFiles(cert, key string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, SelfSignedCertName), []byte(cert), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, SelfSignedKeyName), []byte(key), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTLSListener sends over TLS with a Go client that verifies the
// self-signed certificate New made in DataDir.
func TestTLSListener(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sink := &collectSink{}
	rec := &rejectLog{}
	r := startServer(t, Config{TLS: "127.0.0.1:0", DataDir: dir, FlushInterval: 20 * time.Millisecond}, sink, rec)

	certPEM, err := os.ReadFile(filepath.Join(dir, SelfSignedCertName))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(certPEM) {
		t.Fatal("cannot read the certificate New made")
	}
	conn, err := tls.Dial("tcp", r.tls.String(), &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatalf("TLS dial verifying the self-signed certificate: %v", err)
	}
	fmt.Fprintf(conn, "%s%s\n%s", oc(msg5424), msg3164, oc(msgNoHost))
	conn.Close()

	// A plain TCP client on the TLS port fails the handshake and delivers
	// nothing.
	plain, err := net.Dial("tcp", r.tls.String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(plain, "%s\n", msg3164)
	plain.SetReadDeadline(time.Now().Add(15 * time.Second))
	if _, err := plain.Read(make([]byte, 512)); err == nil {
		t.Log("server answered the plain client (with a TLS alert)")
	}
	plain.Close()

	waitSettled(t, r.s, 3)
	checkEvents(t, sink.events(), []wantEvent{ev5424, ev3164, evNoHost})
	checkRejects(t, rec.all(), nil)
	if block, _ := pem.Decode(certPEM); block == nil || block.Type != "CERTIFICATE" {
		t.Error("certificate file is not PEM")
	}
}
