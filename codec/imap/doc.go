// Package imap is a sans-I/O codec for IMAP4rev1 (RFC 3501) and IMAP4rev2
// (RFC 9051) servers: a push-fed command parser and a response writer.
//
// The parser never reads from a socket and never blocks. The caller feeds it
// whatever bytes arrived (Parser.Feed) and pulls events (Parser.Next) until it
// reports EventNeedMore. Synchronizing literals surface as events so the
// caller decides whether to send a continuation request; APPEND message
// bodies are handed out in chunks and never buffered whole.
//
// The writer formats responses onto an io.Writer that the caller buffers.
// FETCH body sections are written as a literal prefix after which the caller
// streams exactly the announced number of bytes.
//
// Besides the base protocols the grammar of these extensions is understood:
// IDLE, NAMESPACE, UNSELECT, UIDPLUS, MOVE, SPECIAL-USE, CREATE-SPECIAL-USE,
// LIST-EXTENDED, LIST-STATUS, ENABLE, CONDSTORE, QRESYNC, ESEARCH, SEARCHRES,
// ID, LITERAL+, LITERAL-, SASL-IR, UTF8=ACCEPT, QUOTA, APPENDLIMIT, BINARY,
// STATUS=SIZE, OBJECTID, WITHIN, SAVEDATE, MULTIAPPEND and COMPRESS.
package imap
