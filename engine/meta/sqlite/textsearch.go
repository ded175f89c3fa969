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
// 0, which no message has.
const textChunk = 64

// textsByMessage reads texts through a message that refers to each: a
// text is coded against its message's inline bytes.
var textsByMessage = `SELECT m.text_id, t.format, t.data, i.data FROM messages m
	JOIN texts t ON t.id = m.text_id LEFT JOIN inline i ON i.message_id = m.id
	WHERE m.id IN (?` + strings.Repeat(`, ?`, textChunk-1) + `)`

const (
	textCandidatesAll = `SELECT uid, text_id, id, 0 FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? AND text_id != 0`
	// Indexed texts with a word of every group (marked 1), and every text
	// not indexed yet (0), within the user's id range.
	textCandidatesIndexed = `SELECT uid, text_id, id, 1 FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? AND text_id IN (
		SELECT rowid >> 1 FROM words_fts WHERE words_fts MATCH ? AND rowid BETWEEN ? AND ? AND rowid & ? = ?)
	UNION ALL SELECT uid, text_id, id, 0 FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? AND text_id IN (
		SELECT text_id FROM texts_queue WHERE text_id BETWEEN ? AND ?)`
	textCandidatesQueued = `SELECT uid, text_id, id, 0 FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? AND text_id IN (
		SELECT text_id FROM texts_queue WHERE text_id BETWEEN ? AND ?)`
)

// textRef is a candidate message and the text it refers to.
type textRef struct {
	id      int64 // text
	message int64
	uid     uint32
	indexed bool // found in the index (not in the queue)
}

// Which of a text's index rows a search looks at.
const (
	anyPart    = -1
	headerRows = 0
	bodyRows   = 1
)

// text evaluates a text key among domain (nil: the whole mailbox).
func (e *evaluator) text(q *engine.SearchQuery, domain *roaring.Bitmap) (*roaring.Bitmap, error) {
	value := []byte(engine.FoldText(q.Value))
	needle := string(value)
	var match func(*storedText) bool
	parts, rows, exactOK := bothParts, anyPart, true
	switch q.Op {
	case engine.SearchHeader:
		name := []byte(engine.FoldText(q.Field))
		match = func(t *storedText) bool { return engine.HeaderMatch(t.header, name, value) }
		parts, rows, exactOK = headerPart, headerRows, false
		if len(name) == 0 || engine.IsTraceField(name) {
			needle = "" // the index does not hold every field
		}
	case engine.SearchBody:
		match = func(t *storedText) bool { return bytes.Contains(t.body, value) }
		parts, rows = bodyPart, bodyRows
	default:
		match = func(t *storedText) bool {
			t.scratch = engine.SearchableHeader(t.header, t.scratch)
			return bytes.Contains(t.scratch, value) || bytes.Contains(t.body, value)
		}
	}
	if len(value) == 0 && q.Op != engine.SearchHeader {
		// Every message holds the empty string, with text or without.
		if domain != nil {
			return domain, nil
		}
		return e.existing()
	}
	refs, exact, err := e.textCandidates(needle, rows, exactOK, domain)
	if err != nil {
		return nil, err
	}
	out := roaring.New()
	if exact {
		// A word found in the index is in the text: only queued texts
		// need a look.
		queued := refs[:0:0]
		for _, r := range refs {
			if r.indexed {
				out.Add(r.uid)
			} else {
				queued = append(queued, r)
			}
		}
		refs = queued
	}
	return out, e.checkTexts(refs, parts, match, out)
}

// textCandidates returns the messages among domain whose text may hold
// needle in the index rows asked for, ordered by text id: those the word
// index or the queue yields, or every message with text when the index
// cannot narrow them down. exact reports that the indexed ones all hold it.
func (e *evaluator) textCandidates(needle string, rows int, exactOK bool, domain *roaring.Bitmap) (refs []textRef, exact bool, err error) {
	lo, hi := uint32(0), uint32(math.MaxUint32)
	if domain != nil {
		lo, hi = domain.Minimum(), domain.Maximum()
	}
	query, args := textCandidatesAll, []any{e.mailbox, lo, hi}
	plan := planNeedle(needle)
	if len(plan.probes) > 0 {
		groups, narrowed, err := e.probeWords(plan.probes)
		if err != nil {
			return nil, false, err
		}
		tlo, thi := textRange(e.user)
		switch {
		case narrowed && len(groups) == 0:
			// A word no text has: only queued texts may hold the needle.
			query, args = textCandidatesQueued, append(args, tlo, thi)
		case narrowed:
			mask, want := int64(1), int64(rows)
			if rows == anyPart {
				mask, want = 0, 0
			}
			query = textCandidatesIndexed
			args = append(args, ftsMatch(groups), tlo<<1, thi<<1|1, mask, want, e.mailbox, lo, hi, tlo, thi)
			exact = plan.exact && exactOK
		}
	}
	rs, err := e.tx.QueryContext(e.ctx, query, args...)
	if err != nil {
		return nil, false, err
	}
	defer rs.Close()
	for rs.Next() {
		var r textRef
		if err := rs.Scan(&r.uid, &r.id, &r.message, &r.indexed); err != nil {
			return nil, false, err
		}
		if domain == nil || domain.Contains(r.uid) {
			refs = append(refs, r)
		}
	}
	if err := rs.Err(); err != nil {
		return nil, false, err
	}
	// Copies in one mailbox share a text: adjacent, it is read once.
	slices.SortFunc(refs, func(a, b textRef) int { return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.uid, b.uid)) })
	return refs, exact, nil
}

