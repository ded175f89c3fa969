package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/eidermail/eider/engine"
)

// TestMigrateToWordIndex opens a database of the first schema, whose texts
// are stored plain and indexed by trigrams, and checks that the store
// queues them again and finds them through the word index afterwards.
func TestMigrateToWordIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := sql.Open("sqlite", path)
	must(t, err)
	_, err = db.Exec(migrations[0] + `; PRAGMA user_version = 1`)
	must(t, err)
	c := newTestCodec(t)
	plain := func(header, body string) []byte {
		h := c.enc.EncodeAll([]byte(header), nil)
		data := binary.AppendUvarint(nil, uint64(len(h)))
		return c.enc.EncodeAll([]byte(body), append(data, h...))
	}
	const user = 1
	for _, q := range []string{
		`INSERT INTO users(id, name, password_hash, created, text_seq) VALUES (1, 'ann@example.com', 'x', 0, 2)`,
		`INSERT INTO mailboxes(id, user_id, name, special_use, uidvalidity, uidnext, highest_modseq, messages, size) VALUES (1, 1, 'INBOX', '', 7, 3, 1, 2, 20)`,
	} {
		_, err = db.Exec(q)
		must(t, err)
	}
	texts := [][2]string{{"subject: quarterly report\n", "numbers for berlin"}, {"subject: lunch\n", "see you at noon"}}
	for i, tx := range texts {
		id := int64(user)<<32 | int64(i+1)
		_, err = db.Exec(`INSERT INTO texts(id, refs, data) VALUES (?, 1, ?)`, id, plain(tx[0], tx[1]))
		must(t, err)
		_, err = db.Exec(`INSERT INTO texts_fts(rowid, text) VALUES (?, ?)`, id, tx[0]+tx[1])
		must(t, err)
		_, err = db.Exec(`INSERT INTO messages(mailbox_id, uid, modseq, email_id, flags, keywords, internal_zone, size, text_id, blobs, envelope, structure)
			VALUES (1, ?, 1, ?, 0, '', 0, 10, ?, x'', x'', x'')`, i+1, i+1, id)
		must(t, err)
	}
	must(t, db.Close())

	s, err := Open(path, Options{TextIndex: TextIndexManual})
	must(t, err)
	defer s.Close()
	search := func(op engine.SearchOp, v string) []uint32 {
		t.Helper()
		r, err := s.Search(ctx, user, 1, &engine.SearchQuery{Op: op, Value: v})
		must(t, err)
		return r.ToArray()
	}
	// Queued again: found by reading the texts.
	if got := search(engine.SearchBody, "berlin"); !slices.Equal(got, []uint32{1}) {
		t.Errorf("before indexing: BODY berlin = %v", got)
	}
	n, err := s.IndexText(ctx)
	must(t, err)
	if n != 2 {
		t.Errorf("indexed %d texts, want 2", n)
	}
	for _, tc := range []struct {
		op   engine.SearchOp
		v    string
		want []uint32
	}{
		{engine.SearchBody, "berlin", []uint32{1}},
		{engine.SearchText, "rterly rep", []uint32{1}},
		{engine.SearchText, "noon", []uint32{2}},
		{engine.SearchBody, "lunch", nil},
	} {
		if got := search(tc.op, tc.v); !slices.Equal(got, tc.want) {
			t.Errorf("search %d %q = %v, want %v", tc.op, tc.v, got, tc.want)
		}
	}
}
