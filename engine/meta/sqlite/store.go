package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/eidermail/eider/engine"
)

// TextIndexMode says when a message's text enters the full-text index.
type TextIndexMode uint8

const (
	// TextIndexBackground queues new text and lets a worker index it when
	// the writer is idle (the default): appends stay cheap and searches
	// check the queued texts directly until the worker catches up.
	TextIndexBackground TextIndexMode = iota
	// TextIndexInline indexes text inside the commit that adds the message.
	TextIndexInline
	// TextIndexManual only indexes when IndexText is called (bulk imports, tests).
	TextIndexManual
)

// Options tune a Store. The zero value is the embedded default.
type Options struct {
	// JournalRetention is how long journal entries are kept; older ones are
	// pruned by the maintenance worker. Default 7 days; negative keeps
	// everything.
	JournalRetention time.Duration
	// MaintenanceInterval is how often the maintenance worker prunes the
	// journal and, when text was indexed since and the database is under
	// 1 GiB, merges the full-text index into one segment. Default 1 hour;
	// negative disables both (call PruneJournal and OptimizeTextIndex
	// yourself).
	MaintenanceInterval time.Duration
	// BusyTimeout bounds how long a connection waits for a lock held by
	// another process. Default 10 s.
	BusyTimeout time.Duration
	// MaxReadConns bounds the read pool. Default 4 × GOMAXPROCS.
	MaxReadConns int
	// TextIndex chooses when text is indexed; see TextIndexMode.
	TextIndex TextIndexMode
	// IndexBatch is how many texts the index worker indexes at most per
	// write transaction. The worker only takes the writer when no append has
	// run for a moment and lets a waiting one in after a few texts, so large
	// batches cost appends nothing and leave fewer index segments to merge.
	// Default 256.
	IndexBatch int
	// Now is the clock (UIDVALIDITY seeds, journal times). Default time.Now.
	Now func() time.Time
	// Logger receives background worker errors. Default slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.JournalRetention == 0 {
		o.JournalRetention = 7 * 24 * time.Hour
	}
	if o.MaintenanceInterval == 0 {
		o.MaintenanceInterval = time.Hour
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Second
	}
	if o.MaxReadConns <= 0 {
		o.MaxReadConns = 4 * runtime.GOMAXPROCS(0)
	}
	if o.IndexBatch <= 0 {
		o.IndexBatch = 256
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Store is the SQLite MetaStore. It is safe for concurrent use.
type Store struct {
	w   *sql.DB // the single writer connection
	r   *sql.DB // read pool
	wc  *stmtCache
	rq  pool // the read pool through its statement cache
	opt Options

	text *textCodec

	// Foreground writes running or waiting for the writer, and when the
	// last one ended (nanoseconds since started): background work waits
	// for the writer to be idle.
	writers   atomic.Int32
	lastWrite atomic.Int64
	started   time.Time
	queued    atomic.Int64 // texts queued for the index, roughly
	// backgroundPending is whether the worker has work left (for tests).
	backgroundPending atomic.Bool

	hints textHints  // LoadMessages' guesses at texts shared by copies
	vocab vocabCache // words known to be in the vocabulary

	indexKick chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var _ engine.MetaStore = (*Store)(nil)

// privateDriver is a driver of this package's own, so the SQL function
// search needs exists on its connections and on no one else's. It is built
// once and never changed afterwards.
var privateDriver = sync.OnceValues(func() (*sqlite.Driver, error) {
	d := &sqlite.Driver{}
	if err := d.RegisterDeterministicScalarFunction("eider_has_keyword", 2, sqlHasKeyword); err != nil {
		return nil, err
	}
	return d, nil
})

type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }

// pageSize is the page size of new databases.
const pageSize = 8192

// Open opens (creating or migrating as needed) the metadata database at path.
func Open(path string, opt Options) (*Store, error) {
	opt = opt.withDefaults()
	drv, err := privateDriver()
	if err != nil {
		return nil, fmt.Errorf("sqlite: register functions: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	busy := strconv.FormatInt(opt.BusyTimeout.Milliseconds(), 10)
	dsn := func(write bool) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout("+busy+")")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		if write {
			// Only a new database takes a page size. The text and
			// inline rows are kilobytes and a page ends, on average, with
			// half a row of free space: 8 KB pages waste half as much as
			// 4 KB ones (TextHeavy: 1.48× to 1.38× its raw size) for
			// about 0.1 ms more per append; 16 KB pages saved another 5%
			// for twice that, and every small write pays for page size.
			q.Add("_pragma", "page_size("+strconv.Itoa(pageSize)+")")
			// The driver applies _journal_mode after every _pragma:
			// WAL mode fixes the page size.
			q.Set("_journal_mode", "WAL")
			q.Set("_txlock", "immediate")
		} else {
			q.Add("_pragma", "query_only(1)")
		}
		u := url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}
		return u.String()
	}

	text, err := newTextCodec()
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s := &Store{
		opt:       opt,
		text:      text,
		started:   time.Now(),
		indexKick: make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	s.w = sql.OpenDB(connector{drv, dsn(true)})
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxIdleTime(0)
	s.w.SetConnMaxLifetime(0)
	if err := migrate(context.Background(), s.w); err != nil {
		s.w.Close()
		text.close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.r = sql.OpenDB(connector{drv, dsn(false)})
	s.r.SetMaxOpenConns(opt.MaxReadConns)
	s.r.SetMaxIdleConns(opt.MaxReadConns)
	if err := s.r.PingContext(context.Background()); err != nil {
		s.r.Close()
		s.w.Close()
		text.close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	var queued int64
	if err := s.r.QueryRow(`SELECT count(*) FROM texts_queue`).Scan(&queued); err != nil {
		s.r.Close()
		s.w.Close()
		text.close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.queued.Store(queued)
	s.wc = newStmtCache(s.w)
	s.rq = pool{newStmtCache(s.r)}
	if err := s.loadDictionaries(context.Background()); err != nil {
		s.rq.cache.close()
		s.wc.close()
		s.r.Close()
		s.w.Close()
		text.close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	text.reload = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), opt.BusyTimeout)
		defer cancel()
		return s.loadDictionaries(ctx)
	}
	go s.worker()
	s.kickIndexer() // texts queued before a crash or restart
	return s, nil
}

// Close stops the background worker and closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.closeErr = errors.Join(s.rq.cache.close(), s.wc.close(), s.r.Close(), s.w.Close())
		s.text.close()
	})
	return s.closeErr
}

