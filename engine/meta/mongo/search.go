package mongo

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eidermail/eider/engine"
)

// searchRow is what a search reads of each message: small fields only.
type searchRow struct {
	uid, modseq, emailID int64
	flags                int32
	keywords             []string // folded
	internal             int64
	sent                 *int64
	size                 int64
	text                 int64
}

var searchProjection = bson.D{{Key: "uid", Value: 1}, {Key: "modseq", Value: 1}, {Key: "email_id", Value: 1}, {Key: "f", Value: 1},
	{Key: "kwf", Value: 1}, {Key: "idate", Value: 1}, {Key: "sdate", Value: 1}, {Key: "size", Value: 1}, {Key: "text", Value: 1}}

// Search returns the UIDs of the mailbox matching q. The mailbox's
// visible messages are read once as a projection of their small fields
// and every key but the text keys is evaluated on it in Go. Text keys
// (HEADER, BODY, TEXT) find candidate texts with the trigram index of the
// texts collection and check each candidate's decompressed text.
func (s *Store) Search(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, q *engine.SearchQuery) (*roaring.Bitmap, error) {
	if q == nil {
		q = &engine.SearchQuery{Op: engine.SearchAll}
	}
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("mongo: search: %w", err)
	}
	mb, err := s.loadMailbox(ctx, user, mailbox)
	if err != nil {
		return nil, wrap("search", err)
	}
	_, limit := mb.visible()
	e := &evaluator{s: s, ctx: ctx, user: int64(user), rows: map[uint32]*searchRow{}, all: roaring.New(), texts: map[int64]*decoded{}}
	cur, err := s.messages.Find(ctx, bson.D{{Key: "mailbox", Value: mb.ID}, {Key: "uid", Value: d("$lt", limit)}, committedOnly},
		options.Find().SetProjection(searchProjection))
	if err != nil {
		return nil, wrap("search", err)
	}
	for cur.Next(ctx) {
		var m messageDoc
		if err := cur.Decode(&m); err != nil {
			cur.Close(ctx)
			return nil, wrap("search", err)
		}
		e.rows[uint32(m.UID)] = &searchRow{uid: m.UID, modseq: m.ModSeq, emailID: m.EmailID, flags: m.Flags, keywords: m.KeywordKeys,
			internal: m.Internal, sent: m.Sent, size: m.Size, text: m.Text}
		e.all.Add(uint32(m.UID))
	}
	err = cur.Err()
	cur.Close(ctx)
	if err != nil {
		return nil, wrap("search", err)
	}
	out, err := e.eval(q, e.all)
	return out, wrap("search", err)
}

type decoded struct {
	header, body []byte
	hasHeader    bool
	hasBody      bool
}

type evaluator struct {
	s     *Store
	ctx   context.Context
	user  int64
	rows  map[uint32]*searchRow
	all   *roaring.Bitmap
	texts map[int64]*decoded // decoded texts, shared by the text keys of one search
}

// eval returns the UIDs among domain matching q.
func (e *evaluator) eval(q *engine.SearchQuery, domain *roaring.Bitmap) (*roaring.Bitmap, error) {
	if domain.IsEmpty() {
		return roaring.New(), nil
	}
	switch q.Op {
	case engine.SearchAnd:
		out := domain
		// Cheap keys first, text keys on what is left.
		for _, pass := range []bool{false, true} {
			for _, c := range q.Children {
				if hasText(c) != pass {
					continue
				}
				r, err := e.eval(c, out)
				if err != nil {
					return nil, err
				}
				out = r
			}
		}
		return out, nil
	case engine.SearchOr:
		out := roaring.New()
		rest := domain.Clone()
		for _, c := range q.Children {
			r, err := e.eval(c, rest)
			if err != nil {
				return nil, err
			}
			out.Or(r)
			rest.AndNot(r)
		}
		return out, nil
	case engine.SearchNot:
		r, err := e.eval(q.Children[0], domain)
		if err != nil {
			return nil, err
		}
		return roaring.AndNot(domain, r), nil
	case engine.SearchUIDs:
		if q.UIDs == nil {
			return roaring.New(), nil
		}
		return roaring.And(domain, q.UIDs), nil
	case engine.SearchHeader, engine.SearchBody, engine.SearchText:
		return e.text(q, domain)
	}
	out := roaring.New()
	var err error
	domain.Iterate(func(uid uint32) bool {
		if ok := e.leaf(q, e.rows[uid]); ok {
			out.Add(uid)
		}
		return true
	})
	return out, err
}

func hasText(q *engine.SearchQuery) bool {
	switch q.Op {
	case engine.SearchHeader, engine.SearchBody, engine.SearchText:
		return true
	}
	for _, c := range q.Children {
		if hasText(c) {
			return true
		}
	}
	return false
}

