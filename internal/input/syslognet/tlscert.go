package syslognet

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Names and lifetime of the self-signed pair EnsureSelfSigned keeps.
const (
	SelfSignedCertName = "syslog-tls.crt"
	SelfSignedKeyName  = "syslog-tls.key"
	selfSignedValidity = 5 * 365 * 24 * time.Hour
	// renewBefore is how close to expiry an existing pair is replaced.
	renewBefore = 7 * 24 * time.Hour
)

// EnsureSelfSigned returns the paths of a self-signed TLS certificate and
// key in dir, making them when absent or about to expire: an ECDSA P-256
// key written with mode 0600 and a certificate for hosts (DNS names or IP
// addresses; "localhost", 127.0.0.1 and ::1 when hosts is empty) valid for
// five years. An existing valid pair is reused whatever its hosts; a
// certificate that exists but cannot be loaded with its key is an error,
// not silently replaced.
func EnsureSelfSigned(dir string, hosts []string) (certFile, keyFile string, err error) {
	if dir == "" {
		return "", "", errors.New("syslognet: self-signed certificate: no directory given")
	}
	certFile = filepath.Join(dir, SelfSignedCertName)
	keyFile = filepath.Join(dir, SelfSignedKeyName)
	now := time.Now()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	switch {
	case err == nil && pair.Leaf != nil && pair.Leaf.NotAfter.After(now.Add(renewBefore)):
		return certFile, keyFile, nil
	case err == nil:
		// Expired or about to: make a new pair below.
	case errors.Is(err, fs.ErrNotExist):
		if _, statErr := os.Stat(certFile); statErr == nil {
			return "", "", fmt.Errorf("syslognet: %s exists but its key is missing: %w", certFile, err)
		}
	default:
		return "", "", fmt.Errorf("syslognet: existing TLS pair in %s is unusable (remove it to make a new one): %w", dir, err)
	}
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	certPEM, keyPEM, err := makeSelfSigned(hosts, now)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("syslognet: self-signed certificate: %w", err)
	}
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := writeFileAtomic(certFile, certPEM, 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// makeSelfSigned makes a key and a certificate for hosts, both PEM.
func makeSelfSigned(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("syslognet: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("syslognet: certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: hosts[0], Organization: []string{"Vigil syslog listener"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(selfSignedValidity),
		// Marked as a CA so that clients can trust the certificate itself
		// as their CA file.
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("syslognet: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("syslognet: encode key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so a crash never leaves a partial file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("syslognet: write %s: %w", path, err)
	}
	tmp := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("syslognet: write %s: %w", path, err)
	}
	return nil
}

// defaultHosts lists the names a self-signed certificate for a listener on
// listenHost is made for.
func defaultHosts(listenHost string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if name, err := os.Hostname(); err == nil && name != "" && name != "localhost" {
		hosts = append([]string{name}, hosts...)
	}
	if ip := net.ParseIP(listenHost); listenHost != "" && (ip == nil || !ip.IsUnspecified() && !ip.IsLoopback()) {
		hosts = append(hosts, listenHost)
	}
	return hosts
}
