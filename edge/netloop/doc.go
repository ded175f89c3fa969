// Package netloop is the network layer under Eider's IMAP, POP3 and LMTP
// servers: gnet v2 event loops own the sockets, with TLS (implicit and
// STARTTLS), PROXY protocol v1/v2, connection limits, idle timeouts,
// back-pressured output and a worker pool for blocking work.
//
// # Writing a protocol
//
// A protocol implements Handler and Session:
//
//	type imapHandler struct{ pool *netloop.Pool }
//
//	func (h *imapHandler) Open(c *netloop.Conn) netloop.Session {
//		c.Write([]byte("* OK Eider ready\r\n"))
//		return &imapSession{c: c, pool: h.pool}
//	}
//
//	func (s *imapSession) OnData(p []byte) int {
//		line, ok := completeLine(p)
//		if !ok {
//			return 0 // netloop keeps the bytes and calls again with more
//		}
//		s.c.Pause() // one command at a time; later input is held
//		err := s.pool.Submit(s.c.Context(), func() {
//			s.execute(line)  // store calls; large output via s.c.Writer(ctx)
//			s.c.Resume()     // held input is delivered again
//		})
//		...
//		return len(line)
//	}
//
// Every Session method runs on the connection's event loop goroutine, one at
// a time, and must not block. OnData returns how many bytes it consumed;
// netloop keeps the rest (up to Config.MaxInbound) and offers it again with
// the next bytes, so sessions need no read buffer of their own. Blocking work
// goes to a Pool; Conn.Pause marks the command in flight (input is held,
// the idle timer stops, graceful shutdown waits for it) and Conn.Resume ends
// it. A worker whose last reply invites the client to send more (an IMAP "+"
// continuation) ends it with Conn.ResumeWith(reply) instead: input is
// released on the loop right after the reply reaches the socket, so the
// client's answer is never held.
//
// Conn.Write is asynchronous and safe from any goroutine: it copies the bytes
// and queues them on the loop. For large responses Conn.Writer returns an
// io.Writer that blocks the (worker) caller while more than Config.HighWater
// bytes are queued, so a slow reader of a 50 MB FETCH costs the server a few
// hundred KiB, not 50 MB. A client that stops reading while plain writes pile
// up past Config.MaxOutbound, or floods past Config.MaxInbound, is
// disconnected.
//
// # TLS
//
// crypto/tls runs over the loop through an in-memory transport: the
// handshake in a short-lived goroutine started by the client's first bytes
// and bounded by Config.HandshakeTimeout, then records are decrypted on the
// loop. An idle TLS connection keeps no goroutine. Config.TLSConfig is
// consulted for every ClientHello, so certificates can be reloaded at any
// time. Conn.StartTLS upgrades a ModeStartTLS connection; bytes the client
// pipelined after the STARTTLS command are discarded.
//
// # PROXY protocol and limits
//
// A listener with ProxyTrusted or ProxyRequired expects a PROXY v1 or v2
// header (within Config.HeaderTimeout) from peers in Config.TrustedProxies;
// Conn.RemoteAddr is then the client's address. Headers from other peers are
// ordinary protocol data (ProxyTrusted) or the peer is refused
// (ProxyRequired). Limits caps connections globally and per client address
// (after the PROXY header) and sessions per user (Limits.AcquireUser, called
// by the protocol after authentication). A Handler implementing Refuser
// answers refused connections with a protocol line.
//
// A session may trade itself for a smaller form while idle: Conn.OnLoop runs
// a function on the connection's loop, Conn.Replace (loop only) installs
// the new Session, and Conn.ReleaseContext drops the connection's context
// until it is needed again. Timeouts (PROXY header, TLS handshake, idle) are
// found by one sweep per Server (timers.go), not a timer per connection.
//
// # Lifecycle
//
// NewServer binds the listeners, Serve runs the loops until Shutdown (which
// calls Session.OnShutdown, waits for commands in flight and flushes output
// until its deadline) or Close. Logs go to Config.Logger via log/slog with
// the connection id and client address. The package keeps no global state.
//
// # Limitations
//
// gnet v2 offers no way to stop polling a socket for reads, so Pause holds
// input in memory rather than pushing back through TCP; a client that keeps
// sending while its command runs is cut off at Config.MaxInbound. Uploads
// (APPEND, LMTP DATA) must therefore be consumed as they arrive.
package netloop
