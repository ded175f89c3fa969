package fs

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/eidermail/eider/engine"
)

// BenchmarkCommit measures Create+Write+Commit of new objects, with and
// without fsync. MB/s is of object bytes.
//
//	go test -run=^$ -bench=Commit ./engine/blob/fs
func BenchmarkCommit(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		for _, size := range []int{4 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("nosync=%v/%dKiB", noSync, size>>10), func(b *testing.B) {
				s, err := Open(Options{Path: b.TempDir(), NoSync: noSync})
				if err != nil {
					b.Fatal(err)
				}
				data := make([]byte, size)
				ctx := context.Background()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				var n uint64
				for b.Loop() {
					n++
					var id engine.BlobID
					binary.LittleEndian.PutUint64(id[:], n*0x9e3779b97f4a7c15)
					w, err := s.Create(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := w.Write(data); err != nil {
						b.Fatal(err)
					}
					if _, err := w.Commit(ctx, id); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCommitDuplicate measures a dedup hit: the object exists.
func BenchmarkCommitDuplicate(b *testing.B) {
	s, err := Open(Options{Path: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	data := make([]byte, 64<<10)
	id := engine.BlobID{7}
	b.ReportAllocs()
	for b.Loop() {
		w, err := s.Create(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Commit(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}
