// Package mongo is Eider's cluster metadata backend: an engine.MetaStore
// on a MongoDB replica set or sharded cluster (go.mongodb.org/mongo-driver/v2).
// Any number of Eider nodes share one store; no operation needs a
// multi-document transaction.
//
// # Collections and shard keys
//
//	counters   {_id: name, seq}                      unsharded (tiny)
//	           Ids: users, mailboxes, texts; a batch takes a range with one $inc.
//	users      {_id: UserID, name, password_hash, quota_limit, quota_used,
//	            message_count, created, last_uidvalidity, subs, ops}
//	           shard key {_id: 1}
//	usernames  {_id: name, user, at}                 shard key {_id: 1}
//	           The claim that makes login names unique across shards.
//	addresses  {_id: address, user, alias}           shard key {_id: 1}; index {user: 1}
//	mailboxes  {_id: MailboxID, user, name, uidvalidity, uidnext, modseq,
//	            journal_floor, checkpoints, recent_uid, messages, unseen,
//	            deleted, size, kws, kwf, pending}
//	           shard key {user: 1}; unique index {user: 1, name: 1};
//	           index {"pending.at": 1} for recovery
//	messages   {mailbox, uid, user, modseq, email_id, f, kw, kwf, idate, zone,
//	            sdate, size, text, blobs, env, st, inline, pending, claim}
//	           shard key {mailbox: 1, uid: 1} (also its unique index)
//	journal    {mailbox, modseq, uid, kind, flags, at}
//	           shard key {mailbox: 1, modseq: 1}; unique index
//	           {mailbox: 1, modseq: 1, uid: 1}; TTL index {at: 1} (JournalTTL)
//	texts      {_id, user, refs, data, tri, big, ops}
//	           shard key {user: 1, _id: 1}; multikey index {user: 1, tri: 1},
//	           index {user: 1, big: 1}
//	blobrefs   {_id: BlobID in hex, refs, ops}       shard key {_id: "hashed"}
//	ops        {_id, kind, user, src, dst, state, at, claim, ...}
//	           shard key {_id: "hashed"}; index {at: 1}
//	leases     {_id: name, holder, expires}         unsharded (engine.Leaser:
//	           the POP3 maildrop locks of the cluster)
//	dictionaries {_id: dictionary ID, data, added}  unsharded (engine.DictionaryStore:
//	           the engine's compression dictionaries, a few of 32 KiB)
//
// Open creates the indexes (idempotently); sharding the collections is an
// operator's step (sh.shardCollection with the keys above) described in
// docs/. A message is addressed by its full shard key everywhere on the
// hot path; mailboxes by user and id. A server that says it is FerretDB
// (buildInfo carries ferretdb fields) lacks TTL indexes: that index is
// logged and skipped there, and only there; PruneJournal does its work.
//
// # Writes without transactions
//
// UIDs and MODSEQs. A mailbox document holds UIDNEXT, the highest MODSEQ
// and the STATUS counters. An operation gets its MODSEQ and its range of
// UIDs (a batch of n messages: n UIDs, one MODSEQ) in one
// findOneAndUpdate that sets UIDNEXT and MODSEQ, $incs the counters and
// $pushes a pending entry {op, modseq, uid, n, delta, at}. The write is a
// compare-and-set on the UIDNEXT and MODSEQ it read, repeated when another
// writer got there first: a plain $inc could not record in the same write
// which MODSEQ the op got, and readers need that. Readers see a mailbox as
// of just before its oldest pending entry: its highest MODSEQ is one less
// than the entry's, UIDs from the entry's first UID on are hidden, and the
// journal is cut there. So a session never learns a MODSEQ past a change
// it cannot see yet, and never sees a UID before a smaller one that is
// still being written: operations commit in any order, sessions see them
// in MODSEQ and UID order.
//
// Op documents. Append, Copy, Move, Expunge, DeleteMailbox, DeleteUser and
// RenameMailbox first insert an op document describing everything they
// will change: the user's quota change, every blob's and text's reference
// change, the texts they create. Every counter document an op changes
// (user quota, blob and text reference counts) gets the op's id in its
// "ops" array in the same write, so recovery can see whether the change
// happened: it undoes a change only where the id is, and re-applies one
// only where it is not. The node running the op applies each change once
// (retryable writes make a retried write exactly-once) and addresses
// counter documents by _id alone; the quota charge is always conditional. Message documents an op adds carry "pending: op"
// (readers skip them); messages it removes carry "claim: op" (taken by
// one op only; a STORE leaves them alone). The commit is one conditional
// write on the op document (prepared → committed). After it the op makes
// its messages visible or deletes its claimed ones, releases references and
// quota, removes its markers and entries, and deletes the op document.
//
//	Append/Copy  op · quota (conditional on the limit) · blob and text refs ·
//	             new texts · mailbox allocation · messages (pending) ·
//	             journal · COMMIT · visible · markers cleared · op deleted
//	Expunge      op · claim · plan recorded in op · mailbox allocation
//	             (counters down) · journal · COMMIT · messages deleted ·
//	             quota, blob and text refs released · op deleted
//	Move         op · claim sources · allocation in both mailboxes ·
//	             targets (pending) · journal both sides · COMMIT ·
//	             targets visible · sources deleted · op deleted
//	StoreFlags   allocation · messages (each write conditional on the
//	             MODSEQ read) · journal · counters and entry end
//
// Quota is charged before the messages exist ($inc on the user document
// with the condition quota_used ≤ limit − size, so two nodes cannot both
// pass a limit) and released after they are gone: the stored usage is
// never below the true one while an op runs.
//
// Recovery. Recover (run by Open and every RecoveryInterval by each node)
// takes op documents older than RecoveryGrace, claiming each with a
// conditional write so passes on several nodes never work on one op, and
// rolls a prepared op back (pending messages deleted, claims released,
// markers undone with the recorded deltas, mailbox entries and their
// journal entries removed) or a committed one forward (the remaining
// steps, each idempotent). A claimed prepared op can no longer commit, so
// a node that was only slow gets an error instead of racing recovery; every
// operation also runs with a deadline of half the grace period. Mailbox
// entries without an op document (a STORE that died) get their journal
// completed from the messages carrying their MODSEQ and the mailbox's
// counters recounted, in a write conditional on nothing having changed.
// After recovery: no message is half visible, reference counts and quota
// equal the messages, and a moved message is in its source or its target.
//
// # Journal
//
// Every change writes a journal entry; a TTL index deletes entries older
// than JournalTTL. That deletion is silent, so each mailbox keeps
// checkpoints (MODSEQ, time), one per sixteenth of the TTL: once a
// checkpoint is older than the TTL every entry up to its MODSEQ may be
// gone, and Journal answers ErrJournalExpired for an older MODSEQ, as it
// does below the journal floor PruneJournal raises. It never returns a
// partial list: the answer is checked against the floor again after
// reading.
//
// # Search
//
// Search reads the mailbox's visible messages once as a projection of
// their small fields (UID, MODSEQ, EMAILID, flags, dates, size, text id)
// and evaluates every key on it in Go. Text keys use the texts collection:
// each message's header and body text, folded exactly as the embedded
// backend folds it (NFKC, then upper then lower case per rune) so both
// answer alike, compressed with zstd, shared by copies and reference
// counted, with the sorted list of its distinct byte trigrams under a
// multikey index {user, tri}. A needle's trigrams ($all) select candidate
// texts; each candidate is decompressed and checked. Needles under three
// bytes, and texts with too many trigrams (marked big), are checked
// without the index.
//
// # Reads and read preference
//
// A session must read its own writes, so everything it reads (mailboxes,
// messages, journal, status, quota, search) goes to the primary.
// ReadPreference applies only to Users, the account listing operators and
// the API page through, where a lag of a moment is harmless. STATUS counts
// completed operations only: the counter changes of running ones (applied
// when they allocate) are taken off.
//
// # FerretDB
//
// The tests run on an in-process FerretDB v1, which speaks the protocol
// but is not a MongoDB: its findOneAndUpdate is not atomic across
// connections, it answers $pull with a condition by removing nothing (the
// store pulls entries by their exact value, which both servers honour),
// and its time for one bulk write grows with the square of its statements,
// so on a server that says it is FerretDB bulk writes are cut into pieces
// of 16 statements (1,000 on MongoDB).
package mongo
