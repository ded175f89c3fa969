package fs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zeebo/blake3"
	"pgregory.net/rapid"

	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/engine/blobtest"
)

func TestConformance(t *testing.T) {
	t.Run("hot+cold", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) engine.BlobStore {
			return openStore(t, Options{Path: t.TempDir(), ColdPath: t.TempDir()})
		})
	})
	t.Run("hot only, no fsync", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) engine.BlobStore {
			return openStore(t, Options{Path: t.TempDir(), NoSync: true})
		})
	})
	// Every object migrated to the cold tier right after its commit: the
	// suite must pass whichever tier serves the objects.
	t.Run("cold", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) engine.BlobStore {
			return &migrating{openStore(t, Options{Path: t.TempDir(), ColdPath: t.TempDir()})}
		})
	})
}

// migrating is a Store whose commits land in the cold tier at once.
type migrating struct{ *Store }

func (m *migrating) Create(ctx context.Context) (engine.BlobWriter, error) {
	w, err := m.Store.Create(ctx)
	if err != nil {
		return nil, err
	}
	return &migratingWriter{w, m.Store}, nil
}

type migratingWriter struct {
	engine.BlobWriter
	s *Store
}

func (w *migratingWriter) Commit(ctx context.Context, id engine.BlobID) (bool, error) {
	existed, err := w.BlobWriter.Commit(ctx, id)
	if err != nil {
		return existed, err
	}
	if _, err := w.s.Migrate(ctx, Policy{}); err != nil {
		return existed, err
	}
	return existed, nil
}

