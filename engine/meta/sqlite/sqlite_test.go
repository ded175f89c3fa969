package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/engine/metatest"
)

func openAt(t testing.TB, path string, opt Options) *Store {
	t.Helper()
	s, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openTemp(t testing.TB, opt Options) *Store {
	t.Helper()
	s := openAt(t, filepath.Join(t.TempDir(), "meta.db"), opt)
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the suite with text indexed in the appending
// transaction, so every text search goes through the trigram index.
func TestConformance(t *testing.T) {
	metatest.Run(t, func(t *testing.T) engine.MetaStore { return openTemp(t, Options{TextIndex: TextIndexInline}) })
}

// TestConformanceQueuedText runs the text tests with text never indexed, so
// every text search goes through the queue of unindexed texts.
func TestConformanceQueuedText(t *testing.T) {
	metatest.RunOnly(t, func(t *testing.T) engine.MetaStore { return openTemp(t, Options{TextIndex: TextIndexManual}) },
		"Search", "SearchModel", "Copy", "Move")
}

// waitBackground waits until the background worker is done: nothing
// queued for the index, no kick unread and no work pending, on two looks
// longer apart than the worker waits for the writer.
func waitBackground(t testing.TB, s *Store) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for calm := 0; calm < 2; {
		var queued int64
		must(t, s.r.QueryRow(`SELECT count(*) FROM texts_queue`).Scan(&queued))
		if queued == 0 && len(s.indexKick) == 0 && !s.backgroundPending.Load() {
			calm++
		} else {
			calm = 0
		}
		if time.Now().After(deadline) {
			t.Fatalf("background work not done: %d texts queued", queued)
		}
		time.Sleep(2 * indexQuiet)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fixture is a store with one user and one mailbox.
type fixture struct {
	s    *Store
	user engine.UserID
	box  engine.Mailbox
}

func newFixture(t testing.TB, s *Store) fixture {
	t.Helper()
	ctx := context.Background()
	user, err := s.CreateUser(ctx, engine.User{Name: "alice", PasswordHash: "x"})
	must(t, err)
	box, err := s.CreateMailbox(ctx, user, "INBOX", "")
	must(t, err)
	return fixture{s, user, box}
}

func blobID(n int) engine.BlobID {
	var id engine.BlobID
	copy(id[:], fmt.Sprintf("blob %d", n))
	return id
}

func testMessage(i int, blobs ...engine.BlobID) engine.NewMessage {
	return engine.NewMessage{
		EmailID:      engine.EmailID(i + 1),
		InternalDate: time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC),
		Size:         int64(1000 + i),
		Envelope:     []byte("envelope"),
		Structure:    []byte("structure"),
		Inline:       []byte("inline"),
		Blobs:        blobs,
		HeaderText:   fmt.Sprintf("subject: message %d\n", i),
		BodyText:     fmt.Sprintf("body of message number %d", i),
	}
}

func (f fixture) append(t testing.TB, msgs ...engine.NewMessage) []engine.UID {
	t.Helper()
	_, uids, err := f.s.Append(context.Background(), f.user, f.box.ID, msgs)
	must(t, err)
	return uids
}

func (f fixture) count(t testing.TB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	must(t, f.s.w.QueryRow(query, args...).Scan(&n))
	return n
}

func TestRecountRepairsDrift(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{})
	f := newFixture(t, s)
	a, b, orphan := blobID(1), blobID(2), blobID(3)
	f.append(t, testMessage(0, a, b), testMessage(1, a))
	// Damage the counts the way a bug or a torn restore would.
	for _, d := range []struct {
		q  string
		id engine.BlobID
	}{
		{`UPDATE blobs SET refs = 7 WHERE id = ?`, a},
		{`DELETE FROM blobs WHERE id = ?`, b},
		{`INSERT INTO blobs(id, refs) VALUES (?, 3)`, orphan},
	} {
		_, err := s.w.Exec(d.q, d.id[:])
		must(t, err)
	}
	_, err := s.w.Exec(`UPDATE users SET quota_used = 5, message_count = 9`)
	must(t, err)
	_, err = s.w.Exec(`UPDATE mailboxes SET messages = 40, unseen = 0, size = 1`)
	must(t, err)

	drift, err := s.RecountBlobRefs(ctx, false)
	must(t, err)
	want := map[engine.BlobID][2]int64{a: {7, 2}, b: {0, 1}, orphan: {3, 0}}
	if len(drift) != 3 {
		t.Fatalf("blob drift = %+v", drift)
	}
	for _, d := range drift {
		if w := want[d.ID]; d.Stored != w[0] || d.Actual != w[1] {
			t.Errorf("drift %+v, want stored %d actual %d", d, w[0], w[1])
		}
	}
	if refs, _ := s.BlobRefs(ctx, []engine.BlobID{a}); refs[0] != 7 {
		t.Errorf("a report-only recount changed refs to %d", refs[0])
	}
	qd, err := s.RecountQuota(ctx, false)
	must(t, err)
	if len(qd) != 1 || qd[0].User != f.user || qd[0].Stored != 5 || qd[0].Actual != 2001 {
		t.Errorf("quota drift = %+v", qd)
	}

	_, err = s.RecountBlobRefs(ctx, true)
	must(t, err)
	_, err = s.RecountQuota(ctx, true)
	must(t, err)
	refs, err := s.BlobRefs(ctx, []engine.BlobID{a, b, orphan})
	must(t, err)
	if !slices.Equal(refs, []int64{2, 1, 0}) {
		t.Errorf("refs after repair = %v", refs)
	}
	q, err := s.Quota(ctx, f.user)
	must(t, err)
	if q.Used != 2001 || q.Messages != 2 {
		t.Errorf("quota after repair = %+v", q)
	}
	st, err := s.Status(ctx, f.user, f.box.ID)
	must(t, err)
	if st.Messages != 2 || st.Unseen != 2 || st.Size != 2001 || st.Deleted != 0 {
		t.Errorf("status after repair = %+v", st)
	}
	if drift, _ := s.RecountBlobRefs(ctx, false); len(drift) != 0 {
		t.Errorf("drift left after repair: %+v", drift)
	}
	if qd, _ := s.RecountQuota(ctx, false); len(qd) != 0 {
		t.Errorf("quota drift left after repair: %+v", qd)
	}
}

func TestMigrateEmptyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd name #1 ?%20")
	must(t, os.Mkdir(dir, 0o700))
	path := filepath.Join(dir, "meta.db")
	must(t, os.WriteFile(path, nil, 0o600))
	s := openAt(t, path, Options{})
	defer s.Close()
	var v int
	must(t, s.r.QueryRow(`PRAGMA user_version`).Scan(&v))
	if v != len(migrations) {
		t.Errorf("user_version %d, want %d", v, len(migrations))
	}
	var mode string
	must(t, s.w.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	if mode != "wal" {
		t.Errorf("journal_mode %q", mode)
	}
	f := newFixture(t, s)
	f.append(t, testMessage(0))
	must(t, s.Close())
	// The odd characters reached SQLite intact: the file itself was used.
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("database file not written: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files beside the database after Close: %v", entries)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := openAt(t, path, Options{})
	_, err := s.w.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations)+1))
	must(t, err)
	must(t, s.Close())
	if s, err := Open(path, Options{}); err == nil {
		s.Close()
		t.Fatal("a database from a newer version was opened")
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	s := openAt(t, path, Options{})
	f := newFixture(t, s)
	f.append(t, testMessage(0, blobID(1)), testMessage(1, blobID(1)), testMessage(2))
	_, _, err := s.StoreFlags(ctx, f.user, f.box.ID, roaring.BitmapOf(2), engine.FlagsAdd, []string{`\Seen`, "$Keep"}, 0)
	must(t, err)
	before, err := s.Status(ctx, f.user, f.box.ID)
	must(t, err)
	must(t, s.Close())

	s = openAt(t, path, Options{})
	defer s.Close()
	after, err := s.Status(ctx, f.user, f.box.ID)
	must(t, err)
	if after != before {
		t.Errorf("status after reopen %+v, before %+v", after, before)
	}
	var flags []string
	must(t, s.Messages(ctx, f.user, f.box.ID, roaring.BitmapOf(2), func(m *engine.MessageMeta) error {
		flags = m.Flags
		return nil
	}))
	if !slices.Equal(flags, []string{"$Keep", `\Seen`}) {
		t.Errorf("flags after reopen %q", flags)
	}
	if refs, _ := s.BlobRefs(ctx, []engine.BlobID{blobID(1)}); refs[0] != 2 {
		t.Errorf("refs after reopen %v", refs)
	}
	// Texts queued before the close are still searchable, and get indexed.
	found, err := s.Search(ctx, f.user, f.box.ID, &engine.SearchQuery{Op: engine.SearchBody, Value: "number 2"})
	must(t, err)
	if !slices.Equal(found.ToArray(), []uint32{3}) {
		t.Errorf("search after reopen = %v", found.ToArray())
	}
	_, uids, err := s.Append(ctx, f.user, f.box.ID, []engine.NewMessage{testMessage(3)})
	must(t, err)
	if uids[0] != 4 {
		t.Errorf("UID after reopen %d, want 4", uids[0])
	}
}

