package sqlite

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
)

// Search limits. A subtree within sqlMaxDepth and sqlMaxLeaves becomes one
// SQL expression; larger trees are combined as bitmaps, so no client can
// build a query SQLite refuses (engine.SearchQuery.Validate bounds the depth).
const (
	sqlMaxDepth  = 24
	sqlMaxLeaves = 64
)

// Search returns the UIDs of the mailbox matching q, from one snapshot.
//
// Subtrees without UID sets or text keys become one SQL WHERE expression
// over the message rows; UID sets, text keys and the boolean nodes that hold
// them are combined as roaring bitmaps, each part limited to the UIDs still
// in question. Text keys are case-insensitive substring matches: the trigram
// index (and the queue of texts not indexed yet) yields candidates, and each
// candidate's stored text is decompressed and checked in Go.
func (s *Store) Search(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, q *engine.SearchQuery) (*roaring.Bitmap, error) {
	if q == nil {
		q = &engine.SearchQuery{Op: engine.SearchAll}
	}
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: search: %w", err)
	}
	var out *roaring.Bitmap
	err := s.read(ctx, func(tx *txn) error {
		mb, err := loadMailbox(ctx, tx, user, mailbox)
		if err != nil {
			return err
		}
		e := &evaluator{ctx: ctx, tx: tx, codec: s.text, mailbox: mb.id, user: int64(user)}
		out, err = e.eval(q, nil)
		return err
	})
	if err != nil {
		return nil, wrap("search", err)
	}
	return out, nil
}

type evaluator struct {
	ctx     context.Context
	tx      *txn
	codec   *textCodec
	mailbox int64
	user    int64
	all     *roaring.Bitmap // the mailbox's UIDs, loaded when first needed
}

func (e *evaluator) existing() (*roaring.Bitmap, error) {
	if e.all == nil {
		all := roaring.New()
		if err := allUIDs(e.ctx, e.tx, e.mailbox, all); err != nil {
			return nil, err
		}
		e.all = all
	}
	return e.all, nil
}

// textKey reports whether q is a leaf on the message text.
func textKey(q *engine.SearchQuery) bool {
	return q.Op == engine.SearchHeader || q.Op == engine.SearchBody || q.Op == engine.SearchText
}

// sqlShape reports the depth and leaf count of q and whether it holds a
// leaf SQL cannot evaluate: a UID set or a text key.
func sqlShape(q *engine.SearchQuery) (depth, leaves int, goLeaf bool) {
	switch q.Op {
	case engine.SearchAnd, engine.SearchOr, engine.SearchNot:
		for _, c := range q.Children {
			d, l, g := sqlShape(c)
			depth = max(depth, d)
			leaves += l
			goLeaf = goLeaf || g
		}
		return depth + 1, leaves, goLeaf
	case engine.SearchUIDs:
		return 1, 1, true
	}
	return 1, 1, textKey(q)
}

func sqlable(q *engine.SearchQuery) bool {
	d, l, g := sqlShape(q)
	return !g && d <= sqlMaxDepth && l <= sqlMaxLeaves
}

// eval returns the UIDs matching q among domain (nil: the whole mailbox).
// A non-nil domain only ever holds existing UIDs.
func (e *evaluator) eval(q *engine.SearchQuery, domain *roaring.Bitmap) (*roaring.Bitmap, error) {
	if domain != nil && domain.IsEmpty() {
		return roaring.New(), nil
	}
	if sqlable(q) {
		return e.query(q, domain)
	}
	switch q.Op {
	case engine.SearchUIDs:
		base := domain
		if base == nil {
			all, err := e.existing()
			if err != nil {
				return nil, err
			}
			base = all
		}
		if q.UIDs == nil {
			return roaring.New(), nil
		}
		return roaring.And(base, q.UIDs), nil
	case engine.SearchHeader, engine.SearchBody, engine.SearchText:
		return e.text(q, domain)
	case engine.SearchNot:
		inner, err := e.eval(q.Children[0], domain)
		if err != nil {
			return nil, err
		}
		base := domain
		if base == nil {
			if base, err = e.existing(); err != nil {
				return nil, err
			}
		}
		return roaring.AndNot(base, inner), nil
	case engine.SearchAnd:
		// UID sets first (free), then the SQL-able children as few
		// queries, then text keys, then the rest, each on what is left.
		var plain, texts, complex []*engine.SearchQuery
		for _, c := range q.Children {
			switch {
			case c.Op == engine.SearchUIDs:
				var err error
				if domain, err = e.eval(c, domain); err != nil {
					return nil, err
				}
			case sqlable(c):
				plain = append(plain, c)
			case textKey(c):
				texts = append(texts, c)
			default:
				complex = append(complex, c)
			}
		}
		complex = append(texts, complex...)
		for _, b := range batches(engine.SearchAnd, plain) {
			var err error
			if domain, err = e.query(b, domain); err != nil {
				return nil, err
			}
		}
		for _, c := range complex {
			var err error
			if domain, err = e.eval(c, domain); err != nil {
				return nil, err
			}
		}
		if domain == nil {
			return e.existing()
		}
		return domain, nil
	case engine.SearchOr:
		out := roaring.New()
		var plain []*engine.SearchQuery
		for _, c := range q.Children {
			if sqlable(c) {
				plain = append(plain, c)
				continue
			}
			r, err := e.eval(c, domain)
			if err != nil {
				return nil, err
			}
			out.Or(r)
		}
		for _, b := range batches(engine.SearchOr, plain) {
			r, err := e.query(b, domain)
			if err != nil {
				return nil, err
			}
			out.Or(r)
		}
		return out, nil
	}
	// The other leaves are SQL-able and handled above; validateQuery refused
	// any other operator.
	return e.query(q, domain)
}

