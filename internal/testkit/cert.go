package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// Cert is a self-signed ECDSA P-256 certificate for localhost and
// 127.0.0.1, with the pool a client needs to trust it. Servers under test
// listen on loopback with real TLS, so every protocol test needs one; it
// is generated per test because generation is cheap and nothing on disk
// has to be kept in step with the code.
type Cert struct {
	Cert    tls.Certificate
	Roots   *x509.CertPool // trusts Cert, for clients
	CertPEM []byte         // the certificate, for clients that read a CA file
}

// NewCert makes a Cert with the common name cn, valid from an hour ago for
// a day.
func NewCert(t testing.TB, cn string) Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return Cert{
		Cert:    tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		Roots:   roots,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	}
}

// ServerConfig returns one shared configuration in the form netloop wants,
// as a server hands out between certificate reloads.
func (c Cert) ServerConfig() func(*tls.ClientHelloInfo) (*tls.Config, error) {
	cfg := &tls.Config{Certificates: []tls.Certificate{c.Cert}, MinVersion: tls.VersionTLS12}
	return func(*tls.ClientHelloInfo) (*tls.Config, error) { return cfg, nil }
}

// ClientConfig returns a client configuration that trusts only c and
// verifies the name localhost.
func (c Cert) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: c.Roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}
}
