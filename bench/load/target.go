package load

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// Target is where a run connects and how.
type Target struct {
	Addr     string // host:port
	TLS      bool   // implicit TLS from the first byte
	StartTLS bool   // upgrade with the protocol's STARTTLS/STLS after the greeting
	Insecure bool   // do not verify the server's certificate (self-signed test servers)
	// TLSConfig, when set, is used as is (tests pass one that trusts their
	// certificate); otherwise one is derived from Addr and Insecure.
	TLSConfig *tls.Config
	// DialTimeout bounds the TCP connect and the TLS handshake; default 10 s.
	DialTimeout time.Duration
}

// ClientTLS returns the TLS configuration for connections to t.
func (t Target) ClientTLS() *tls.Config {
	if t.TLSConfig != nil {
		return t.TLSConfig.Clone()
	}
	host, _, err := net.SplitHostPort(t.Addr)
	if err != nil {
		host = t.Addr
	}
	return &tls.Config{ServerName: host, InsecureSkipVerify: t.Insecure, MinVersion: tls.VersionTLS12}
}

// Dial connects to t from local (nil: any source address) and, with
// implicit TLS, completes the handshake before returning.
func (t Target) Dial(ctx context.Context, local net.Addr) (net.Conn, error) {
	timeout := t.DialTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := net.Dialer{LocalAddr: local}
	c, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, err
	}
	if !t.TLS {
		return c, nil
	}
	tc, err := t.Handshake(ctx, c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

// Handshake runs a client TLS handshake over c (for STARTTLS, after the
// protocol agreed to it).
func (t Target) Handshake(ctx context.Context, c net.Conn) (net.Conn, error) {
	tc := tls.Client(c, t.ClientTLS())
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("tls handshake with %s: %w", t.Addr, err)
	}
	return tc, nil
}

// Validate checks the options that do not depend on the protocol.
func (t Target) Validate() error {
	if t.Addr == "" {
		return fmt.Errorf("no server address")
	}
	if _, _, err := net.SplitHostPort(t.Addr); err != nil {
		return fmt.Errorf("server address %q: %w", t.Addr, err)
	}
	if t.TLS && t.StartTLS {
		return fmt.Errorf("--tls and --starttls exclude each other")
	}
	return nil
}