func openStore(t *testing.T, opt Options) *Store {
	t.Helper()
	s, err := Open(opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t *testing.T, s *Store, data []byte) engine.BlobID {
	t.Helper()
	id := engine.BlobID(blake3.Sum256(data))
	w, err := s.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	return id
}

func read(t *testing.T, s *Store, id engine.BlobID) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatalf("open %s: %v", id, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tierOf(t *testing.T, s *Store, id engine.BlobID) string {
	t.Helper()
	tier, err := s.Tier(context.Background(), id)
	if err != nil {
		t.Fatalf("tier of %s: %v", id, err)
	}
	return tier
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestLayout(t *testing.T) {
	t.Parallel()
	hot := t.TempDir()
	s := openStore(t, Options{Path: hot})
	data := []byte("Content-Type: application/pdf\r\n")
	id := put(t, s, data)
	name := id.String()
	got, err := os.ReadFile(filepath.Join(hot, name[:2], name[2:4], name))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("object not at <dir>/<2 hex>/<2 hex>/<64 hex>: %v", err)
	}
	if left := dirEntries(t, filepath.Join(hot, tmpDir)); len(left) != 0 {
		t.Fatalf("temp files left after commit: %v", left)
	}
	// A duplicate commit leaves no temp file either.
	put(t, s, data)
	if left := dirEntries(t, filepath.Join(hot, tmpDir)); len(left) != 0 {
		t.Fatalf("temp files left after a duplicate commit: %v", left)
	}
}

func TestOpenOptions(t *testing.T) {
	t.Parallel()
	if _, err := Open(Options{}); err == nil {
		t.Error("a store without a path opened")
	}
	dir := t.TempDir()
	if _, err := Open(Options{Path: dir, ColdPath: dir + "/"}); err == nil {
		t.Error("a cold tier in the hot directory accepted")
	}
	// Open creates missing directories.
	s := openStore(t, Options{Path: filepath.Join(dir, "a", "hot"), ColdPath: filepath.Join(dir, "b", "cold")})
	id := put(t, s, []byte("x"))
	if tierOf(t, s, id) != TierHot {
		t.Fatal("new object not hot")
	}
}

// TestConcurrentCommitExact: with hard links, of 8 concurrent commits of one
// id exactly one reports a new object.
func TestConcurrentCommitExact(t *testing.T) {
	t.Parallel()
	s := openStore(t, Options{Path: t.TempDir(), ColdPath: t.TempDir()})
	data := bytes.Repeat([]byte("attachment "), 50_000)
	id := engine.BlobID(blake3.Sum256(data))
	for round := range 5 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		fresh := 0
		for range 8 {
			wg.Go(func() {
				w, err := s.Create(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				defer w.Abort()
				if _, err := w.Write(data); err != nil {
					t.Error(err)
					return
				}
				existed, err := w.Commit(context.Background(), id)
				if err != nil {
					t.Error(err)
					return
				}
				if !existed {
					mu.Lock()
					fresh++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if fresh != 1 {
			t.Fatalf("round %d: %d commits reported a new object, want 1", round, fresh)
		}
		if !bytes.Equal(read(t, s, id), data) {
			t.Fatal("object damaged")
		}
		if err := s.Delete(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
}

// TestErrorsNameNoPath: the engine sees blob ids, never file paths.
func TestErrorsNameNoPath(t *testing.T) {
	t.Parallel()
	hot, cold := t.TempDir(), t.TempDir()
	s := openStore(t, Options{Path: hot, ColdPath: cold})
	id := put(t, s, []byte("hello"))
	ctx := context.Background()

	var errs []error
	_, err := s.Open(ctx, engine.BlobID{1})
	errs = append(errs, err)
	_, err = s.Stat(ctx, engine.BlobID{1})
	errs = append(errs, err)
	// An object name taken by a directory cannot be read.
	name := engine.BlobID{2}.String()
	if err := os.MkdirAll(filepath.Join(hot, name[:2], name[2:4], name, "x"), dirMode); err != nil {
		t.Fatal(err)
	}
	errs = append(errs, s.Delete(ctx, engine.BlobID{2}))
	// The temp directory gone: Create fails.
	if err := os.RemoveAll(filepath.Join(hot, tmpDir)); err != nil {
		t.Fatal(err)
	}
	_, err = s.Create(ctx)
	errs = append(errs, err)
	_, err = s.CleanTemp(ctx, 0)
	errs = append(errs, err)
	// The cold tier gone: Walk and Migrate fail.
	if err := os.RemoveAll(cold); err != nil {
		t.Fatal(err)
	}
	errs = append(errs, s.Walk(ctx, func(engine.BlobInfo) error { return nil }))
	_, err = s.Migrate(ctx, Policy{})
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		for _, p := range []string{hot, cold, os.TempDir()} {
			if strings.Contains(err.Error(), p) {
				t.Errorf("case %d: error names a path: %v", i, err)
			}
		}
	}
	if !errors.Is(errs[0], engine.ErrNotFound) || !errors.Is(errs[1], engine.ErrNotFound) {
		t.Errorf("missing id: %v / %v", errs[0], errs[1])
	}
	if !bytes.Equal(read(t, s, id), []byte("hello")) {
		t.Error("object lost")
	}
}

// age sets an object's modification time in both tiers, as if committed d ago.
func age(t *testing.T, s *Store, id engine.BlobID, d time.Duration) {
	t.Helper()
	when := time.Now().Add(-d)
	for _, dir := range s.tiers() {
		if err := os.Chtimes(objectPath(dir, id), time.Time{}, when); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, Options{Path: t.TempDir(), ColdPath: t.TempDir()})
	small := put(t, s, bytes.Repeat([]byte("s"), 100))
	bigNew := put(t, s, bytes.Repeat([]byte("n"), 10_000))
	bigOld := put(t, s, bytes.Repeat([]byte("o"), 20_000))
	smallOld := put(t, s, bytes.Repeat([]byte("t"), 200))
	age(t, s, bigOld, 48*time.Hour)
	age(t, s, smallOld, 48*time.Hour)
	oldTime := func(id engine.BlobID) time.Time {
		in, err := s.Stat(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return in.Modified
	}
	before := oldTime(bigOld)

	res, err := s.Migrate(ctx, Policy{MinSize: 1000, MinAge: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if res.Moved != 1 || res.Bytes != 20_000 {
		t.Fatalf("moved %+v, want the one old large object", res)
	}
	for id, want := range map[engine.BlobID]string{small: TierHot, bigNew: TierHot, bigOld: TierCold, smallOld: TierHot} {
		if got := tierOf(t, s, id); got != want {
			t.Errorf("%s in %s, want %s", id, got, want)
		}
	}
	if !bytes.Equal(read(t, s, bigOld), bytes.Repeat([]byte("o"), 20_000)) {
		t.Fatal("migrated object differs")
	}
	if exists(objectPath(s.hot, bigOld)) {
		t.Fatal("hot copy left after migration")
	}
	if after := oldTime(bigOld); !after.Equal(before) {
		t.Fatalf("migration changed the modification time from %v to %v", before, after)
	}
	// Walk reports each object once, in its tier.
	tiers := map[engine.BlobID]string{}
	if err := s.Walk(ctx, func(in engine.BlobInfo) error { tiers[in.ID] = in.Tier; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(tiers) != 4 || tiers[bigOld] != TierCold || tiers[small] != TierHot {
		t.Fatalf("walk after migrate: %v", tiers)
	}
	// Nothing left that matches: a second run moves nothing.
	if res, err := s.Migrate(ctx, Policy{MinSize: 1000, MinAge: 24 * time.Hour}); err != nil || res.Moved != 0 {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	// A commit of an object the cold tier holds is a duplicate: no hot copy.
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("o"), 20_000)); err != nil {
		t.Fatal(err)
	}
	if existed, err := w.Commit(ctx, bigOld); err != nil || !existed {
		t.Fatalf("commit of a cold object: existed=%v, %v", existed, err)
	}
	if tierOf(t, s, bigOld) != TierCold {
		t.Fatal("commit of a cold object made a hot copy")
	}
	// Policy{} moves everything.
	if res, err := s.Migrate(ctx, Policy{}); err != nil || res.Moved != 3 || res.Bytes != 100+10_000+200 {
		t.Fatalf("migrate all: %+v, %v", res, err)
	}
	if err := s.Delete(ctx, bigOld); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, bigOld); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("open of a deleted cold object: %v", err)
	}
}

// TestDuplicateCommitRefreshesTime: a dedup hit counts as a commit for
// age-based policies (GC grace, MinAge).
func TestDuplicateCommitRefreshesTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, Options{Path: t.TempDir(), ColdPath: t.TempDir()})
	data := []byte("forwarded attachment")
	id := put(t, s, data)
	age(t, s, id, 30*24*time.Hour)
	put(t, s, data)
	in, err := s.Stat(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(in.Modified) > time.Hour {
		t.Fatalf("duplicate commit left Modified at %v", in.Modified)
	}
	if res, err := s.Migrate(ctx, Policy{MinAge: 24 * time.Hour}); err != nil || res.Moved != 0 {
		t.Fatalf("migrate of a freshly recommitted object: %+v, %v", res, err)
	}
}

func TestMigrateWithoutColdTier(t *testing.T) {
	t.Parallel()
	s := openStore(t, Options{Path: t.TempDir()})
	if _, err := s.Migrate(context.Background(), Policy{}); err == nil {
		t.Fatal("migrate without a cold tier succeeded")
	}
}

// TestMigrateKilledBeforeRemove: a migration killed between placing the cold
// copy and removing the hot one leaves the object in both tiers; readers
// and Walk see one object, and the next run finishes the move whatever its
// policy.
func TestMigrateKilledBeforeRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, Options{Path: t.TempDir(), ColdPath: t.TempDir()})
	data := bytes.Repeat([]byte("killed "), 3000)
	id := put(t, s, data)
	killed := errors.New("killed")
	s.afterColdRename = func(engine.BlobID) error { return killed }
	if _, err := s.Migrate(ctx, Policy{}); !errors.Is(err, killed) {
		t.Fatalf("migrate: %v", err)
	}
	s.afterColdRename = nil
	if !exists(objectPath(s.hot, id)) || !exists(objectPath(s.cold, id)) {
		t.Fatal("want the object in both tiers after the kill")
	}
	if tierOf(t, s, id) != TierHot || !bytes.Equal(read(t, s, id), data) {
		t.Fatal("object not served from the hot tier")
	}
	n := 0
	if err := s.Walk(ctx, func(in engine.BlobInfo) error {
		n++
		if in.Tier != TierHot {
			t.Errorf("duplicate reported as %s", in.Tier)
		}
		return nil
	}); err != nil || n != 1 {
		t.Fatalf("walk: %d objects, %v", n, err)
	}
	// A policy that matches nothing still finishes the interrupted move.
	res, err := s.Migrate(ctx, Policy{MinSize: 1 << 40})
	if err != nil || res.Moved != 1 || res.Bytes != int64(len(data)) {
		t.Fatalf("next run: %+v, %v", res, err)
	}
	if tierOf(t, s, id) != TierCold || exists(objectPath(s.hot, id)) {
		t.Fatal("move not finished")
	}
	if !bytes.Equal(read(t, s, id), data) {
		t.Fatal("object differs")
	}
}

// TestMigrateKilledAfterCopy: a migration killed after writing the cold temp
// file leaves the object hot and a temp file CleanTemp removes.
func TestMigrateKilledAfterCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, Options{Path: t.TempDir(), ColdPath: t.TempDir()})
	data := bytes.Repeat([]byte("copy "), 3000)
	id := put(t, s, data)
	killed := errors.New("killed")
	// A real kill leaves the temp file; the deferred remove of the test
	// run is undone by keeping a second link to it.
	var leftover string
	s.afterColdCopy = func(engine.BlobID) error {
		tmps := dirEntries(t, filepath.Join(s.cold, tmpDir))
		if len(tmps) != 1 {
			t.Fatalf("cold temp files: %v", tmps)
		}
		leftover = filepath.Join(s.cold, tmpDir, "killed-"+tmps[0])
		if err := os.Link(filepath.Join(s.cold, tmpDir, tmps[0]), leftover); err != nil {
			t.Fatal(err)
		}
		return killed
	}
	if _, err := s.Migrate(ctx, Policy{}); !errors.Is(err, killed) {
		t.Fatalf("migrate: %v", err)
	}
	s.afterColdCopy = nil
	if tierOf(t, s, id) != TierHot || exists(objectPath(s.cold, id)) {
		t.Fatal("object should still be hot only")
	}
	if !bytes.Equal(read(t, s, id), data) {
		t.Fatal("object differs")
	}
	// A young temp file may belong to a live writer: kept.
	if n, err := s.CleanTemp(ctx, time.Hour); err != nil || n != 0 || !exists(leftover) {
		t.Fatalf("CleanTemp(1h) removed %d, %v", n, err)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(leftover, old, old); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CleanTemp(ctx, time.Hour); err != nil || n != 1 || exists(leftover) {
		t.Fatalf("CleanTemp(1h) of a 2h-old temp: removed %d, %v", n, err)
	}
	if res, err := s.Migrate(ctx, Policy{}); err != nil || res.Moved != 1 {
		t.Fatalf("next run: %+v, %v", res, err)
	}
	if tierOf(t, s, id) != TierCold {
		t.Fatal("not moved")
	}
}

// TestMigrateUnderOpenReader: a reader of the hot file keeps reading after
// the file moved to the cold tier.
func TestMigrateUnderOpenReader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, Options{Path: t.TempDir(), ColdPath: t.TempDir()})
	data := bytes.Repeat([]byte("0123456789"), 100_000)
	id := put(t, s, data)
	r, err := s.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if res, err := s.Migrate(ctx, Policy{}); err != nil || res.Moved != 1 {
		t.Fatalf("migrate: %+v, %v", res, err)
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("reader across migration: %v", err)
	}
}

// TestMigrateReplacesForeignColdFile: a cold file under the id with another
// size is not a copy of the object; migration replaces it.
func TestMigrateReplacesForeignColdFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, Options{Path: t.TempDir(), ColdPath: t.TempDir()})
	data := bytes.Repeat([]byte("real "), 1000)
	id := put(t, s, data)
	bogus := objectPath(s.cold, id)
	if err := os.MkdirAll(filepath.Dir(bogus), dirMode); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bogus, []byte("short"), fileMode); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Migrate(ctx, Policy{}); err != nil || res.Moved != 1 {
		t.Fatalf("migrate: %+v, %v", res, err)
	}
	if tierOf(t, s, id) != TierCold || !bytes.Equal(read(t, s, id), data) {
		t.Fatal("foreign cold file not replaced")
	}
}

