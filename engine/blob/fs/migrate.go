package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/eidermail/eider/engine"
)

// Policy selects the hot objects Migrate moves to the cold tier.
type Policy struct {
	MinSize int64         // stored bytes; 0 moves objects of any size
	MinAge  time.Duration // since the object was committed
}

// MigrateResult counts what Migrate moved.
type MigrateResult struct {
	Moved int
	Bytes int64
}

// Migrate moves hot objects that match p to the cold tier. Each object is
// copied to a temp file in the cold tier, synced, given its name there, and
// only then removed from the hot tier, so at every moment it is readable
// from at least one tier: Migrate may be killed anywhere. A kill leaves at
// worst a cold temp file (CleanTemp removes it) or a copy in both tiers,
// which readers never notice and the next Migrate finishes whatever its
// policy. Readers that have the hot file open keep reading it after its
// removal.
func (s *Store) Migrate(ctx context.Context, p Policy) (MigrateResult, error) {
	var res MigrateResult
	if s.cold == "" {
		return res, errors.New("blob store: migrate: no cold tier configured")
	}
	cutoff := time.Now().Add(-p.MinAge)
	err := walkTier(ctx, s.hot, func(id engine.BlobID, fi iofs.FileInfo) error {
		done, err := s.finishMove(id, fi)
		if err != nil {
			return err
		}
		if !done {
			if fi.Size() < p.MinSize || fi.ModTime().After(cutoff) {
				return nil
			}
			if done, err = s.moveToCold(id, fi); err != nil {
				return err
			}
		}
		if done {
			res.Moved++
			res.Bytes += fi.Size()
		}
		return nil
	})
	return res, err
}

// finishMove removes the hot copy of an object that already has a complete
// cold copy: the remains of a killed migration or of a commit that raced
// one. A named cold object is complete (it was synced before it got its
// name); the size check guards against a foreign file.
func (s *Store) finishMove(id engine.BlobID, hot iofs.FileInfo) (bool, error) {
	cold, err := os.Stat(objectPath(s.cold, id))
	if err != nil || cold.Size() != hot.Size() {
		return false, nil
	}
	if err := os.Remove(objectPath(s.hot, id)); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return false, blobErr("migrate: remove hot copy", id, err)
	}
	return true, nil
}

// moveToCold copies one object to the cold tier and removes it from the hot
// one. It reports false when the object vanished meanwhile (deleted by GC).
func (s *Store) moveToCold(id engine.BlobID, fi iofs.FileInfo) (bool, error) {
	hotPath := objectPath(s.hot, id)
	src, err := os.Open(hotPath)
	if errors.Is(err, iofs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, blobErr("migrate: open", id, err)
	}
	defer src.Close()

	tmp, err := s.copyToColdTemp(src, fi.ModTime())
	if err != nil {
		return false, blobErr("migrate: copy", id, err)
	}
	defer os.Remove(tmp) // after placing, the name is a second link
	if s.afterColdCopy != nil {
		if err := s.afterColdCopy(id); err != nil {
			return false, err
		}
	}

	// A cold file of another size under this name is not a copy of this
	// object (finishMove checked): replace it; otherwise link, which keeps
	// a concurrent migration's identical copy.
	if _, err := os.Stat(objectPath(s.cold, id)); err == nil {
		dst := objectPath(s.cold, id)
		if err := os.Rename(tmp, dst); err != nil {
			return false, blobErr("migrate: replace", id, err)
		}
		if err := s.syncDir(filepath.Dir(dst)); err != nil {
			return false, blobErr("migrate: sync", id, err)
		}
	} else if _, err := s.place(tmp, s.cold, id); err != nil {
		return false, blobErr("migrate: place", id, err)
	}
	if s.afterColdRename != nil {
		if err := s.afterColdRename(id); err != nil {
			return false, err
		}
	}
	if err := os.Remove(hotPath); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return false, blobErr("migrate: remove hot copy", id, err)
	}
	return true, nil
}

// copyToColdTemp copies src into a new synced temp file of the cold tier
// with src's modification time (so MinAge keeps its meaning) and returns
// its path.
func (s *Store) copyToColdTemp(src *os.File, mtime time.Time) (path string, err error) {
	f, err := os.CreateTemp(filepath.Join(s.cold, tmpDir), "migrate-*")
	if err != nil {
		return "", stripPath(err)
	}
	path = f.Name()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = stripPath(cerr)
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	// *os.File to *os.File: the kernel copies (copy_file_range) where it can.
	if _, err := io.Copy(f, src); err != nil {
		return "", fmt.Errorf("copy: %w", stripPath(err))
	}
	if s.sync {
		if err := f.Sync(); err != nil {
			return "", stripPath(err)
		}
	}
	if err := os.Chtimes(path, time.Time{}, mtime); err != nil {
		return "", stripPath(err)
	}
	return path, nil
}
