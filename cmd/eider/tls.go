package main

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
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// certStore holds the server certificate and reloads it on demand (SIGHUP),
// so a renewed certificate takes effect for the next handshake without a
// restart.
type certStore struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
	// shared is the one configuration of every handshake: each TLS
	// connection keeps the configuration it was made with, and one per
	// connection cost ~250 B of every idle connection and gave each its
	// own session ticket keys (no resumption across connections).
	shared *tls.Config
}

// newCertStore loads the configured certificate, or, when none is
// configured, a self-signed one kept in the data directory (generated on
// first start).
func newCertStore(cfg TLSConfig, dataDir string) (*certStore, error) {
	cs := &certStore{certFile: cfg.Cert, keyFile: cfg.Key}
	cs.shared = &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c := cs.cert.Load(); c != nil {
				return c, nil
			}
			return nil, errors.New("no certificate loaded")
		},
	}
	if cs.certFile == "" && cs.keyFile == "" {
		dir := filepath.Join(dataDir, "tls")
		cs.certFile, cs.keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		if !fileExists(cs.certFile) {
			if err := writeSelfSigned(dir, cs.certFile, cs.keyFile, cfg.Hostname); err != nil {
				return nil, fmt.Errorf("tls: self-signed certificate: %w", err)
			}
		}
	}
	return cs, cs.reload()
}

func (cs *certStore) reload() error {
	c, err := tls.LoadX509KeyPair(cs.certFile, cs.keyFile)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	cs.cert.Store(&c)
	return nil
}

// config is what every handshake uses; it reads the current certificate,
// so a reload needs no new configuration.
func (cs *certStore) config(*tls.ClientHelloInfo) (*tls.Config, error) { return cs.shared, nil }

func writeSelfSigned(dir, certFile, keyFile, host string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return err
	}
	if host == "" {
		host = "localhost"
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host, Organization: []string{"Eider self-signed"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{host, "localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}
