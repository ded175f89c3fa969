// Package sqlite is Eider's embedded metadata backend: an engine.MetaStore on
// one SQLite file (modernc.org/sqlite, pure Go) in WAL mode with
// synchronous=NORMAL.
//
// # Connections
//
// SQLite has one writer. Every write transaction runs on a pool of exactly
// one connection (BEGIN IMMEDIATE), so concurrent writers queue in Go and
// never see SQLITE_BUSY; reads run on a separate query_only pool and are not
// blocked by the writer. Statements are prepared once per connection and
// kept (the driver would parse them on every call). The SQL function the
// search needs is registered on a driver of this package's own. Pages are
// 8 KB: most text and inline rows are kilobytes, and smaller pages leave
// more of each page unused.
//
// # Rows
//
// A message row holds what a metadata FETCH reads (UID, MODSEQ, EMAILID,
// flags, dates, size, envelope, structure); inline segments live in their
// own table so scans read dense pages. System flags are bits, keywords a
// space-separated list. Each mailbox row keeps UIDNEXT, HIGHESTMODSEQ, its
// journal floor and exact STATUS counters, and each user row keeps quota
// usage and the last UIDVALIDITY given out; every operation updates them in
// its own transaction, and RecountQuota and RecountBlobRefs recompute them
// from the rows. A message's blob ids are packed in its row; blobs(id, refs)
// counts references and has no row for an unreferenced blob.
//
// # Search text
//
// Header and body text are folded on append (NFKC, then each rune through
// upper to lower case) and stored once per message, shared by its copies,
// as two zstd frames primed with a built-in dictionary of common header
// fields and phrases: on TextHeavy, about a third of the folded text.
// An FTS5 trigram index without positions (detail=none) finds candidates:
// on TextHeavy about 0.37× the raw mail once its segments are merged,
// against several times that with positions.
// Without positions the index cannot check that trigrams are adjacent, so
// every candidate's text is decoded and checked in Go, on several cores
// when there are many; needles shorter than three runes skip the index.
// Tokenising costs about a millisecond per 2 KB message, so by default new
// text is queued and a background worker indexes it when no write has run
// for a moment, in transactions that end as soon as a write waits; until
// then searches check the queued texts directly. Segment merging happens
// in the same idle time, never inside an indexing transaction, and the
// maintenance worker merges the index into one segment. Text ids are
// user<<32 | n, so a full-text query is limited to one user's rowid range.
//
// # Journal
//
// Every change writes a journal row (mailbox, MODSEQ, UID, kind, flags).
// PruneJournal deletes rows older than a cut-off and raises the mailbox's
// journal floor to the highest MODSEQ it deleted; Journal answers
// ErrJournalExpired below the floor. A worker prunes with
// Options.JournalRetention (7 days) every Options.MaintenanceInterval.
package sqlite
