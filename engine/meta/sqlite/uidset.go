package sqlite

import (
	"context"
	"database/sql"

	"github.com/RoaringBitmap/roaring/v2"
)

// scanRange is a UID range read with one index range scan.
type scanRange struct{ lo, hi uint32 }

// scanGap is the largest run of absent UIDs that still joins two runs of a
// set into one scan: skipping a few rows is cheaper than another query, and
// a 100,000-UID set never turns into 100,000 point lookups.
const scanGap = 64

// scanRanges covers the UIDs of set that are at most last with few ranges.
func scanRanges(set *roaring.Bitmap, last uint32) []scanRange {
	return coverRanges(set, last, scanGap, 0)
}

// coverRanges covers the UIDs of set that are at most last with ranges,
// joining runs separated by at most gap absent UIDs; with gap 0 the ranges
// are exactly the set's runs. With limit > 0 it stops after limit ranges.
// It walks set only up to last: a client's 1:* is cheap however large.
func coverRanges(set *roaring.Bitmap, last, gap uint32, limit int) []scanRange {
	if set == nil || set.IsEmpty() || last == 0 || set.Minimum() > last {
		return nil
	}
	var out []scanRange
	var cur scanRange
	started := false
	it := set.ManyIterator()
	buf := make([]uint32, 1024)
walk:
	for {
		n := it.NextMany(buf)
		if n == 0 {
			break
		}
		for _, v := range buf[:n] {
			switch {
			case v > last:
				break walk
			case !started:
				cur, started = scanRange{v, v}, true
			case uint64(v) <= uint64(cur.hi)+uint64(gap)+1:
				cur.hi = v
			default:
				out = append(out, cur)
				if limit > 0 && len(out) >= limit {
					return out
				}
				cur = scanRange{v, v}
			}
		}
	}
	if started {
		out = append(out, cur)
	}
	return out
}

// readChunks reads the rows of set in UID order, chunk rows per query, and
// hands each chunk to fn after its query is finished, so fn may write in the
// same transaction and memory stays bounded. query must select from messages
// with the placeholders mailbox_id, low UID, high UID and LIMIT, ordered by
// uid; scan returns a row's value and UID. Rows whose UID is not in set are
// skipped.
func readChunks[T any](ctx context.Context, q querier, query string, mailbox int64, set *roaring.Bitmap, last uint32, chunk int,
	scan func(*sql.Rows) (T, uint32, error), fn func([]T) error) error {
	batch := make([]T, 0, chunk)
	for _, r := range scanRanges(set, last) {
		lo := r.lo
		for {
			rows, err := q.QueryContext(ctx, query, mailbox, lo, r.hi, chunk)
			if err != nil {
				return err
			}
			batch = batch[:0]
			n, next := 0, uint64(0)
			for rows.Next() {
				v, uid, err := scan(rows)
				if err != nil {
					rows.Close()
					return err
				}
				n++
				next = uint64(uid) + 1
				if set.Contains(uid) {
					batch = append(batch, v)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if len(batch) > 0 {
				if err := fn(batch); err != nil {
					return err
				}
			}
			if n < chunk || next > uint64(r.hi) {
				break
			}
			lo = uint32(next)
		}
	}
	return nil
}
