// Package lmtp is Eider's LMTP server (RFC 2033): the way mail enters the
// store from an MTA (Postfix, Exim, Haraka). NewServer returns a
// netloop.Handler; the session is a state machine driven by the event loop
// over codec/smtp's push parser.
//
// # What it speaks
//
// LHLO, MAIL, RCPT, DATA, BDAT (CHUNKING), RSET, NOOP, QUIT, VRFY (always
// 252), HELP and STARTTLS (on a netloop.ModeStartTLS listener), with
// PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES and SIZE. EHLO and
// HELO are answered 500 5.5.1: LMTP greets with LHLO. BINARYMIME is not
// offered. After the message every accepted recipient gets its own reply,
// in RCPT order (RFC 2033 4.2).
//
// # Recipients
//
// RCPT resolves through Engine.ResolveRecipient (exact address, alias,
// user+label, case and IDN rules). Unknown: 550 5.1.1. A malformed address:
// 501 5.1.3 from the parser, 553 5.1.3 when the engine rejects it. A UTF-8
// address without MAIL's SMTPUTF8 parameter: 553 5.6.7. Past
// Config.MaxRecipients: 452 4.5.3, so the MTA sends the rest in another
// transaction. A user whose quota cannot take the declared SIZE (or who is
// already full) is refused at RCPT with 552 5.2.2, or 452 4.2.2 with
// Config.QuotaTemporary; the store checks again at commit, and a recipient
// over quota then gets the same code after the message.
//
// Lookups run on the worker pool, all pipelined RCPTs of a batch in one job.
// The connection is not paused meanwhile: events whose replies must follow
// the RCPT replies (DATA, RSET, a BDAT chunk's end, ...) are deferred, but
// the bytes of a BDAT chunk pipelined behind the RCPTs keep streaming into
// the spool. gnet reads sockets whatever a session does, so a paused
// connection would otherwise hold a large chunk in netloop's input buffer
// and be cut at its limit.
//
// # The message
//
// DATA and BDAT bytes are unstuffed by the parser as they arrive and go
// into a spool read by a goroutine that runs Engine.Deliver: the message is
// parsed once and stored for every recipient, sharing its blobs, with
// "Return-Path: <sender>" and "Delivered-To: <rcpt as given>" in front of
// each copy (so a user+label address stays visible and searchable). The
// spool keeps up to Config.SpoolMemory bytes in memory and spills the rest
// to an unlinked temporary file in Config.SpoolDir: the loop never blocks,
// the heap stays bounded when the store is slower than the network, and no
// connection is cut for it. Config.JunkRules file a message with a spam
// verdict header into the recipient's Junk mailbox.
//
// Over the size limit: 552 5.3.4 at MAIL when SIZE declared it, else after
// the message, once per recipient (a chunk that passes it ends a BDAT
// transaction with one 552). A store failure answers 451 4.3.0 for the
// recipients it hit, so the MTA retries those only. A connection that
// closes before the end of the message, RSET, or a new transaction drops
// the message: nothing is stored (blobs already written are unreferenced
// and left to blob GC). Once the message is complete, its copies are stored
// even if the client hangs up before reading the replies.
//
// # Bare LF and the end of DATA
//
// The parser ends DATA at a dot line whose line ending, or the one before
// it, is a bare LF ("\n.\n", "\r\n.\n", "\n.\r\n") and flags it: that is the
// SMTP smuggling pattern, where an MTA that reads it differently would see
// the bytes after it as commands of a new transaction. LMTP sits behind a
// trusted MTA, but the safe default still applies: such a message is
// refused with 554 5.6.0 for every recipient, nothing is stored, and the
// connection is closed so that whatever follows is never run as commands.
// Config.AllowBareLFTerminator accepts it instead. Bare LF line endings
// inside a message are not refused: they are stored byte for byte.
package lmtp