// probeWords returns, for each probe, the user's vocabulary words it
// accepts. narrowed is false when no probe selects well enough to ask the
// index (all texts are candidates); a probe no word satisfies makes groups
// empty, since no text can then hold the needle.
func (e *evaluator) probeWords(probes []probe) (groups [][]string, narrowed bool, err error) {
	kept := make([][]string, 0, len(probes))
	for _, p := range probes {
		var g []string
		if p.match == matchExact {
			g = []string{p.word}
		} else if g, err = e.vocabulary(p); err != nil {
			return nil, false, err
		}
		switch {
		case len(g) == 0:
			return nil, true, nil
		case len(g) <= maxProbeWords:
			kept = append(kept, g)
		}
	}
	return kept, len(kept) > 0, nil
}

// Vocabulary lookups, filtered inside SQLite: a prefix is a range of the
// primary key; the others scan the user's words without handing each to Go.
const (
	vocabPrefix   = `SELECT word FROM words WHERE user_id = ? AND word >= ? AND word < ? LIMIT ?`
	vocabSuffix   = `SELECT word FROM words WHERE user_id = ? AND word LIKE '%' || ? LIMIT ?`
	vocabContains = `SELECT word FROM words WHERE user_id = ? AND instr(word, ?) > 0 LIMIT ?`
)

// vocabulary returns up to maxProbeWords+1 words of the user's vocabulary
// that p accepts. Words hold no ASCII punctuation, so LIKE's wildcards
// cannot occur in p.word, and they are lower case, so LIKE's ASCII case
// folding changes nothing.
func (e *evaluator) vocabulary(p probe) ([]string, error) {
	var rows *sql.Rows
	var err error
	limit := maxProbeWords + 1
	switch p.match {
	case matchPrefix:
		rows, err = e.tx.QueryContext(e.ctx, vocabPrefix, e.user, p.word, p.word+"\xff", limit)
	case matchSuffix:
		rows, err = e.tx.QueryContext(e.ctx, vocabSuffix, e.user, p.word, limit)
	default:
		rows, err = e.tx.QueryContext(e.ctx, vocabContains, e.user, p.word, limit)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			return nil, err
		}
		if p.accepts(w) { // the SQL filter, checked byte for byte
			out = append(out, w)
		}
	}
	return out, rows.Err()
}

// checkTexts adds to out the UIDs of refs whose text match accepts,
// decoding the parts it looks at.
func (e *evaluator) checkTexts(refs []textRef, parts textParts, match func(*storedText) bool, out *roaring.Bitmap) error {
	msgs := make([]int64, 0, len(refs))
	for i, r := range refs {
		if i == 0 || r.id != refs[i-1].id {
			msgs = append(msgs, r.message)
		}
	}
	matched, err := e.matchTexts(msgs, parts, match)
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

// matchTexts returns the text ids (in no particular order) whose text
// match accepts, reading each through the message msgs names for it.
func (e *evaluator) matchTexts(msgs []int64, parts textParts, match func(*storedText) bool) ([]int64, error) {
	var matched []int64
	workers := min(runtime.GOMAXPROCS(0), maxTextWorkers)
	if workers < 2 || len(msgs) < minParallelText {
		var t storedText
		err := e.readTexts(msgs, func(r *rawText) error {
			if err := e.codec.unpack(r.data, r.format, r.inline, parts, &t); err != nil {
				return fmt.Errorf("text %d: %w", r.id, err)
			}
			if match(&t) {
				matched = append(matched, r.id)
			}
			return nil
		})
		return matched, err
	}

	var (
		jobs   = make(chan rawText, 4*workers)
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
				if err := e.codec.unpack(j.data, j.format, j.inline, parts, &t); err != nil {
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
	err := e.readTexts(msgs, func(r *rawText) error {
		if stop.Load() {
			return errStopped
		}
		jobs <- rawText{id: r.id, format: r.format, data: bytes.Clone(r.data), inline: bytes.Clone(r.inline)}
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

// rawText is a stored text as read, with the inline bytes of the message
// it was read through.
type rawText struct {
	id           int64
	format       int
	data, inline []byte
}

// readTexts calls fn with the stored text of each message of msgs,
// reading textChunk texts per query; the bytes are only valid during the
// call.
func (e *evaluator) readTexts(msgs []int64, fn func(*rawText) error) error {
	args := make([]any, textChunk)
	for len(msgs) > 0 {
		if err := e.ctx.Err(); err != nil {
			return err
		}
		n := min(len(msgs), textChunk)
		for i := range args {
			args[i] = int64(0)
			if i < n {
				args[i] = msgs[i]
			}
		}
		msgs = msgs[n:]
		if err := e.readChunk(args, fn); err != nil {
			return err
		}
	}
	return nil
}

func (e *evaluator) readChunk(args []any, fn func(*rawText) error) error {
	rows, err := e.tx.QueryContext(e.ctx, textsByMessage, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r rawText
		var data, inline sql.RawBytes
		if err := rows.Scan(&r.id, &r.format, &data, &inline); err != nil {
			return err
		}
		r.data, r.inline = data, inline
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}