// leaf evaluates a key on the message's small fields.
func (e *evaluator) leaf(q *engine.SearchQuery, r *searchRow) bool {
	switch q.Op {
	case engine.SearchAll:
		return true
	case engine.SearchFlag:
		if bit := engine.SystemFlagBit(q.Flag); bit != 0 {
			return engine.SystemFlags(r.flags)&bit != 0
		}
		key := keywordKey(q.Flag)
		for _, k := range r.keywords {
			if k == key || strings.EqualFold(k, q.Flag) {
				return true
			}
		}
		return false
	case engine.SearchInternalDate:
		return inRange(&r.internal, q)
	case engine.SearchSentDate:
		return inRange(r.sent, q)
	case engine.SearchSize:
		return (q.Larger == 0 || r.size > q.Larger) && (q.Smaller == 0 || r.size < q.Smaller)
	case engine.SearchModSeq:
		return uint64(q.ModSeq) <= math.MaxInt64 && r.modseq >= int64(q.ModSeq)
	case engine.SearchEmailID:
		return r.emailID == int64(q.EmailID)
	}
	return false
}

func inRange(t *int64, q *engine.SearchQuery) bool {
	if q.Since.IsZero() && q.Before.IsZero() {
		return true
	}
	if t == nil {
		return false
	}
	return (q.Since.IsZero() || *t >= unixNano(q.Since)) && (q.Before.IsZero() || *t < unixNano(q.Before))
}

// textBatch is how many texts one query reads.
const textBatch = 256

// text evaluates a text key among domain.
func (e *evaluator) text(q *engine.SearchQuery, domain *roaring.Bitmap) (*roaring.Bitmap, error) {
	value := []byte(engine.FoldText(q.Value))
	if len(value) == 0 && q.Op != engine.SearchHeader {
		return domain.Clone(), nil // every message holds the empty string
	}
	name := []byte(engine.FoldText(q.Field))
	wantHeader, wantBody := q.Op != engine.SearchBody, q.Op != engine.SearchHeader
	match := func(t *decoded) bool {
		switch q.Op {
		case engine.SearchHeader:
			return engine.HeaderMatch(t.header, name, value)
		case engine.SearchBody:
			return bytes.Contains(t.body, value)
		}
		return bytes.Contains(engine.SearchableHeader(t.header, nil), value) || bytes.Contains(t.body, value)
	}
	// Candidate texts from the index, unless the needle is too short.
	var candidates map[int64]bool
	if tri, ok := needleTrigrams(string(value)); ok {
		ids, err := e.candidates(tri)
		if err != nil {
			return nil, err
		}
		candidates = ids
	}
	byText := map[int64][]uint32{}
	domain.Iterate(func(uid uint32) bool {
		r := e.rows[uid]
		if r.text != 0 && (candidates == nil || candidates[r.text]) {
			byText[r.text] = append(byText[r.text], uid)
		}
		return true
	})
	if err := e.load(byText, wantHeader, wantBody); err != nil {
		return nil, err
	}
	out := roaring.New()
	for id, uids := range byText {
		t := e.texts[id]
		if t != nil && match(t) {
			out.AddMany(uids)
		}
	}
	return out, nil
}

// candidates returns the ids of the user's texts holding every trigram,
// and of the big ones, which carry no trigrams.
func (e *evaluator) candidates(tri []int32) (map[int64]bool, error) {
	filter := bson.D{{Key: "user", Value: e.user}, {Key: "$or", Value: bson.A{
		d("tri", d("$all", tri)), d("big", true)}}}
	cur, err := e.s.texts.Find(e.ctx, filter, options.Find().SetProjection(d("_id", 1)))
	if err != nil {
		return nil, err
	}
	defer cur.Close(e.ctx)
	out := map[int64]bool{}
	for cur.Next(e.ctx) {
		id, ok := intField(cur.Current, "_id")
		if ok {
			out[id] = true
		}
	}
	return out, cur.Err()
}

// load decodes the texts of ids not decoded yet (or lacking a part).
func (e *evaluator) load(ids map[int64][]uint32, wantHeader, wantBody bool) error {
	var need []int64
	for id := range ids {
		t := e.texts[id]
		if t == nil || (wantHeader && !t.hasHeader) || (wantBody && !t.hasBody) {
			need = append(need, id)
		}
	}
	for start := 0; start < len(need); start += textBatch {
		part := need[start:min(start+textBatch, len(need))]
		cur, err := e.s.texts.Find(e.ctx, bson.D{{Key: "_id", Value: d("$in", part)}, {Key: "user", Value: e.user}},
			options.Find().SetProjection(d("data", 1)))
		if err != nil {
			return err
		}
		for cur.Next(e.ctx) {
			var t textDoc
			if err := cur.Decode(&t); err != nil {
				cur.Close(e.ctx)
				return err
			}
			h, b, err := e.s.text.unpack(t.Data, true, true)
			if err != nil {
				cur.Close(e.ctx)
				return fmt.Errorf("text %d: %w", t.ID, err)
			}
			e.texts[t.ID] = &decoded{header: h, body: b, hasHeader: true, hasBody: true}
		}
		err = cur.Err()
		cur.Close(e.ctx)
		if err != nil {
			return err
		}
	}
	return nil
}
