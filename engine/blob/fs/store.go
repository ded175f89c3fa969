// Package fs is the embedded deployment's blob store: one file per blob,
// named by its BlobID, in a hot directory and an optional cold directory on
// cheaper disk.
//
// Layout of each tier: <dir>/<2 hex>/<2 hex>/<64 hex>, where the two levels
// are the first two bytes of the id, so no directory holds more than a few
// thousand entries at tens of millions of blobs. Objects being written live
// under <dir>/tmp/ until they are committed; a crash leaves them there for
// CleanTemp.
//
// Durability: with Sync (the default) a commit fsyncs the object before it
// gets its name and fsyncs the directory after, so a committed blob survives
// a power loss before the metadata that references it is committed.
//
// No file path leaves this package: errors name blob ids, never paths.
package fs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/eidermail/eider/engine"
)

// Tier names reported in engine.BlobInfo.Tier and by Store.Tier.
const (
	TierHot  = "hot"
	TierCold = "cold"
)

const (
	tmpDir   = "tmp"
	dirMode  = 0o700
	fileMode = 0o600
	// writeBuffer batches the small writes of a container (index, footer)
	// and passes frame-sized writes straight through.
	writeBuffer = 64 << 10
)

// Options configure a Store.
type Options struct {
	// Path is the hot tier's directory; it is created if missing.
	Path string
	// ColdPath is the cold tier's directory (optional); Migrate moves blobs
	// there. It is created if missing.
	ColdPath string
	// NoSync skips fsync on commit and migration: for tests and for data
	// that can be rebuilt. The zero value syncs.
	NoSync bool
}

// Store is a content-addressed blob store on the local file system. It is
// safe for concurrent use, also by several processes sharing the
// directories.
type Store struct {
	hot, cold string // cold is "" without a cold tier
	sync      bool
	bufs      sync.Pool // *bufio.Writer

	// afterColdCopy and afterColdRename run in Migrate between its steps;
	// tests use them to simulate a kill at that point.
	afterColdCopy   func(engine.BlobID) error
	afterColdRename func(engine.BlobID) error
}

var _ engine.BlobStore = (*Store)(nil)

// Open opens (creating if needed) a blob store.
func Open(opt Options) (*Store, error) {
	if opt.Path == "" {
		return nil, errors.New("blob store: no path")
	}
	s := &Store{hot: filepath.Clean(opt.Path), sync: !opt.NoSync}
	if opt.ColdPath != "" {
		s.cold = filepath.Clean(opt.ColdPath)
		if s.cold == s.hot {
			return nil, errors.New("blob store: cold tier is the hot directory")
		}
	}
	for _, dir := range s.tiers() {
		if err := os.MkdirAll(filepath.Join(dir, tmpDir), dirMode); err != nil {
			return nil, fmt.Errorf("blob store: create %s tier: %w", s.tierName(dir), stripPath(err))
		}
	}
	return s, nil
}

// tiers lists the tier directories, hot first.
func (s *Store) tiers() []string {
	if s.cold == "" {
		return []string{s.hot}
	}
	return []string{s.hot, s.cold}
}

func (s *Store) tierName(dir string) string {
	if dir == s.cold {
		return TierCold
	}
	return TierHot
}

// objectPath is where id lives in the tier rooted at dir.
func objectPath(dir string, id engine.BlobID) string {
	name := id.String()
	return filepath.Join(dir, name[0:2], name[2:4], name)
}

// stripPath reduces an error from package os to its cause, so a path never
// reaches a log line or a client through the engine.
func stripPath(err error) error {
	var pe *iofs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return err
}

// blobErr wraps an error about one blob.
func blobErr(op string, id engine.BlobID, err error) error {
	return fmt.Errorf("blob %s: %s: %w", id, op, stripPath(err))
}

// notFound is the error for an id that no tier holds.
func notFound(id engine.BlobID) error {
	return fmt.Errorf("blob %s: %w", id, engine.ErrNotFound)
}