// TestCancelledAppend cancels a large Append in flight: nothing of the batch
// may become visible.
func TestCancelledAppend(t *testing.T) {
	s := openTemp(t, Options{})
	f := newFixture(t, s)
	msgs := make([]engine.NewMessage, 50000)
	for i := range msgs {
		msgs[i] = testMessage(i, blobID(i%7))
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The batch takes seconds; cancel while the writer is inside it.
	time.AfterFunc(100*time.Millisecond, cancel)
	_, _, err := s.Append(ctx, f.user, f.box.ID, msgs)
	cancel()
	if err == nil {
		t.Skip("the append finished before it could be cancelled")
	}
	if !errors.Is(err, context.Canceled) {
		t.Logf("cancelled append returned %v", err)
	}
	assertEmpty(t, f)
	f.append(t, testMessage(0))
}

func assertEmpty(t *testing.T, f fixture) {
	t.Helper()
	ctx := context.Background()
	st, err := f.s.Status(ctx, f.user, f.box.ID)
	must(t, err)
	if st.Messages != 0 || st.UIDNext != 1 || st.HighestModSeq != 1 || st.Size != 0 {
		t.Errorf("status after an aborted append = %+v", st)
	}
	q, err := f.s.Quota(ctx, f.user)
	must(t, err)
	if q.Used != 0 || q.Messages != 0 {
		t.Errorf("quota after an aborted append = %+v", q)
	}
	for _, table := range []string{"messages", "journal", "blobs", "texts", "texts_queue"} {
		if n := f.count(t, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%s holds %d rows after an aborted append", table, n)
		}
	}
}

// TestCrashMidAppend kills a process in the middle of a large Append: after
// recovery nothing of the batch is visible and the database is intact.
func TestCrashMidAppend(t *testing.T) {
	if path := os.Getenv("EIDER_SQLITE_CRASH_DB"); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	path := filepath.Join(t.TempDir(), "meta.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidAppend$")
	cmd.Env = append(os.Environ(), "EIDER_SQLITE_CRASH_DB="+path)
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	r := bufio.NewReader(out)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("child ended before appending: %v", err)
		}
		if line == "appending\n" {
			break
		}
	}
	// Kill once the writer spills uncommitted pages of the batch to the
	// write-ahead log: the transaction is then well under way.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 2<<20 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the batch never reached the write-ahead log")
		}
		time.Sleep(10 * time.Millisecond)
	}
	must(t, cmd.Process.Kill())
	cmd.Wait()

	s := openAt(t, path, Options{})
	defer s.Close()
	var check string
	must(t, s.w.QueryRow(`PRAGMA integrity_check`).Scan(&check))
	if check != "ok" {
		t.Fatalf("integrity_check: %s", check)
	}
	user, err := s.UserByName(context.Background(), "alice")
	must(t, err)
	box, err := s.MailboxByName(context.Background(), user.ID, "INBOX")
	must(t, err)
	assertEmpty(t, fixture{s, user.ID, box})
}