// batches joins SQL-able nodes under op into as few nodes as keep
// sqlMaxLeaves leaves each; a node is never split, so each batch is one
// query whose depth is at most one more than its deepest node.
func batches(op engine.SearchOp, nodes []*engine.SearchQuery) []*engine.SearchQuery {
	var out []*engine.SearchQuery
	var cur *engine.SearchQuery
	leaves := 0
	for _, n := range nodes {
		_, l, _ := sqlShape(n)
		if cur == nil || leaves+l > sqlMaxLeaves {
			cur = &engine.SearchQuery{Op: op}
			out = append(out, cur)
			leaves = 0
		}
		cur.Children = append(cur.Children, n)
		leaves += l
	}
	return out
}

// query runs q as one SQL expression, limited to domain.
func (e *evaluator) query(q *engine.SearchQuery, domain *roaring.Bitmap) (*roaring.Bitmap, error) {
	if domain != nil && domain.IsEmpty() {
		return roaring.New(), nil
	}
	var b sqlBuilder
	b.sql.WriteString(`SELECT m.uid FROM messages m WHERE m.mailbox_id = ?`)
	b.args = append(b.args, e.mailbox)
	if domain != nil {
		b.sql.WriteString(` AND m.uid BETWEEN ? AND ?`)
		b.args = append(b.args, domain.Minimum(), domain.Maximum())
	}
	b.sql.WriteString(` AND (`)
	b.expr(q)
	b.sql.WriteString(`)`)
	// Not through the statement cache: search SQL varies with every query.
	rows, err := e.tx.Tx.QueryContext(e.ctx, b.sql.String(), b.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := roaring.New()
	buf := make([]uint32, 0, 1024)
	for rows.Next() {
		var uid uint32
		if err := rows.Scan(&uid); err != nil {
			return nil, err
		}
		if buf = append(buf, uid); len(buf) == cap(buf) {
			out.AddMany(buf)
			buf = buf[:0]
		}
	}
	out.AddMany(buf)
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if domain != nil {
		out.And(domain)
	}
	return out, nil
}

// sqlBuilder writes a search tree as an SQL expression over messages m.
// Every expression it writes is 0 or 1, never NULL, so NOT is exact.
type sqlBuilder struct {
	sql  strings.Builder
	args []any
}

func (b *sqlBuilder) add(s string, args ...any) {
	b.sql.WriteString(s)
	b.args = append(b.args, args...)
}

func (b *sqlBuilder) expr(q *engine.SearchQuery) {
	switch q.Op {
	case engine.SearchAll:
		b.add(`1`)
	case engine.SearchAnd, engine.SearchOr:
		if len(q.Children) == 0 {
			if q.Op == engine.SearchAnd {
				b.add(`1`)
			} else {
				b.add(`0`)
			}
			return
		}
		sep := ` AND `
		if q.Op == engine.SearchOr {
			sep = ` OR `
		}
		b.add(`(`)
		for i, c := range q.Children {
			if i > 0 {
				b.add(sep)
			}
			b.expr(c)
		}
		b.add(`)`)
	case engine.SearchNot:
		b.add(`NOT (`)
		b.expr(q.Children[0])
		b.add(`)`)
	case engine.SearchFlag:
		if bit := engine.SystemFlagBit(q.Flag); bit != 0 {
			b.add(fmt.Sprintf(`(m.flags & %d != 0)`, bit))
		} else {
			b.add(`(m.keywords != '' AND eider_has_keyword(m.keywords, ?))`, q.Flag)
		}
	case engine.SearchInternalDate:
		b.dateRange(`m.internal_date`, q)
	case engine.SearchSentDate:
		b.dateRange(`m.sent_date`, q)
	case engine.SearchSize:
		b.add(`(1`)
		if q.Larger > 0 {
			b.add(` AND m.size > ?`, q.Larger)
		}
		if q.Smaller > 0 {
			b.add(` AND m.size < ?`, q.Smaller)
		}
		b.add(`)`)
	case engine.SearchModSeq:
		if uint64(q.ModSeq) > math.MaxInt64 {
			b.add(`0`)
			return
		}
		b.add(`(m.modseq >= ?)`, int64(q.ModSeq))
	case engine.SearchEmailID:
		b.add(`(m.email_id = ?)`, int64(q.EmailID))
	default:
		// UID sets and text keys never reach SQL (sqlable refuses them);
		// anything else was refused by validateQuery.
		b.add(`0`)
	}
}

func (b *sqlBuilder) dateRange(col string, q *engine.SearchQuery) {
	if q.Since.IsZero() && q.Before.IsZero() {
		b.add(`1`)
		return
	}
	b.add(`(` + col + ` IS NOT NULL`)
	if !q.Since.IsZero() {
		b.add(` AND `+col+` >= ?`, unixNano(q.Since))
	}
	if !q.Before.IsZero() {
		b.add(` AND `+col+` < ?`, unixNano(q.Before))
	}
	b.add(`)`)
}