// Create starts a new object in the hot tier's temp directory.
func (s *Store) Create(ctx context.Context) (engine.BlobWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Join(s.hot, tmpDir), "blob-*")
	if err != nil {
		return nil, fmt.Errorf("blob store: create: %w", stripPath(err))
	}
	bw, _ := s.bufs.Get().(*bufio.Writer)
	if bw == nil {
		bw = bufio.NewWriterSize(f, writeBuffer)
	} else {
		bw.Reset(f)
	}
	return &writer{s: s, f: f, bw: bw}, nil
}

// writer is an object being written to a temp file.
type writer struct {
	s    *Store
	f    *os.File
	bw   *bufio.Writer
	done bool // committed or aborted
	err  error
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("blob store: write after commit or abort")
	}
	n, err := w.bw.Write(p)
	if err != nil {
		w.err = fmt.Errorf("blob store: write: %w", stripPath(err))
		return n, w.err
	}
	return n, nil
}

// Commit makes the temp file the object id. The name is taken with a hard
// link, which fails if the name exists: of several concurrent commits of one
// id exactly one wins and the others report existed, and an existing object
// is never replaced under its readers.
func (w *writer) Commit(ctx context.Context, id engine.BlobID) (existed bool, err error) {
	if w.done {
		return false, errors.New("blob store: commit after commit or abort")
	}
	defer func() {
		if err != nil {
			w.discard()
		}
	}()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if w.err != nil {
		return false, w.err
	}
	if err := w.bw.Flush(); err != nil {
		return false, blobErr("write", id, err)
	}
	// A duplicate (the common case for a forwarded attachment) is dropped
	// before paying for its fsync.
	if w.s.touch(id) {
		w.discard()
		return true, nil
	}
	if w.s.sync {
		if err := w.f.Sync(); err != nil {
			return false, blobErr("sync", id, err)
		}
	}
	tmp := w.f.Name()
	w.release()
	defer w.removeTemp(tmp)
	// Retry once when the object that made the link fail is deleted before
	// it could be touched.
	for range 2 {
		existed, err = w.s.place(tmp, w.s.hot, id)
		if err != nil {
			return false, blobErr("commit", id, err)
		}
		if !existed || w.s.touch(id) {
			return existed, nil
		}
	}
	return false, blobErr("commit", id, errors.New("object deleted while committed"))
}

// touch sets the modification time of an existing object to now and
// reports whether one exists. A deduplicated commit thus refreshes
// Modified like a new one: GC's grace period (and Migrate's MinAge) count
// from the last commit, and a dedup hit on an object being deleted is
// noticed instead of reported as stored.
func (s *Store) touch(id engine.BlobID) bool {
	now := time.Now()
	for _, dir := range s.tiers() {
		// An object that exists but cannot be touched (a read-only cold
		// tier) still exists.
		if err := os.Chtimes(objectPath(dir, id), now, now); !errors.Is(err, iofs.ErrNotExist) {
			return true
		}
	}
	return false
}

// Abort drops the object. After Commit it does nothing, so callers can
// defer it.
func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	tmp := w.f.Name()
	w.release()
	if err := os.Remove(tmp); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("blob store: abort: %w", stripPath(err))
	}
	return nil
}

// release closes the temp file and recycles the buffer; the temp file
// itself stays until removed.
func (w *writer) release() {
	w.done = true
	w.bw.Reset(nil)
	w.s.bufs.Put(w.bw)
	w.bw = nil
	_ = w.f.Close() // already flushed and synced, or being dropped
}

// discard drops the temp file after a failed commit.
func (w *writer) discard() {
	if !w.done {
		w.release()
	}
	w.removeTemp(w.f.Name())
}

func (w *writer) removeTemp(tmp string) {
	// A temp file that cannot be removed is left for CleanTemp.
	_ = os.Remove(tmp)
}

