// Package imap is Eider's IMAP server (IMAP4rev1, RFC 3501, and
// IMAP4rev2, RFC 9051) over the engine, as a netloop.Handler.
//
// # Sessions
//
// Each connection is a state machine driven by netloop's OnData: bytes go
// into codec/imap's push parser, and events that need no store call
// (literal continuations, parse errors, APPEND data, STARTTLS) are
// answered on the event loop. Everything else runs on the worker pool:
// the connection's input is paused, a worker takes the session, runs the
// command and any commands pipelined behind it, then resumes input.
// Responses are gathered and written with Conn.Write from the loop, or
// through Conn.Writer from a worker, so a FETCH of a large message streams
// from the store with back-pressure.
//
// APPEND never buffers a whole message: its literal streams from the
// parser into a goroutine that feeds the engine's ingest; what the store
// has not taken yet waits in memory up to 1 MiB and in an unlinked
// temporary file beyond (netloop cannot stop reading a socket). Limits
// are checked before a synchronizing literal is accepted, so an APPEND
// over APPENDLIMIT or to a missing mailbox is refused unread. MULTIAPPEND
// commits all messages in one AppendMany: the first message streams into
// the engine and, when a second one follows, is redone from a spool with
// the others.
//
// # Mailbox view and sync
//
// The selected mailbox is a roaring bitmap of UIDs (message n is the n-th
// UID) plus what changed in the store and is not yet told: new UIDs,
// expunged UIDs, flag changes, new keywords. The engine's notifier marks
// the session dirty; the journal is read since the view's MODSEQ (or, when
// the journal no longer reaches back, the UID set is compared whole) and
// changes are reported after each command where RFC 9051 7.5.1 allows —
// never EXPUNGE after FETCH, STORE or SEARCH, whose clients may hold
// sequence numbers — and at once during IDLE. With QRESYNC expunges are
// VANISHED. NOOP and CHECK always read the journal, so a lost beacon
// costs at most one poll.
//
// # Hibernation
//
// A session in IDLE with nothing in flight hibernates (hibernate.go): it
// becomes a record of a few hundred bytes — user, enabled extensions, IDLE
// tag, the selected mailbox's UIDs serialized, its MODSEQ, counters and
// announced keywords — and its writer, buffers, bitmaps and the
// connection's context are released. Client input, a change beacon,
// autologout, shutdown or the connection's end wake it, and it answers as
// an awake session would. Sessions under COMPRESS stay awake.
//
// # Extensions
//
// IDLE, NAMESPACE, UNSELECT, UIDPLUS, MOVE, SPECIAL-USE,
// CREATE-SPECIAL-USE, CHILDREN, LIST-EXTENDED, LIST-STATUS, ENABLE,
// CONDSTORE, QRESYNC, ESEARCH, SEARCHRES, WITHIN, ID, LITERAL+, SASL-IR,
// AUTH=PLAIN, AUTH=LOGIN, UTF8=ACCEPT, QUOTA with QUOTA=RES-STORAGE,
// APPENDLIMIT, MULTIAPPEND, BINARY, STATUS=SIZE, OBJECTID and
// COMPRESS=DEFLATE (input through codec/deflate, which releases a
// client's partial flush at once; output with a sync flush per batch).
//
// Credentials are refused on plaintext connections (LOGINDISABLED)
// unless Config.AllowPlaintextLogin is set.
package imap