func crashChild(path string) {
	s, err := Open(path, Options{TextIndex: TextIndexManual})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	user, err := s.CreateUser(ctx, engine.User{Name: "alice", PasswordHash: "x"})
	if err != nil {
		os.Exit(1)
	}
	box, err := s.CreateMailbox(ctx, user, "INBOX", "")
	if err != nil {
		os.Exit(1)
	}
	msgs := make([]engine.NewMessage, 100000)
	for i := range msgs {
		msgs[i] = testMessage(i, blobID(i%7))
	}
	fmt.Println("appending")
	s.Append(ctx, user, box.ID, msgs)
	fmt.Println("finished")
	os.Exit(0)
}

// TestReadersNotBlockedByWriter holds the writer in a transaction and reads.
func TestReadersNotBlockedByWriter(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{})
	f := newFixture(t, s)
	f.append(t, testMessage(0), testMessage(1))
	hold, held := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.write(ctx, func(tx *txn) error {
			if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET messages = messages`); err != nil {
				return err
			}
			close(held)
			<-hold
			return nil
		})
	}()
	<-held
	done := make(chan error, 1)
	go func() {
		_, err := s.Status(ctx, f.user, f.box.ID)
		if err == nil {
			err = s.Messages(ctx, f.user, f.box.ID, roaring.BitmapOf(1, 2), func(*engine.MessageMeta) error { return nil })
		}
		if err == nil {
			_, err = s.Search(ctx, f.user, f.box.ID, &engine.SearchQuery{Op: engine.SearchText, Value: "message"})
		}
		done <- err
	}()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(5 * time.Second):
		t.Error("reads blocked behind an open write transaction")
	}
	close(hold)
	wg.Wait()
}

func TestTextSharingAndIndexing(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{TextIndex: TextIndexManual})
	f := newFixture(t, s)
	other, err := s.CreateMailbox(ctx, f.user, "Other", "")
	must(t, err)
	f.append(t, testMessage(0), testMessage(1), engine.NewMessage{Size: 1})
	if n := f.count(t, `SELECT count(*) FROM texts`); n != 2 {
		t.Errorf("%d texts for two messages with text", n)
	}
	_, err = s.Copy(ctx, f.user, f.box.ID, other.ID, roaring.BitmapOf(1, 2))
	must(t, err)
	if n := f.count(t, `SELECT count(*) FROM texts WHERE refs = 2`); n != 2 {
		t.Errorf("copies do not share text: %d texts with 2 references", n)
	}
	n, err := s.IndexText(ctx)
	must(t, err)
	if n != 2 || f.count(t, `SELECT count(*) FROM texts_queue`) != 0 {
		t.Errorf("IndexText indexed %d", n)
	}
	search := func(box engine.MailboxID, v string) []uint32 {
		r, err := s.Search(ctx, f.user, box, &engine.SearchQuery{Op: engine.SearchBody, Value: v})
		must(t, err)
		return r.ToArray()
	}
	if got := search(other.ID, "number 1"); !slices.Equal(got, []uint32{2}) {
		t.Errorf("indexed search = %v", got)
	}
	_, _, err = s.Expunge(ctx, f.user, f.box.ID, roaring.BitmapOf(2))
	must(t, err)
	if got := search(other.ID, "number 1"); !slices.Equal(got, []uint32{2}) {
		t.Errorf("search after expunging the original = %v", got)
	}
	_, _, err = s.Expunge(ctx, f.user, other.ID, roaring.BitmapOf(2))
	must(t, err)
	if n := f.count(t, `SELECT count(*) FROM texts`); n != 1 {
		t.Errorf("%d texts left, want 1", n)
	}
	if n := f.count(t, `SELECT count(*) FROM words_fts WHERE words_fts MATCH '"number"' AND rowid >> 1 NOT IN (SELECT id FROM texts)`); n != 0 {
		t.Errorf("index still holds an expunged text")
	}
	_, err = s.w.Exec(`INSERT INTO words_fts(words_fts) VALUES ('integrity-check')`)
	must(t, err)
	must(t, s.DeleteUser(ctx, f.user))
	for _, table := range []string{"texts", "texts_queue", "words", "messages", "journal", "mailboxes", "blobs"} {
		if n := f.count(t, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%s keeps %d rows after DeleteUser", table, n)
		}
	}
	_, err = s.w.Exec(`INSERT INTO words_fts(words_fts) VALUES ('integrity-check')`)
	must(t, err)
}

func TestBackgroundIndexer(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{IndexBatch: 3})
	f := newFixture(t, s)
	for i := 0; i < 10; i++ {
		f.append(t, testMessage(i))
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.count(t, `SELECT count(*) FROM texts_queue`) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the background indexer did not drain the queue")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r, err := s.Search(ctx, f.user, f.box.ID, &engine.SearchQuery{Op: engine.SearchText, Value: "number 7"})
	must(t, err)
	if !slices.Equal(r.ToArray(), []uint32{8}) {
		t.Errorf("search = %v", r.ToArray())
	}
}

// TestUnicodeNormalisation checks the parts of i;unicode-casemap beyond case:
// compatibility and composition forms match each other.
func TestUnicodeNormalisation(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []TextIndexMode{TextIndexInline, TextIndexManual} {
		s := openTemp(t, Options{TextIndex: mode})
		f := newFixture(t, s)
		m := testMessage(0)
		m.BodyText = "Un café ＡＢＣ ﬁnal"
		f.append(t, m)
		for _, needle := range []string{"cafe\u0301", "CAFÉ", "abc", "ＡＢＣ", "final", "FINAL"} {
			r, err := s.Search(ctx, f.user, f.box.ID, &engine.SearchQuery{Op: engine.SearchBody, Value: needle})
			must(t, err)
			if !slices.Equal(r.ToArray(), []uint32{1}) {
				t.Errorf("mode %d: BODY %q = %v", mode, needle, r.ToArray())
			}
		}
	}
}

func TestJournalRetentionWorker(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	s := openTemp(t, Options{Now: clock, MaintenanceInterval: 5 * time.Millisecond, JournalRetention: 24 * time.Hour})
	f := newFixture(t, s)
	f.append(t, testMessage(0))
	time.Sleep(20 * time.Millisecond)
	if _, err := s.Journal(ctx, f.user, f.box.ID, 0); err != nil {
		t.Fatalf("journal pruned before its time: %v", err)
	}
	mu.Lock()
	now = now.Add(48 * time.Hour)
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := s.Journal(ctx, f.user, f.box.ID, 0)
		if errors.Is(err, engine.ErrJournalExpired) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("journal not pruned by the worker: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestUIDValiditySeededFromClock(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	s := openTemp(t, Options{Now: func() time.Time { return now }})
	f := newFixture(t, s)
	if f.box.UIDValidity != 1_700_000_000 {
		t.Errorf("UIDVALIDITY %d, want the clock", f.box.UIDValidity)
	}
	// A clock that goes back never makes a UIDVALIDITY repeat.
	now = time.Unix(1_600_000_000, 0)
	must(t, s.DeleteMailbox(ctx, f.user, f.box.ID))
	again, err := s.CreateMailbox(ctx, f.user, "INBOX", "")
	must(t, err)
	if again.UIDValidity != 1_700_000_001 {
		t.Errorf("UIDVALIDITY after the clock went back %d", again.UIDValidity)
	}
}

func TestClaimRecent(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{})
	f := newFixture(t, s)
	claim := func() (engine.UID, engine.UID) {
		t.Helper()
		first, last, err := s.ClaimRecent(ctx, f.user, f.box.ID)
		must(t, err)
		return first, last
	}
	if first, last := claim(); first <= last {
		t.Errorf("empty mailbox claimed %d:%d", first, last)
	}
	f.append(t, testMessage(0), testMessage(1))
	if first, last := claim(); first != 1 || last != 2 {
		t.Errorf("claimed %d:%d, want 1:2", first, last)
	}
	if first, last := claim(); first <= last {
		t.Errorf("second session claimed %d:%d again", first, last)
	}
	f.append(t, testMessage(2))
	// Concurrent sessions: each new message goes to exactly one of them.
	var mu sync.Mutex
	got := map[engine.UID]int{}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, last, err := s.ClaimRecent(ctx, f.user, f.box.ID)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			for u := first; u <= last; u++ {
				got[u]++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(got) != 1 || got[3] != 1 {
		t.Errorf("concurrent claims: %v, want UID 3 once", got)
	}
	bob, err := s.CreateUser(ctx, engine.User{Name: "bob", PasswordHash: "x"})
	must(t, err)
	if _, _, err := s.ClaimRecent(ctx, bob, f.box.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("claim in another user's mailbox: %v", err)
	}
}

func TestKeywords(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{})
	f := newFixture(t, s)
	dst, err := s.CreateMailbox(ctx, f.user, "Archive", "")
	must(t, err)
	list := func(box engine.MailboxID) []string {
		t.Helper()
		k, err := s.Keywords(ctx, f.user, box)
		must(t, err)
		return k
	}
	m := testMessage(0)
	m.Flags = []string{`\Seen`, "$Important", "$important"}
	f.append(t, m, testMessage(1))
	if got := list(f.box.ID); !slices.Equal(got, []string{"$Important"}) {
		t.Errorf("after append %q", got)
	}
	_, _, err = s.StoreFlags(ctx, f.user, f.box.ID, roaring.BitmapOf(2), engine.FlagsAdd, []string{"Work", "$IMPORTANT"}, 0)
	must(t, err)
	_, _, err = s.StoreFlags(ctx, f.user, f.box.ID, roaring.BitmapOf(1, 2), engine.FlagsRemove, []string{"Removed"}, 0)
	must(t, err)
	if got := list(f.box.ID); !slices.Equal(got, []string{"$Important", "Work"}) {
		t.Errorf("after store %q", got)
	}
	_, err = s.Copy(ctx, f.user, f.box.ID, dst.ID, roaring.BitmapOf(1))
	must(t, err)
	if got := list(dst.ID); !slices.Equal(got, []string{"$Important"}) {
		t.Errorf("copy target %q", got)
	}
	_, err = s.Move(ctx, f.user, f.box.ID, dst.ID, roaring.BitmapOf(2))
	must(t, err)
	if got := list(dst.ID); !slices.Equal(got, []string{"$Important", "Work"}) {
		t.Errorf("move target %q", got)
	}
	must(t, s.DeleteMailbox(ctx, f.user, dst.ID))
	if n := f.count(t, `SELECT count(*) FROM mailbox_keywords WHERE mailbox_id = ?`, dst.ID); n != 0 {
		t.Errorf("deleted mailbox keeps %d keywords", n)
	}
}
