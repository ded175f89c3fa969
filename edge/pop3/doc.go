// Package pop3 is Eider's POP3 server: RFC 1939 with CAPA and response
// codes (RFC 2449), AUTH PLAIN (RFC 5034, RFC 4616), STLS (RFC 2595),
// UTF8 (RFC 6856) and the AUTH-RESP-CODE codes (RFC 3206). NewServer
// returns a netloop.Handler; give it a ModeStartTLS listener (POP3 with
// STLS) and a ModeTLS one (POP3S).
//
// # Login
//
// USER/PASS and AUTH PLAIN (with or without an initial response; a bare
// AUTH lists the mechanisms) check the password with Engine.Authenticate
// on a worker. Passwords are refused on a connection without TLS unless
// Config.AllowPlaintextAuth is set: before STLS, CAPA lists neither USER
// nor SASL, and USER, PASS and AUTH answer "-ERR [AUTH] Plaintext
// authentication disallowed". APOP is refused and the greeting carries no
// timestamp: APOP needs the password in the clear on the server. A failed
// login is answered after Config.AuthFailureDelay (a timer, not a sleeping
// worker) with -ERR [AUTH]; Config.MaxAuthFailures of them close the
// connection. A store failure answers -ERR [SYS/TEMP].
//
// # The maildrop
//
// A session serves its user's INBOX: the newest Config.MaxMessages
// messages (default 1,000) at login, numbered by ascending UID. The list
// holds only UIDs and sizes; messages arriving later appear in the next
// session. One session per user may hold the maildrop; a second login gets
// -ERR [IN-USE] (RFC 2449) until the first session ends. The lock is the
// handler's own and, on a metadata store shared by several nodes (a
// cluster), also a lease in the store, so a session on another node is
// refused as well; a node that dies frees its leases after
// Config.MaildropLease, and the UPDATE state removes nothing unless the
// session still holds its lease.
//
// Unique-ids (UIDL) are "<uidvalidity>.<uid>" of the INBOX message: UIDs
// are never reused within a mailbox and a recreated mailbox gets a new
// UIDVALIDITY, so an id never names another message; both numbers live in
// the metadata store, so every node and every session gives the same
// answer. The EmailID is not used because a copy keeps it: two messages of
// one INBOX may share it, and a maildrop's ids must be unique.
//
// # Reading and changing
//
// RETR and TOP stream the message from the store through codec/pop3's
// dot-stuffer to Conn.Writer, which blocks the worker while the client is
// behind: a message is never held whole in memory. Octets go out as stored,
// bare LF line endings included; the size in LIST and STAT is the stored
// size (RFC822.SIZE). A message expunged by another session since login
// answers -ERR; a store failure after the first octets closes the
// connection, since the reply can no longer be ended cleanly.
//
// DELE and the \Seen flag of a retrieved message are recorded in the
// session and applied only in the UPDATE state, after QUIT (RFC 1939 6):
// \Seen for every message retrieved with RETR (TOP does not count), then
// the deleted messages are expunged, or moved to the Trash mailbox (found
// by its \Trash special use, created if missing) with
// Config.DeleteToTrash. A connection that drops before QUIT changes
// nothing; once QUIT has arrived its changes are applied even if the
// client hangs up without reading the answer.
//
// # UTF8
//
// CAPA lists UTF8 (as "UTF8 USER" when passwords are accepted, so UTF-8
// user names and passwords work) and the UTF8 command is accepted before
// login. Messages are always sent as stored: Eider keeps no downgraded form
// (RFC 6857), so a client that did not enable UTF8 mode still gets a
// message with UTF-8 header fields as it arrived.
package pop3
