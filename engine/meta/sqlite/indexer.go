package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Background work shares the single writer with appends, so it waits for
// the writer to be idle and gives it back quickly when a write arrives.
const (
	// indexQuiet is how long no foreground write must have run before
	// background work takes the writer: a client appending message after
	// message leaves gaps much shorter than this.
	indexQuiet = 20 * time.Millisecond
	// indexMinBatch is how many texts an indexing transaction of a backlog
	// takes before it lets a waiting write in. Each transaction leaves a
	// segment in the index, and tiny segments cost more to merge than they
	// save in waiting. In idle time the indexer yields after any text.
	indexMinBatch = 16
	// indexMaxBacklog is how many queued texts make the indexer stop waiting
	// for idle time, since a text search decodes every queued text (about
	// 25 µs each). It then takes the writer for at most half the time.
	// Merging has no such limit: without idle time, FTS5's crisis merge
	// bounds the segments.
	indexMaxBacklog = 1000
	// optimizeMaxBytes is the database size above which the maintenance
	// worker no longer merges the index into one segment. One segment
	// saves the term lists the others repeat: a quarter of a small index,
	// little of a large one, which it would rewrite whole every interval.
	optimizeMaxBytes = 1 << 30
	// mergePages bounds the index pages (FTS5 pgsz, about 4 KB) one merge
	// transaction writes, so a write that arrives meanwhile waits a few
	// milliseconds.
	mergePages = 16
)

// backgroundWork is what the worker still has to do.
type backgroundWork struct {
	index    bool // texts may be queued
	merge    bool // index segments may need merging
	optimize bool // merge the index into one segment
	indexed  bool // text was added to the index since the last optimize
	// mergeNext is whether a merge step is due before the next indexing.
	mergeNext bool
	// fairAt is when indexing may take the writer again although it is
	// busy (clock time): at most half its time goes to a backlog.
	fairAt int64
}

func (w *backgroundWork) pending() bool { return w.index || w.merge || w.optimize }

// worker does the store's background work: it indexes queued text when
// kicked and merges the index segments that indexing leaves, in idle time;
// every MaintenanceInterval it prunes the journal and merges the index into
// one segment.
func (s *Store) worker() {
	defer close(s.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		cancel()
	}()
	var tick <-chan time.Time
	if s.opt.MaintenanceInterval > 0 {
		t := time.NewTicker(s.opt.MaintenanceInterval)
		defer t.Stop()
		tick = t.C
	}
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	defer idle.Stop()
	ready := make(chan time.Time)
	close(ready) // always receivable: work can go ahead now
	var work backgroundWork
	for {
		s.backgroundPending.Store(work.pending())
		var wake <-chan time.Time
		if work.pending() {
			if wait := s.backgroundWait(&work); wait <= 0 {
				wake = ready
			} else {
				idle.Reset(wait)
				wake = idle.C
			}
		}
		select {
		case <-s.stop:
			return
		case <-s.indexKick:
			// Inline mode drains what an earlier background or manual
			// run left queued, and merges the segments its appends leave.
			if s.opt.TextIndex != TextIndexManual {
				work.index, work.merge, work.indexed = true, true, true
			}
		case <-tick:
			if s.opt.JournalRetention > 0 {
				before := s.opt.Now().Add(-s.opt.JournalRetention)
				if _, err := s.PruneJournal(ctx, before); err != nil && ctx.Err() == nil {
					s.opt.Logger.Error("journal prune", "err", err)
				}
			}
			if work.indexed && s.databaseSize(ctx) < optimizeMaxBytes {
				work.optimize, work.indexed = true, false
			}
		case <-wake:
			if s.backgroundWait(&work) <= 0 {
				s.backgroundStep(ctx, &work)
			}
		}
	}
}

// backgroundWait returns how long background work should wait for the
// writer: until no foreground write has run for indexQuiet, unless the
// queue of unindexed texts has grown too long.
func (s *Store) backgroundWait(w *backgroundWork) time.Duration {
	now := s.clock()
	wait := indexQuiet - time.Duration(now-s.lastWrite.Load())
	if s.writers.Load() > 0 {
		wait = indexQuiet
	}
	if w.index && s.queued.Load() >= indexMaxBacklog {
		wait = min(wait, time.Duration(w.fairAt-now))
	}
	return wait
}

// backgroundStep does one transaction of background work: indexing first,
// then merging, then optimizing. While texts are queued, a merge step
// follows every indexing step, so segments do not pile up until FTS5 merges
// them all at once inside an indexing transaction.
func (s *Store) backgroundStep(ctx context.Context, w *backgroundWork) {
	var err error
	switch {
	case w.index && !w.mergeNext:
		w.mergeNext = w.merge
		yieldAfter := 1
		if s.queued.Load() >= indexMaxBacklog {
			yieldAfter = indexMinBatch
		}
		start := s.clock()
		var n int
		n, err = s.indexBatch(ctx, s.opt.IndexBatch, yieldAfter)
		w.index = n > 0 && err == nil
		end := s.clock()
		w.fairAt = end + (end - start)
	case w.merge:
		w.mergeNext = false
		var more bool
		more, err = s.mergeIndex(ctx, mergePages)
		w.merge = more && err == nil
	case w.optimize:
		var more bool
		more, err = s.mergeIndex(ctx, -mergePages)
		w.optimize = more && err == nil
	}
	if err != nil && ctx.Err() == nil {
		s.opt.Logger.Error("text index", "err", err)
	}
}