func TestCleanTemp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, Options{Path: t.TempDir(), ColdPath: t.TempDir()})
	// A crashed ingest: written, never committed nor aborted.
	crashed, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crashed.Write([]byte("half a message")); err != nil {
		t.Fatal(err)
	}
	crashedPath := crashed.(*writer).f.Name()
	if err := crashed.(*writer).bw.Flush(); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-3 * time.Hour)
	if err := os.Chtimes(crashedPath, old, old); err != nil {
		t.Fatal(err)
	}
	// A live ingest started just now.
	live, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := live.Write([]byte("still arriving")); err != nil {
		t.Fatal(err)
	}
	n, err := s.CleanTemp(ctx, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("CleanTemp removed %d, %v; want 1", n, err)
	}
	if exists(crashedPath) {
		t.Fatal("crashed temp file kept")
	}
	id := engine.BlobID(blake3.Sum256([]byte("still arriving")))
	if _, err := live.Commit(ctx, id); err != nil {
		t.Fatalf("live writer after CleanTemp: %v", err)
	}
	if !bytes.Equal(read(t, s, id), []byte("still arriving")) {
		t.Fatal("live object differs")
	}
	// Walk never lists temp files.
	if err := s.Walk(ctx, func(in engine.BlobInfo) error {
		if in.ID != id {
			t.Errorf("walk listed %s", in.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ctxDone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Create(ctxDone); !errors.Is(err, context.Canceled) {
		t.Fatalf("create with a cancelled context: %v", err)
	}
}

// TestWalkSkipsStrays: files that are not objects in their own shard are
// not reported (and so never deleted by GC).
func TestWalkSkipsStrays(t *testing.T) {
	t.Parallel()
	hot := t.TempDir()
	s := openStore(t, Options{Path: hot})
	id := put(t, s, []byte("real"))
	name := id.String()
	other := engine.BlobID{0xab, 0xcd, 0xef}.String()
	strays := []string{
		"README",
		filepath.Join("zz", "00", other),
		filepath.Join(name[:2], name[2:4], "notes.txt"),
		filepath.Join(name[:2], name[2:4], strings.ToUpper(name)),
		filepath.Join(name[:2], name[2:4], other), // wrong shard
		filepath.Join("AB", "CD", other),
		filepath.Join(tmpDir, name),
	}
	for _, p := range strays {
		full := filepath.Join(hot, p)
		if err := os.MkdirAll(filepath.Dir(full), dirMode); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x"), fileMode); err != nil {
			t.Fatal(err)
		}
	}
	var got []engine.BlobID
	if err := s.Walk(context.Background(), func(in engine.BlobInfo) error {
		got = append(got, in.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != id {
		t.Fatalf("walk reported %v, want only %s", got, id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Walk(ctx, func(engine.BlobInfo) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("walk with a cancelled context: %v", err)
	}
}

// TestModelStateMachine runs random sequences of commits, deletes, killed
// and finished migrations and temp cleanups against a model: an object is
// readable with its content exactly while committed and not deleted, and
// Walk lists exactly those objects, once each.
func TestModelStateMachine(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		hot, err := os.MkdirTemp(t.TempDir(), "hot")
		if err != nil {
			rt.Fatal(err)
		}
		cold, err := os.MkdirTemp(t.TempDir(), "cold")
		if err != nil {
			rt.Fatal(err)
		}
		s, err := Open(Options{Path: hot, ColdPath: cold, NoSync: true})
		if err != nil {
			rt.Fatal(err)
		}
		ctx := context.Background()
		contents := [][]byte{[]byte("a"), []byte("bb"), bytes.Repeat([]byte("c"), 5000), {}, []byte("dddd")}
		model := map[engine.BlobID][]byte{}
		idOf := func(i int) engine.BlobID { return engine.BlobID(blake3.Sum256(contents[i])) }
		kill := errors.New("killed")

		steps := rapid.IntRange(1, 30).Draw(rt, "steps")
		for range steps {
			switch rapid.IntRange(0, 4).Draw(rt, "op") {
			case 0: // commit
				i := rapid.IntRange(0, len(contents)-1).Draw(rt, "content")
				w, err := s.Create(ctx)
				if err != nil {
					rt.Fatal(err)
				}
				if _, err := w.Write(contents[i]); err != nil {
					rt.Fatal(err)
				}
				existed, err := w.Commit(ctx, idOf(i))
				if err != nil {
					rt.Fatal(err)
				}
				if _, had := model[idOf(i)]; existed != had {
					rt.Fatalf("commit of %d: existed=%v, model has it: %v", i, existed, had)
				}
				model[idOf(i)] = contents[i]
			case 1: // delete
				i := rapid.IntRange(0, len(contents)-1).Draw(rt, "content")
				if err := s.Delete(ctx, idOf(i)); err != nil {
					rt.Fatal(err)
				}
				delete(model, idOf(i))
			case 2: // migration, possibly killed at a step
				switch rapid.IntRange(0, 2).Draw(rt, "kill") {
				case 1:
					s.afterColdCopy = func(engine.BlobID) error { return kill }
				case 2:
					s.afterColdRename = func(engine.BlobID) error { return kill }
				}
				minSize := rapid.Int64Range(0, 3000).Draw(rt, "minSize")
				if _, err := s.Migrate(ctx, Policy{MinSize: minSize}); err != nil && !errors.Is(err, kill) {
					rt.Fatal(err)
				}
				s.afterColdCopy, s.afterColdRename = nil, nil
			case 3: // crash cleanup
				if _, err := s.CleanTemp(ctx, 0); err != nil {
					rt.Fatal(err)
				}
			case 4: // a crashed ingest
				w, err := s.Create(ctx)
				if err != nil {
					rt.Fatal(err)
				}
				_, _ = w.Write([]byte("lost"))
			}

			for i := range contents {
				id := idOf(i)
				want, ok := model[id]
				r, err := s.Open(ctx, id)
				if !ok {
					if !errors.Is(err, engine.ErrNotFound) {
						rt.Fatalf("deleted %d: open %v", i, err)
					}
					continue
				}
				if err != nil {
					rt.Fatalf("object %d unreadable: %v", i, err)
				}
				got := make([]byte, r.Size())
				_, rerr := r.ReadAt(got, 0)
				r.Close()
				if (rerr != nil && rerr != io.EOF) || !bytes.Equal(got, want) {
					rt.Fatalf("object %d reads %q, %v", i, got, rerr)
				}
			}
			listed := map[engine.BlobID]int{}
			if err := s.Walk(ctx, func(in engine.BlobInfo) error { listed[in.ID]++; return nil }); err != nil {
				rt.Fatal(err)
			}
			if len(listed) != len(model) {
				rt.Fatalf("walk lists %d objects, model has %d", len(listed), len(model))
			}
			for id, n := range listed {
				if _, ok := model[id]; !ok || n != 1 {
					rt.Fatalf("walk lists %s %d times, in model: %v", id, n, ok)
				}
			}
		}
	})
}