// write runs fn in a write transaction on the single writer connection.
func (s *Store) write(ctx context.Context, fn func(tx *txn) error) error {
	s.writers.Add(1)
	defer func() {
		s.lastWrite.Store(s.clock())
		s.writers.Add(-1)
	}()
	return s.writeTx(ctx, fn)
}

// writeTx is write for background work, which foreground writes need not
// wait for.
func (s *Store) writeTx(ctx context.Context, fn func(tx *txn) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	err = fn(&txn{Tx: tx, cache: s.wc})
	if err != nil {
		tx.Rollback()
	} else {
		err = tx.Commit()
	}
	s.wc.preparePending(ctx)
	return err
}

// clock is the time since the store was opened, in nanoseconds.
func (s *Store) clock() int64 { return int64(time.Since(s.started)) }

// read runs fn in one read transaction: every query sees the same snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *txn) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	err = fn(&txn{Tx: tx, cache: s.rq.cache})
	if err != nil {
		tx.Rollback()
	} else {
		err = tx.Commit()
	}
	s.rq.cache.preparePending(ctx)
	return err
}

// stmtCache keeps one prepared statement per query text of a pool. The
// driver would otherwise parse every statement on every call, which was a
// third of the cost of a one-message append. Only fixed query texts go
// through it; search builds its SQL per query and bypasses it.
//
// Preparing a pool-wide statement takes a connection of the pool, so it must
// not happen inside a transaction (the writer has one connection): a
// transaction that misses prepares for itself and leaves the query pending,
// and the pool-wide statement is made after the transaction ends.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// lookup returns the prepared statement for query, or nil after noting the
// miss.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[query]
	if !ok {
		c.pending[query] = true
	}
	return st
}

// get returns the prepared statement for query, preparing it on a miss. The
// caller must hold no connection of the pool.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := c.lookup(query); st != nil {
		return st, nil
	}
	c.preparePending(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	return nil, fmt.Errorf("prepare %q failed", query)
}

// preparePending prepares the queries transactions missed. Preparing
// waits for a connection, so it runs without the lock that transactions
// need to look statements up. A query that fails to prepare is dropped: its
// users report the error themselves.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	var queries []string
	for query := range c.pending {
		if _, ok := c.m[query]; !ok {
			queries = append(queries, query)
		}
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, query := range queries {
		st, err := c.db.PrepareContext(ctx, query)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, ok := c.m[query]; ok {
			st.Close() // prepared meanwhile by another caller
		} else {
			c.m[query] = st
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.m {
		errs = append(errs, st.Close())
	}
	clear(c.m)
	return errors.Join(errs...)
}

// pool runs single statements on the read pool through its cache.
type pool struct{ cache *stmtCache }

func (p pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.cache.get(ctx, query)
	if err != nil {
		return p.cache.db.QueryContext(ctx, query, args...) // reports the real error
	}
	return st.QueryContext(ctx, args...)
}

func (p pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.cache.get(ctx, query)
	if err != nil {
		return p.cache.db.QueryRowContext(ctx, query, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}

// txn is a transaction whose statements come from the cache, bound to the
// transaction once each.
type txn struct {
	*sql.Tx
	cache *stmtCache
	bound map[string]*sql.Stmt
}

// stmt returns the transaction's statement for query; it is closed with the
// transaction.
func (t *txn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := t.bound[query]; ok {
		return st, nil
	}
	var st *sql.Stmt
	if p := t.cache.lookup(query); p != nil {
		st = t.Tx.StmtContext(ctx, p)
	} else {
		var err error
		if st, err = t.Tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
	}
	if t.bound == nil {
		t.bound = map[string]*sql.Stmt{}
	}
	t.bound[query] = st
	return st, nil
}

func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return t.Tx.QueryRowContext(ctx, query, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}

// mapErr turns constraint violations into the engine's sentinel errors.
func mapErr(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w (%v)", engine.ErrExists, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w (%v)", engine.ErrNotFound, err)
		}
	}
	return err
}

// wrap prefixes err with the operation and maps constraint errors.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite: %s: %w", op, mapErr(err))
}
