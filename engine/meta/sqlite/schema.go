package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] brings the schema from version i to i+1 (PRAGMA
// user_version). Append new steps; never edit a released one.
var migrations = []string{
	// 1: the first schema.
	`
CREATE TABLE users (
	id               INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: a UserID names one account for good
	name             TEXT    NOT NULL UNIQUE,
	password_hash    TEXT    NOT NULL,
	quota_limit      INTEGER NOT NULL DEFAULT 0,
	quota_used       INTEGER NOT NULL DEFAULT 0,       -- sum of the user's message sizes, kept in every commit
	message_count    INTEGER NOT NULL DEFAULT 0,
	created          INTEGER NOT NULL,                 -- unix nanoseconds
	last_uidvalidity INTEGER NOT NULL DEFAULT 0,       -- highest UIDVALIDITY ever given to one of its mailboxes
	text_seq         INTEGER NOT NULL DEFAULT 0        -- last per-user text number (see texts.id)
);

CREATE TABLE addresses (
	address TEXT    PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	alias   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX addresses_by_user ON addresses(user_id);

CREATE TABLE subscriptions (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name    TEXT    NOT NULL,
	PRIMARY KEY (user_id, name)
) WITHOUT ROWID;

CREATE TABLE mailboxes (
	id             INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: a recreated mailbox is a new mailbox
	user_id        INTEGER NOT NULL REFERENCES users(id),
	name           TEXT    NOT NULL,
	special_use    TEXT    NOT NULL,
	uidvalidity    INTEGER NOT NULL,
	uidnext        INTEGER NOT NULL,
	highest_modseq INTEGER NOT NULL,
	journal_floor  INTEGER NOT NULL DEFAULT 0, -- the journal holds every change with MODSEQ > journal_floor
	recent_uid     INTEGER NOT NULL DEFAULT 0, -- highest UID a session has claimed as \Recent
	messages       INTEGER NOT NULL DEFAULT 0, -- STATUS counters, kept exact in every commit
	unseen         INTEGER NOT NULL DEFAULT 0,
	deleted        INTEGER NOT NULL DEFAULT 0,
	size           INTEGER NOT NULL DEFAULT 0,
	UNIQUE (user_id, name)
);

-- Keywords ever set in a mailbox, for the FLAGS response; keyed
-- case-insensitively, first spelling kept.
CREATE TABLE mailbox_keywords (
	mailbox_id INTEGER NOT NULL,
	folded     TEXT    NOT NULL,
	keyword    TEXT    NOT NULL,
	PRIMARY KEY (mailbox_id, folded)
) WITHOUT ROWID;

-- Search text, shared by a message and its copies: the folded header and
-- body, compressed (textCodec). The id is user_id<<32 | per-user
-- number, so one user's texts are one rowid range and a full-text query can
-- be limited to it.
CREATE TABLE texts (
	id   INTEGER PRIMARY KEY,
	refs INTEGER NOT NULL,
	data BLOB    NOT NULL
);
-- Trigram index of header and body together, without positions
-- (detail=none), which also means without columns: a fraction of the size
-- of the text instead of several times it. It can over-match, so every
-- candidate is checked against texts.
CREATE VIRTUAL TABLE texts_fts USING fts5(text, content='', contentless_delete=1, tokenize='trigram', detail=none);
-- No merging inside the transactions that add text: the store's worker
-- merges segments in idle time, a bounded step at a time.
INSERT INTO texts_fts(texts_fts, rank) VALUES ('automerge', 0);
-- Texts not indexed yet.
CREATE TABLE texts_queue (text_id INTEGER PRIMARY KEY);

CREATE TABLE messages (
	id            INTEGER PRIMARY KEY,
	mailbox_id    INTEGER NOT NULL REFERENCES mailboxes(id),
	uid           INTEGER NOT NULL,
	modseq        INTEGER NOT NULL,
	email_id      INTEGER NOT NULL,
	flags         INTEGER NOT NULL, -- system flags as bits (see flags.go)
	keywords      TEXT    NOT NULL, -- other flags, space separated, sorted
	internal_date INTEGER,          -- unix nanoseconds
	internal_zone INTEGER NOT NULL, -- its UTC offset in seconds
	sent_date     INTEGER,          -- unix nanoseconds, NULL when the message has none
	size          INTEGER NOT NULL,
	text_id       INTEGER NOT NULL, -- 0: no text
	blobs         BLOB    NOT NULL, -- the referenced BlobIDs, 32 bytes each
	envelope      BLOB    NOT NULL,
	structure     BLOB    NOT NULL
);
CREATE UNIQUE INDEX messages_by_uid ON messages(mailbox_id, uid);
-- Inline segments (kilobytes) apart from the rows, so scans of metadata
-- read dense pages.
CREATE TABLE inline (
	message_id INTEGER PRIMARY KEY, -- messages.id
	data       BLOB    NOT NULL
);

CREATE TABLE journal (
	mailbox_id INTEGER NOT NULL,
	modseq     INTEGER NOT NULL,
	uid        INTEGER NOT NULL,
	kind       INTEGER NOT NULL,
	flags      TEXT    NOT NULL,
	created    INTEGER NOT NULL, -- unix seconds, for pruning
	PRIMARY KEY (mailbox_id, modseq, uid)
) WITHOUT ROWID;
CREATE INDEX journal_by_time ON journal(created);

CREATE TABLE blobs (
	id   BLOB    PRIMARY KEY,
	refs INTEGER NOT NULL CHECK (refs > 0) -- a blob with no reference has no row
) WITHOUT ROWID;
`,
	// 2: a word index and texts coded against their message instead of a
	// trigram index over plain texts (words.go, textdelta.go). Every text is
	// queued again; the index worker indexes it from its stored form.
	`
DROP TABLE texts_fts;
-- Each text has two rows: rowid = text id << 1 | 0 for its header's words,
-- | 1 for its body's. The input is the text's distinct words, so neither
-- positions nor counts are kept (detail=none).
CREATE VIRTUAL TABLE words_fts USING fts5(words, content='', contentless_delete=1, tokenize='ascii', detail=none);
INSERT INTO words_fts(words_fts, rank) VALUES ('automerge', 0);
-- Every word ever indexed for a user, to find the words that contain a
-- needle. Words of texts deleted since stay: they only cost a lookup.
CREATE TABLE words (
	user_id INTEGER NOT NULL,
	word    TEXT    NOT NULL,
	PRIMARY KEY (user_id, word)
) WITHOUT ROWID;
ALTER TABLE texts ADD COLUMN format INTEGER NOT NULL DEFAULT 0; -- textPlain or textDelta (textcodec.go)
-- The index input of a queued text (textCodec.packWords), computed when it
-- was stored; NULL: compute it from the stored text.
ALTER TABLE texts_queue ADD COLUMN words BLOB;
INSERT OR IGNORE INTO texts_queue(text_id) SELECT id FROM texts;
`,
	// 3: the engine's compression dictionaries (engine.DictionaryStore).
	`
CREATE TABLE dictionaries (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT, -- the order they were added in
	id   INTEGER NOT NULL UNIQUE,           -- the ID zstd frames name
	data BLOB    NOT NULL
);
`,
}

// migrate brings the database to the newest schema, one transaction per step.
func migrate(ctx context.Context, db *sql.DB) error {
	var v int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this program's %d", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	return nil
}