// place gives the complete, synced file src the name of id in the tier
// rooted at dir, unless that name exists. src stays; the caller removes it.
func (s *Store) place(src, dir string, id engine.BlobID) (existed bool, err error) {
	dst := objectPath(dir, id)
	if err := s.ensureDir(filepath.Dir(dst)); err != nil {
		return false, err
	}
	err = os.Link(src, dst)
	switch {
	case err == nil:
	case errors.Is(err, iofs.ErrExist):
		return true, nil
	case linkUnsupported(err):
		// A file system without hard links: check, then rename. Two racing
		// commits of one id may both report a new object; the content is the
		// same, so the one left in place is as good as the other.
		if _, serr := os.Stat(dst); serr == nil {
			return true, nil
		}
		if err := os.Rename(src, dst); err != nil {
			return false, err
		}
	default:
		return false, err
	}
	if err := s.syncDir(filepath.Dir(dst)); err != nil {
		return false, err
	}
	return false, nil
}

func linkUnsupported(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOTSUP) ||
		errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) ||
		errors.Is(err, syscall.EMLINK)
}

// ensureDir creates a shard directory and syncs each parent it adds an
// entry to, so a committed object's path survives a crash.
func (s *Store) ensureDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := s.ensureDir(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, dirMode); err != nil {
		if errors.Is(err, iofs.ErrExist) {
			return nil // a concurrent commit created it
		}
		return err
	}
	return s.syncDir(parent)
}

func (s *Store) syncDir(dir string) error {
	if !s.sync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open opens id for reading, from the hot tier or else the cold one. The
// reader reads the file with pread: concurrent ReadAt calls are fine, and a
// reader stays valid when the object is deleted or migrated meanwhile.
func (s *Store) Open(ctx context.Context, id engine.BlobID) (engine.BlobReader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, dir := range s.tiers() {
		f, err := os.Open(objectPath(dir, id))
		if errors.Is(err, iofs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, blobErr("open", id, err)
		}
		fi, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return nil, blobErr("stat", id, err)
		}
		return &reader{f: f, id: id, size: fi.Size()}, nil
	}
	return nil, notFound(id)
}

// reader is an open object.
type reader struct {
	f    *os.File
	id   engine.BlobID
	size int64
}

func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.f.ReadAt(p, off)
	if err != nil && n < len(p) && !errors.Is(err, io.EOF) {
		return n, blobErr("read", r.id, err)
	}
	return n, err
}

func (r *reader) Size() int64 { return r.size }

func (r *reader) Close() error {
	if err := r.f.Close(); err != nil {
		return blobErr("close", r.id, err)
	}
	return nil
}

// Stat describes id, from the hot tier or else the cold one.
func (s *Store) Stat(ctx context.Context, id engine.BlobID) (engine.BlobInfo, error) {
	if err := ctx.Err(); err != nil {
		return engine.BlobInfo{}, err
	}
	for _, dir := range s.tiers() {
		fi, err := os.Stat(objectPath(dir, id))
		if errors.Is(err, iofs.ErrNotExist) {
			continue
		}
		if err != nil {
			return engine.BlobInfo{}, blobErr("stat", id, err)
		}
		return info(id, fi, s.tierName(dir)), nil
	}
	return engine.BlobInfo{}, notFound(id)
}

// Tier tells which tier serves id: TierHot or TierCold.
func (s *Store) Tier(ctx context.Context, id engine.BlobID) (string, error) {
	in, err := s.Stat(ctx, id)
	if err != nil {
		return "", err
	}
	return in.Tier, nil
}

func info(id engine.BlobID, fi iofs.FileInfo, tier string) engine.BlobInfo {
	return engine.BlobInfo{ID: id, Size: fi.Size(), Modified: fi.ModTime(), Tier: tier}
}

// Delete removes id from every tier. A missing object is not an error:
// GC may race another GC or a crash may have removed half of a migration.
func (s *Store) Delete(ctx context.Context, id engine.BlobID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var errs []error
	for _, dir := range s.tiers() {
		if err := os.Remove(objectPath(dir, id)); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			errs = append(errs, blobErr("delete", id, err))
		}
	}
	return errors.Join(errs...)
}