// databaseSize returns the size of the database file in bytes, or 0 when
// it cannot tell.
func (s *Store) databaseSize(ctx context.Context) int64 {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&n); err != nil {
		return 0
	}
	return n
}

func (s *Store) kickIndexer() {
	select {
	case s.indexKick <- struct{}{}:
	default:
	}
}

// IndexText indexes every queued text now, merges the index segments that
// leaves, and returns how many texts it indexed. The background worker does
// this on its own; bulk imports with TextIndexManual call it when they are
// done, and OptimizeTextIndex after it for the smallest index.
func (s *Store) IndexText(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.indexBatch(ctx, s.opt.IndexBatch, 0)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
	}
	for {
		more, err := s.mergeIndex(ctx, mergePages)
		if err != nil || !more {
			return total, err
		}
	}
}

// OptimizeTextIndex merges the full-text index into one segment, its
// smallest and fastest form; the background worker does this every
// MaintenanceInterval. It rewrites the whole index.
func (s *Store) OptimizeTextIndex(ctx context.Context) error {
	for {
		more, err := s.mergeIndex(ctx, -mergePages)
		if err != nil || !more {
			return err
		}
	}
}

// indexBatch moves up to limit queued texts into the word index in one
// write transaction and returns how many it moved. With yieldAfter > 0 it
// stops early, once it has moved that many, when a foreground write waits.
func (s *Store) indexBatch(ctx context.Context, limit, yieldAfter int) (int, error) {
	n := 0
	err := s.writeTx(ctx, func(tx *txn) error {
		n = 0
		rows, err := tx.QueryContext(ctx, `SELECT q.text_id, q.words, t.format, t.data
			FROM texts_queue q JOIN texts t ON t.id = q.text_id ORDER BY q.text_id LIMIT ?`, limit)
		if err != nil {
			return err
		}
		type queued struct {
			id     int64
			words  []byte
			format int
			data   []byte
		}
		var batch []queued
		for rows.Next() {
			var q queued
			if err := rows.Scan(&q.id, &q.words, &q.format, &q.data); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, q)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		wi, err := s.newWordWriter(ctx, tx)
		if err != nil {
			return err
		}
		var t storedText
		for _, q := range batch {
			if yieldAfter > 0 && n >= yieldAfter && s.writers.Load() > 0 {
				break
			}
			var hw, bw string
			if q.words != nil {
				if hw, bw, err = s.text.unpackWords(q.words); err != nil {
					return fmt.Errorf("text %d: %w", q.id, err)
				}
			} else {
				// Queued before the word index: its text is stored plain.
				if q.format != textPlain {
					return fmt.Errorf("text %d: queued without words", q.id)
				}
				if err := s.text.unpack(q.data, q.format, nil, bothParts, &t); err != nil {
					return fmt.Errorf("text %d: %w", q.id, err)
				}
				hw, bw = textWords(string(t.header), string(t.body))
			}
			if err := wi.add(ctx, q.id, hw, bw); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM texts_queue WHERE text_id = ?`, q.id); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		s.vocab.forget()
		return 0, fmt.Errorf("sqlite: index text: %w", err)
	}
	if n == 0 {
		s.queued.Store(0)
	} else {
		s.queued.Add(-int64(n))
	}
	return n, nil
}

// wordWriter adds texts to the word index and their words to their user's
// vocabulary, inside one write transaction.
type wordWriter struct {
	s              *Store
	insFTS, insVoc *sql.Stmt
}

func (s *Store) newWordWriter(ctx context.Context, tx *txn) (*wordWriter, error) {
	insFTS, err := tx.stmt(ctx, `INSERT INTO words_fts(rowid, words) VALUES (?, ?)`)
	if err != nil {
		return nil, err
	}
	insVoc, err := tx.stmt(ctx, `INSERT OR IGNORE INTO words(user_id, word) SELECT ?, value FROM json_each(?)`)
	if err != nil {
		return nil, err
	}
	return &wordWriter{s: s, insFTS: insFTS, insVoc: insVoc}, nil
}

// add indexes text id: its header's and body's words (textWords).
func (w *wordWriter) add(ctx context.Context, id int64, headerWords, bodyWords string) error {
	user := id >> 32
	for part, words := range [2]string{headerWords, bodyWords} {
		if words == "" {
			continue
		}
		if _, err := w.insFTS.ExecContext(ctx, id<<1|int64(part), words); err != nil {
			return err
		}
		if fresh := w.s.vocab.unseen(user, words); fresh != "" {
			if _, err := w.insVoc.ExecContext(ctx, user, fresh); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergeIndex does one transaction of merging index segments, writing about
// |pages| pages: pages > 0 merges levels that hold usermerge segments or
// more, pages < 0 works toward a single segment. It reports whether there
// was anything to merge.
func (s *Store) mergeIndex(ctx context.Context, pages int) (bool, error) {
	var more bool
	err := s.writeTx(ctx, func(tx *txn) error {
		var before, after int64
		if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO words_fts(words_fts, rank) VALUES ('merge', ?)`, pages); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
			return err
		}
		// A merge with nothing to do changes at most the structure record.
		more = after-before >= 2
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: merge text index: %w", err)
	}
	return more, nil
}
