package main

import (
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
)

// diskUsage is what a directory tree occupies.
type diskUsage struct {
	Files int64
	// Apparent is the sum of file sizes; Allocated the blocks the file
	// system gave them (what `du` prints), including the last partial
	// block of every file, which is where a maildir of small files pays.
	Apparent, Allocated int64
}

func (u *diskUsage) add(v diskUsage) {
	u.Files += v.Files
	u.Apparent += v.Apparent
	u.Allocated += v.Allocated
}

// measureDiskParts walks dir like `du`: each inode is counted once, so hard
// links (Dovecot links one delivered file into every recipient's maildir)
// are not counted twice, and directories count their own blocks. classify
// names the part of the store a path (relative to dir) belongs to.
func measureDiskParts(dir string, classify func(rel string, isDir bool) string) (diskUsage, map[string]diskUsage, error) {
	var total diskUsage
	parts := map[string]diskUsage{}
	seen := map[[2]uint64]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var u diskUsage
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			key := [2]uint64{uint64(st.Dev), st.Ino}
			if seen[key] {
				return nil
			}
			seen[key] = true
			u.Allocated = st.Blocks * 512
		} else {
			u.Allocated = info.Size()
		}
		u.Apparent = info.Size()
		if info.Mode().IsRegular() {
			u.Files = 1
		}
		total.add(u)
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := classify(filepath.ToSlash(rel), d.IsDir())
		p := parts[name]
		p.add(u)
		parts[name] = p
		return nil
	})
	return total, parts, err
}

// eiderPart names the top-level entries of Eider's data directory:
// meta.db and its WAL, blobs/, tls/.
func eiderPart(rel string, isDir bool) string {
	if rel == "." {
		return "directories"
	}
	first, _, nested := strings.Cut(rel, "/")
	if nested || isDir {
		return first + "/"
	}
	return first
}

// dovecotPart separates the message files of a maildir (cur/, new/, tmp/)
// from Dovecot's index, cache, uidlist and list files.
func dovecotPart(rel string, isDir bool) string {
	if isDir {
		return "directories"
	}
	dir := filepath.Base(filepath.Dir(rel))
	switch dir {
	case "cur", "new", "tmp":
		return "message files (cur/, new/)"
	}
	if strings.HasPrefix(filepath.Base(rel), "dovecot") {
		return "indexes, cache, uidlist"
	}
	return "other"
}