// Walk calls fn for every object, hot tier first. An object in both tiers
// (a migration killed before it removed the hot copy) is reported once, as
// hot. Temp files and stray names are skipped. An object that a concurrent
// Migrate moves while Walk runs may be reported twice, never missed.
func (s *Store) Walk(ctx context.Context, fn func(engine.BlobInfo) error) error {
	for _, dir := range s.tiers() {
		tier := s.tierName(dir)
		err := walkTier(ctx, dir, func(id engine.BlobID, fi iofs.FileInfo) error {
			if tier == TierCold {
				if _, err := os.Stat(objectPath(s.hot, id)); err == nil {
					return nil // reported with the hot tier
				}
			}
			return fn(info(id, fi, tier))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// walkTier calls fn for each object file of the tier rooted at dir.
func walkTier(ctx context.Context, dir string, fn func(engine.BlobID, iofs.FileInfo) error) error {
	tops, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("blob store: list tier: %w", stripPath(err))
	}
	for _, top := range tops {
		if !top.IsDir() || !isHexByte(top.Name()) {
			continue
		}
		subs, err := os.ReadDir(filepath.Join(dir, top.Name()))
		if err != nil {
			return fmt.Errorf("blob store: list shard %s: %w", top.Name(), stripPath(err))
		}
		for _, sub := range subs {
			if !sub.IsDir() || !isHexByte(sub.Name()) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			shard := filepath.Join(dir, top.Name(), sub.Name())
			objs, err := os.ReadDir(shard)
			if err != nil {
				if errors.Is(err, iofs.ErrNotExist) {
					continue
				}
				return fmt.Errorf("blob store: list shard %s/%s: %w", top.Name(), sub.Name(), stripPath(err))
			}
			prefix := top.Name() + sub.Name()
			for _, o := range objs {
				id, err := engine.ParseBlobID(o.Name())
				// Only a name in its own shard is an object; anything else
				// is not ours to report.
				if err != nil || !o.Type().IsRegular() || o.Name()[:4] != prefix || id.String() != o.Name() {
					continue
				}
				fi, err := o.Info()
				if errors.Is(err, iofs.ErrNotExist) {
					continue // deleted while walking
				}
				if err != nil {
					return blobErr("stat", id, err)
				}
				if err := fn(id, fi); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// isHexByte reports whether name is a shard name: two lowercase hex digits.
func isHexByte(name string) bool {
	return len(name) == 2 && isLowerHex(name[0]) && isLowerHex(name[1])
}

func isLowerHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
}

// CleanTemp removes temp files older than olderThan from every tier: the
// remains of ingests and migrations that crashed. olderThan must exceed
// the longest write, or a live writer loses its file.
func (s *Store) CleanTemp(ctx context.Context, olderThan time.Duration) (removed int, err error) {
	cutoff := time.Now().Add(-olderThan)
	for _, dir := range s.tiers() {
		tmp := filepath.Join(dir, tmpDir)
		entries, err := os.ReadDir(tmp)
		if err != nil {
			return removed, fmt.Errorf("blob store: list %s temp: %w", s.tierName(dir), stripPath(err))
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return removed, err
			}
			fi, err := e.Info()
			if errors.Is(err, iofs.ErrNotExist) {
				continue
			}
			if err != nil {
				return removed, fmt.Errorf("blob store: stat temp: %w", stripPath(err))
			}
			if !fi.Mode().IsRegular() || !fi.ModTime().Before(cutoff) {
				continue
			}
			if err := os.Remove(filepath.Join(tmp, e.Name())); err != nil {
				if errors.Is(err, iofs.ErrNotExist) {
					continue
				}
				return removed, fmt.Errorf("blob store: remove temp: %w", stripPath(err))
			}
			removed++
		}
	}
	return removed, nil
}
