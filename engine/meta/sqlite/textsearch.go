package sqlite

import (
	"bytes"
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
)

// textChunk is how many texts one query reads. The statement always has
// this many placeholders, so it is prepared once; unused ones are bound to
// 0, which no text has.
const textChunk = 64

var textsByID = `SELECT id, data FROM texts WHERE id IN (?` + strings.Repeat(`, ?`, textChunk-1) + `)`

const (
	textCandidatesAll = `SELECT uid, text_id FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? AND text_id != 0`
	// Indexed texts that hold the needle's trigrams, and every text not
	// indexed yet, within the user's id range.
	textCandidatesIndexed = textCandidatesAll + ` AND text_id IN (
		SELECT rowid FROM texts_fts WHERE texts_fts MATCH ? AND rowid BETWEEN ? AND ?
		UNION ALL SELECT text_id FROM texts_queue WHERE text_id BETWEEN ? AND ?)`
)

// textRef is a candidate message and the text it refers to.
type textRef struct {
	id  int64
	uid uint32
}

// text evaluates a text key among domain (nil: the whole mailbox).
func (e *evaluator) text(q *engine.SearchQuery, domain *roaring.Bitmap) (*roaring.Bitmap, error) {
	value := []byte(engine.FoldText(q.Value))
	var match func(*storedText) bool
	parts := bothParts
	switch q.Op {
	case engine.SearchHeader:
		name := []byte(engine.FoldText(q.Field))
		match = func(t *storedText) bool { return engine.HeaderMatch(t.header, name, value) }
		parts = headerPart
	case engine.SearchBody:
		match = func(t *storedText) bool { return bytes.Contains(t.body, value) }
		parts = bodyPart
	default:
		match = func(t *storedText) bool { return bytes.Contains(t.header, value) || bytes.Contains(t.body, value) }
	}
	if len(value) == 0 && q.Op != engine.SearchHeader {
		// Every message holds the empty string, with text or without.
		if domain != nil {
			return domain, nil
		}
		return e.existing()
	}
	refs, err := e.textCandidates(string(value), domain)
	if err != nil {
		return nil, err
	}
	out := roaring.New()
	return out, e.checkTexts(refs, parts, match, out)
}

// textCandidates returns the messages among domain whose text may hold
// needle, ordered by text id: those the trigram index or the queue yields,
// or every message with text when needle is too short for the index.
func (e *evaluator) textCandidates(needle string, domain *roaring.Bitmap) ([]textRef, error) {
	lo, hi := uint32(0), uint32(math.MaxUint32)
	if domain != nil {
		lo, hi = domain.Minimum(), domain.Maximum()
	}
	query, args := textCandidatesAll, []any{e.mailbox, lo, hi}
	if fts, ok := ftsQuery(needle); ok {
		tlo, thi := textRange(e.user)
		query, args = textCandidatesIndexed, append(args, fts, tlo, thi, tlo, thi)
	}
	rows, err := e.tx.QueryContext(e.ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var refs []textRef
	for rows.Next() {
		var r textRef
		if err := rows.Scan(&r.uid, &r.id); err != nil {
			return nil, err
		}
		if domain == nil || domain.Contains(r.uid) {
			refs = append(refs, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Copies in one mailbox share a text: adjacent, it is read once.
	slices.SortFunc(refs, func(a, b textRef) int { return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.uid, b.uid)) })
	return refs, nil
}

// checkTexts adds to out the UIDs of refs whose text match accepts,
// decoding the parts it looks at.
func (e *evaluator) checkTexts(refs []textRef, parts textParts, match func(*storedText) bool, out *roaring.Bitmap) error {
	ids := make([]int64, 0, len(refs))
	for i, r := range refs {
		if i == 0 || r.id != refs[i-1].id {
			ids = append(ids, r.id)
		}
	}
	matched, err := e.matchTexts(ids, parts, match)
	if err != nil {
		return err
	}
	for _, id := range matched {
		i, _ := slices.BinarySearchFunc(refs, id, func(r textRef, id int64) int { return cmp.Compare(r.id, id) })
		for ; i < len(refs) && refs[i].id == id; i++ {
			out.Add(refs[i].uid)
		}
	}
	return nil
}

// Decoding takes most of a text search's time, so a search with many
// candidates decodes on up to maxTextWorkers goroutines while its own reads
// the next texts.
const (
	maxTextWorkers  = 4
	minParallelText = 2 * textChunk
)

// matchTexts returns the ids (in no particular order) whose text match
// accepts.
func (e *evaluator) matchTexts(ids []int64, parts textParts, match func(*storedText) bool) ([]int64, error) {
	var matched []int64
	workers := min(runtime.GOMAXPROCS(0), maxTextWorkers)
	if workers < 2 || len(ids) < minParallelText {
		var t storedText
		err := e.readTexts(ids, func(id int64, data []byte) error {
			if err := e.codec.unpack(data, parts, &t); err != nil {
				return fmt.Errorf("text %d: %w", id, err)
			}
			if match(&t) {
				matched = append(matched, id)
			}
			return nil
		})
		return matched, err
	}

	type job struct {
		id   int64
		data []byte
	}
	var (
		jobs   = make(chan job, 4*workers)
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed error
		stop   atomic.Bool
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var t storedText
			var mine []int64
			for j := range jobs {
				if stop.Load() {
					continue
				}
				if err := e.codec.unpack(j.data, parts, &t); err != nil {
					mu.Lock()
					failed = cmp.Or(failed, fmt.Errorf("text %d: %w", j.id, err))
					mu.Unlock()
					stop.Store(true)
					continue
				}
				if match(&t) {
					mine = append(mine, j.id)
				}
			}
			mu.Lock()
			matched = append(matched, mine...)
			mu.Unlock()
		}()
	}
	err := e.readTexts(ids, func(id int64, data []byte) error {
		if stop.Load() {
			return errStopped
		}
		jobs <- job{id, bytes.Clone(data)}
		return nil
	})
	close(jobs)
	wg.Wait()
	if failed != nil {
		return nil, failed
	}
	if err != nil {
		return nil, err
	}
	return matched, nil
}

var errStopped = errors.New("stopped")

// readTexts calls fn with the stored form of each text of ids, reading
// textChunk texts per query; data is only valid during the call.
func (e *evaluator) readTexts(ids []int64, fn func(id int64, data []byte) error) error {
	args := make([]any, textChunk)
	for len(ids) > 0 {
		if err := e.ctx.Err(); err != nil {
			return err
		}
		n := min(len(ids), textChunk)
		for i := range args {
			args[i] = int64(0)
			if i < n {
				args[i] = ids[i]
			}
		}
		ids = ids[n:]
		if err := e.readChunk(args, fn); err != nil {
			return err
		}
	}
	return nil
}

func (e *evaluator) readChunk(args []any, fn func(id int64, data []byte) error) error {
	rows, err := e.tx.QueryContext(e.ctx, textsByID, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var data sql.RawBytes
		if err := rows.Scan(&id, &data); err != nil {
			return err
		}
		if err := fn(id, data); err != nil {
			return err
		}
	}
	return rows.Err()
}
