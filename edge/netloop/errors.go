package netloop

import (
	"errors"
	"fmt"
	"net"
)

// Errors reported to Session.OnClose, returned by Conn and Server methods, or
// handed to Refuser.Refuse. Test them with errors.Is.
var (
	// ErrServerClosed is returned by Serve after Shutdown or Close, and is the
	// close reason of connections ended by a shutdown.
	ErrServerClosed = errors.New("netloop: server closed")
	// ErrConnClosed is returned by writes on a closed connection. It matches net.ErrClosed.
	ErrConnClosed = fmt.Errorf("netloop: connection closed: %w", net.ErrClosed)

	// ErrTooManyConns refuses a connection over Limits' global maximum.
	ErrTooManyConns = errors.New("netloop: too many connections")
	// ErrTooManyFromIP refuses a connection over the per-address maximum.
	ErrTooManyFromIP = errors.New("netloop: too many connections from this address")
	// ErrTooManySessions is returned by Limits.AcquireUser over the per-user maximum.
	ErrTooManySessions = errors.New("netloop: too many sessions for this user")
	// ErrUntrustedPeer closes a connection to a listener that requires a PROXY
	// header from a peer outside the trusted networks.
	ErrUntrustedPeer = errors.New("netloop: peer is not a trusted proxy")

	// ErrIdleTimeout closes a connection whose client stayed silent too long.
	ErrIdleTimeout = errors.New("netloop: idle timeout")
	// ErrHandshakeTimeout closes a connection whose TLS handshake did not finish in time.
	ErrHandshakeTimeout = errors.New("netloop: TLS handshake timeout")
	// ErrHeaderTimeout closes a connection whose PROXY header did not arrive in time.
	ErrHeaderTimeout = errors.New("netloop: PROXY header timeout")
	// ErrInboundOverflow closes a connection that sent more unconsumed data
	// than Config.MaxInbound (a flood, or a line longer than the protocol allows).
	ErrInboundOverflow = errors.New("netloop: inbound buffer limit exceeded")
	// ErrOutboundOverflow closes a connection whose queued output exceeded
	// Config.MaxOutbound: the client does not read what it asked for.
	ErrOutboundOverflow = errors.New("netloop: outbound buffer limit exceeded")
	// ErrStartTLSNotAllowed is returned by Conn.StartTLS when the listener does
	// not offer STARTTLS or the connection is already encrypted.
	ErrStartTLSNotAllowed = errors.New("netloop: STARTTLS not allowed on this connection")

	// ErrPoolFull is returned by Pool.Submit when the queue is at its limit.
	ErrPoolFull = errors.New("netloop: worker pool queue full")
	// ErrPoolClosed is returned by Pool.Submit after Pool.Close.
	ErrPoolClosed = errors.New("netloop: worker pool closed")
)
